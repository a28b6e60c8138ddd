//! The streamer: renders the views that are due a frame, encodes them, publishes them.
//!
//! One task for the whole server. It sleeps until a handler changes a view (or until
//! the fps limit lets an animated view have its next frame), takes the views due, and
//! for each renders and encodes on a blocking thread, then publishes one message on the
//! image topic:
//!
//! `{image: <JPEG bytes>, format: "jpeg", id, size: [w, h], memsize, workTime, stale}`
//!
//! (`memsize` is the JPEG's length in bytes, `workTime` the render and encode time in
//! milliseconds, `stale` is `true` when the view changed again while the frame was being
//! made: a newer one follows.)
//!
//! Nothing is rendered for a view nobody observes. A slow client does not make frames
//! pile up: the server is built with a short publication queue per connection that drops
//! the oldest frame for that client (see `Options::frame_queue`), so it always gets the
//! newest ones. Every second of idle time, observers of closed connections are pruned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wslink::server::ServerHandle;
use wslink::{Bytes, Map, Value};

use super::cpu;
use super::encode;
use super::mesh::Mesh;
use super::protocol::TOPIC;
use super::render;
use super::views::{Job, Views};

/// How often closed connections' observers are looked for when nothing else happens.
const PRUNE_EVERY: Duration = Duration::from_millis(250);

/// What frames have cost so far, summed over every frame (CPU time of the thread that
/// did the work). Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Costs(Arc<CostCounters>);

#[derive(Debug, Default)]
struct CostCounters {
    frames: AtomicU64,
    render_ns: AtomicU64,
    encode_ns: AtomicU64,
    bytes: AtomicU64,
    publish_errors: AtomicU64,
}

/// A reading of [`Costs`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CostSnapshot {
    pub(crate) frames: u64,
    pub(crate) render_ns: u64,
    pub(crate) encode_ns: u64,
    pub(crate) bytes: u64,
    pub(crate) publish_errors: u64,
}

impl CostSnapshot {
    /// As a wslink value (for `remote_view.stats`).
    pub(crate) fn into_value(self) -> Value {
        wslink::core::into_value(self).unwrap_or_default()
    }
}

impl Costs {
    /// The sums so far.
    pub(crate) fn snapshot(&self) -> CostSnapshot {
        let c = &self.0;
        CostSnapshot {
            frames: c.frames.load(Ordering::Relaxed),
            render_ns: c.render_ns.load(Ordering::Relaxed),
            encode_ns: c.encode_ns.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            publish_errors: c.publish_errors.load(Ordering::Relaxed),
        }
    }

    fn add(&self, frame: &Made) {
        let c = &self.0;
        c.frames.fetch_add(1, Ordering::Relaxed);
        c.render_ns
            .fetch_add(nanos(frame.render), Ordering::Relaxed);
        c.encode_ns
            .fetch_add(nanos(frame.encode), Ordering::Relaxed);
        c.bytes
            .fetch_add(frame.jpeg.len() as u64, Ordering::Relaxed);
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A frame made: the JPEG, and what rendering and encoding cost.
#[derive(Debug)]
struct Made {
    jpeg: Bytes,
    size: (u16, u16),
    render: Duration,
    encode: Duration,
    wall: Duration,
}

/// Runs the streamer until the server stops.
pub(crate) async fn run(views: Views, costs: Costs, handle: ServerHandle) {
    let mesh = Arc::new(Mesh::torus(1.0, 0.42, 96, 48));
    loop {
        views.prune();
        let (jobs, wait) = views.take_due(Instant::now());
        for job in &jobs {
            match make(mesh.clone(), job.clone()).await {
                Ok(made) => publish(&views, &costs, &handle, job, made).await,
                Err(e) => tracing::error!(view = %job.id, error = %e, "cannot make a frame"),
            }
        }
        if !jobs.is_empty() {
            continue;
        }
        let wait = wait.unwrap_or(PRUNE_EVERY).min(PRUNE_EVERY);
        tokio::select! {
            _ = views.woken().notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = handle.stopped() => return,
        }
    }
}

/// Renders and encodes one frame on a blocking thread.
async fn make(mesh: Arc<Mesh>, job: Job) -> Result<Made, String> {
    let task = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let (frame, render) =
            cpu::timed(|| render::render(&mesh, &job.camera, job.spin, job.size.0, job.size.1));
        let (jpeg, encode) = cpu::timed(|| encode::jpeg(&frame, job.quality));
        let jpeg = jpeg.map_err(|e| e.to_string())?;
        Ok(Made {
            jpeg: Bytes::from(jpeg),
            size: job.size,
            render,
            encode,
            wall: started.elapsed(),
        })
    });
    task.await.map_err(|e| e.to_string())?
}

/// Publishes a frame on the image topic.
async fn publish(views: &Views, costs: &Costs, handle: &ServerHandle, job: &Job, made: Made) {
    costs.add(&made);
    let stale = views.finish(job);
    let mut message = Map::with_capacity(7);
    message.insert("memsize".into(), Value::Int(made.jpeg.len() as i64));
    message.insert("image".into(), Value::Bin(made.jpeg));
    message.insert("format".into(), Value::Str("jpeg".into()));
    message.insert("id".into(), Value::Str(job.id.clone()));
    let size = [made.size.0, made.size.1].map(|s| Value::Int(i64::from(s)));
    message.insert("size".into(), Value::Array(size.to_vec()));
    message.insert(
        "workTime".into(),
        Value::Float(made.wall.as_secs_f64() * 1000.0),
    );
    message.insert("stale".into(), Value::Bool(stale));
    if let Err(e) = handle.publish(TOPIC, Value::Map(message)).await {
        costs.0.publish_errors.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(view = %job.id, error = %e, "cannot publish a frame");
    }
}
