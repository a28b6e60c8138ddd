//! The remote_view example's server (its `app` module) with Rust clients in process: the
//! protocol's answers, and the slow-client policy. A client that stops reading gets the
//! newest frame when it reads again, not a backlog of old ones, and a client that reads
//! keeps its frame rate meanwhile.

#[allow(dead_code)] // the example's parts that only its binary uses
#[path = "../examples/remote_view/app/mod.rs"]
mod app;

use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::watch;
use wslink::client::{Client, Subscription};
use wslink::core::transport::{FrameStream, Transport};
use wslink::server::Server;
use wslink::{memory, Frame, TransportError, Value};

/// A connection whose reading can be paused: while the gate is shut, nothing is read,
/// so the server's writes back up as they would towards a slow browser.
struct Gated<T> {
    inner: T,
    open: watch::Receiver<bool>,
}

struct GatedStream<S> {
    inner: S,
    open: watch::Receiver<bool>,
}

impl<T: Transport> Transport for Gated<T> {
    type Sink = T::Sink;
    type Stream = GatedStream<T::Stream>;

    fn split(self) -> (Self::Sink, Self::Stream) {
        let (sink, stream) = self.inner.split();
        (
            sink,
            GatedStream {
                inner: stream,
                open: self.open,
            },
        )
    }
}

#[async_trait]
impl<S: FrameStream> FrameStream for GatedStream<S> {
    async fn recv(&mut self) -> Option<Result<Frame, TransportError>> {
        // The sender lives as long as the test; a dropped one means: read freely.
        let _ = self.open.wait_for(|open| *open).await;
        self.inner.recv().await
    }
}

async fn call(client: &Client, method: &str, args: Vec<Value>) -> Result<Value, String> {
    client
        .call(method, args, Default::default())
        .await
        .map_err(|e| e.to_string())
}

/// The frames received within `window`.
async fn drain(frames: &mut Subscription, window: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + window;
    while let Ok(Some(frame)) = tokio::time::timeout_at(deadline, frames.recv()).await {
        got.push(frame);
    }
    got
}

fn image(frame: &Value) -> &[u8] {
    frame
        .get("image")
        .and_then(Value::as_bytes)
        .expect("a frame has its image bytes")
}

struct Setup {
    app: app::App,
    connector: memory::MemoryConnector,
}

fn serve(limits: app::Limits) -> Setup {
    let (builder, app) = app::install(Server::builder(), limits);
    let server = builder.build();
    let (listener, connector) = memory::listener(1);
    app.start(server.handle());
    tokio::spawn(server.serve(listener));
    Setup { app, connector }
}

async fn observer(setup: &Setup, open: watch::Receiver<bool>) -> (Client, Subscription) {
    let transport = Gated {
        inner: setup.connector.connect().await.unwrap(),
        open,
    };
    let client = Client::connect(transport, wslink::server::DEFAULT_SECRET)
        .await
        .unwrap();
    let frames = client.subscribe(app::protocol::TOPIC).unwrap();
    let added = call(
        &client,
        "viewport.image.push.observer.add",
        vec!["-1".into()],
    )
    .await
    .unwrap();
    assert_eq!(added.get("success"), Some(&Value::Bool(true)));
    assert_eq!(added.get("viewId").and_then(Value::as_str), Some("1"));
    (client, frames)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frames_carry_what_vtk_js_reads_and_bad_arguments_are_refused() {
    let setup = serve(app::Limits::default());
    let (_open, gate) = watch::channel(true);
    let (client, mut frames) = observer(&setup, gate).await;
    call(
        &client,
        "viewport.image.push.original.size",
        vec!["1".into(), 96.into(), 64.into()],
    )
    .await
    .unwrap();
    call(
        &client,
        "viewport.image.push.quality",
        vec!["1".into(), 50.into(), 0.5.into()],
    )
    .await
    .unwrap();
    call(
        &client,
        "viewport.image.push",
        vec![Value::Map(Default::default())],
    )
    .await
    .unwrap();
    // Frames made while the calls above were still changing the view say `stale: true`;
    // the last one, at the final size, says `false`.
    let frame = loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), frames.recv())
            .await
            .expect("a fresh frame at the new size")
            .unwrap();
        let stale = frame.get("stale").and_then(Value::as_bool);
        assert!(stale.is_some(), "every frame says whether it is stale");
        let width = frame
            .get("size")
            .and_then(Value::as_array)
            .and_then(|s| s[0].as_i64());
        if width == Some(48) && stale == Some(false) {
            break frame;
        }
    };
    assert_eq!(frame.get("format").and_then(Value::as_str), Some("jpeg"));
    assert_eq!(frame.get("id").and_then(Value::as_str), Some("1"));
    assert_eq!(
        frame.get("size").unwrap().as_array().unwrap()[1].as_i64(),
        Some(32)
    );
    assert_eq!(&image(&frame)[..2], &[0xFF, 0xD8]);
    assert_eq!(
        frame.get("memsize").and_then(Value::as_i64),
        Some(image(&frame).len() as i64)
    );
    assert!(frame
        .get("workTime")
        .and_then(Value::as_f64)
        .is_some_and(|t| t > 0.0));

    call(&client, "viewport.image.animation.fps.max", vec![12.into()])
        .await
        .unwrap();
    let fps = call(&client, "viewport.image.animation.fps.get", vec![])
        .await
        .unwrap();
    assert_eq!(fps.as_f64(), Some(12.0));
    for (method, args, reason) in [
        (
            "viewport.image.push.original.size",
            vec!["1".into(), 0.into(), 10.into()],
            "out of range",
        ),
        (
            "viewport.image.push.quality",
            vec!["1".into(), 300.into()],
            "quality 300",
        ),
        (
            "viewport.image.animation.fps.max",
            vec![(-1).into()],
            "fps -1",
        ),
        (
            "viewport.image.push.observer.add",
            vec!["7".into()],
            "no view",
        ),
        (
            "viewport.image.push.observer.remove",
            vec!["2".into()],
            "does not observe view 2",
        ),
        (
            "viewport.mouse.interaction",
            vec![Value::Map(Default::default())],
            "x must be a number",
        ),
    ] {
        let error = call(&client, method, args).await.expect_err(method);
        assert!(error.contains(reason), "{method}: {error}");
    }
    let removed = call(
        &client,
        "viewport.image.push.observer.remove",
        vec![1.into()],
    )
    .await
    .unwrap();
    assert_eq!(removed.get("viewId").and_then(Value::as_str), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_gets_the_newest_frame_not_a_backlog() {
    let limits = app::Limits {
        frame_queue: 2,
        ..app::Limits::default()
    };
    let setup = serve(limits);
    let (_always, open) = watch::channel(true);
    let (slow_gate, shut) = watch::channel(true);
    let (fast, mut fast_frames) = observer(&setup, open).await;
    let (_slow, mut slow_frames) = observer(&setup, shut).await;
    call(
        &fast,
        "viewport.image.push.original.size",
        vec!["1".into(), 64.into(), 48.into()],
    )
    .await
    .unwrap();
    call(&fast, "viewport.image.animation.fps.max", vec![20.into()])
        .await
        .unwrap();
    drain(&mut slow_frames, Duration::from_millis(300)).await;

    // The slow client stops reading while the view animates for two seconds.
    slow_gate.send_replace(false);
    call(&fast, "viewport.image.animation.start", vec!["1".into()])
        .await
        .unwrap();
    let started = Instant::now();
    let during = drain(&mut fast_frames, Duration::from_secs(2)).await;
    call(&fast, "viewport.image.animation.stop", vec!["1".into()])
        .await
        .unwrap();
    let made_during = (started.elapsed().as_secs_f64() * 20.0) as usize;
    // The reader kept its rate: the stalled one did not hold the server up.
    assert!(
        during.len() * 2 >= made_during,
        "{} of ~{made_during} frames",
        during.len()
    );
    let after = drain(&mut fast_frames, Duration::from_millis(500)).await;
    let newest = after.last().or(during.last()).expect("frames");

    // Reading again, the slow client gets a few frames (its short queue and the link's
    // buffer), ending with the newest one, not the forty it missed.
    slow_gate.send_replace(true);
    let caught_up = drain(&mut slow_frames, Duration::from_millis(800)).await;
    assert!(!caught_up.is_empty(), "the slow client gets frames again");
    assert!(
        caught_up.len() <= 2 + 1 + 3,
        "{} frames were queued for the slow client",
        caught_up.len()
    );
    assert_eq!(
        image(caught_up.last().unwrap()),
        image(newest),
        "its last frame is the newest"
    );
    assert!(setup.app.costs.snapshot().frames as usize >= during.len());
}
