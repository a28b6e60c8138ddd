//! A remote view server: it renders a scene on the CPU and streams it to vtk.js's
//! `RemoteView` with ParaView Web's image-delivery protocol.
//!
//! * [`protocol`]: the `viewport.*` methods the JS client calls;
//! * [`views`]: each view's camera, size, quality and observers;
//! * [`stream`]: the task that renders, encodes and publishes frames;
//! * [`render`], [`mesh`], [`camera`], [`math`]: the scene and a small rasterizer;
//! * [`encode`]: JPEG; [`cpu`]: what each step costs.
//!
//! [`install`] puts it together on a server builder.

pub(crate) mod camera;
pub(crate) mod cpu;
pub(crate) mod encode;
pub(crate) mod math;
pub(crate) mod mesh;
pub(crate) mod protocol;
pub(crate) mod render;
pub(crate) mod stream;
pub(crate) mod views;

use wslink::server::{ServerBuilder, ServerHandle, SlowClientPolicy};

use self::stream::Costs;
use self::views::Views;

/// The example's limits and defaults (each one a command-line flag of the example).
#[derive(Debug, Clone, Copy, PartialEq, clap::Args)]
pub(crate) struct Limits {
    /// Views served, with ids "1" to N.
    #[arg(long = "views", default_value_t = 4)]
    pub(crate) views: usize,
    /// The largest width or height a view may ask for, in pixels.
    #[arg(long = "max-image-side", default_value_t = 4096)]
    pub(crate) max_side: u16,
    /// The frame-rate limit a client may set with `viewport.image.animation.fps.max`.
    #[arg(long = "max-fps", default_value_t = 120.0)]
    pub(crate) max_fps: f64,
    /// The frame-rate limit at start.
    #[arg(long = "fps", default_value_t = 30.0)]
    pub(crate) default_fps: f64,
    /// Observers one view may have (over all clients).
    #[arg(long = "max-observers", default_value_t = 1000)]
    pub(crate) max_observers: usize,
    /// Frames queued for one connection; beyond it the oldest is dropped for that client.
    #[arg(long = "frame-queue", default_value_t = 2)]
    pub(crate) frame_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            views: 4,
            max_side: 4096,
            max_fps: 120.0,
            default_fps: 30.0,
            max_observers: 1000,
            frame_queue: 2,
        }
    }
}

/// The views and their costs, once installed.
#[derive(Debug, Clone)]
pub(crate) struct App {
    pub(crate) views: Views,
    pub(crate) costs: Costs,
}

impl App {
    /// Starts the streamer for the server of `handle` (it stops with the server).
    pub(crate) fn start(&self, handle: ServerHandle) -> tokio::task::JoinHandle<()> {
        tokio::spawn(stream::run(self.views.clone(), self.costs.clone(), handle))
    }
}

/// Adds the protocol's methods to `builder`, with a frame queue of `limits.frame_queue`
/// per connection that drops the oldest frame when full.
pub(crate) fn install(builder: ServerBuilder, limits: Limits) -> (ServerBuilder, App) {
    let app = App {
        views: Views::new(limits),
        costs: Costs::default(),
    };
    let queue = limits.frame_queue.max(1);
    let builder = builder
        .router(protocol::router(&app.views, &app.costs))
        .configure(move |c| {
            c.outbox_capacity = queue;
            c.slow_client = SlowClientPolicy::DropOldest;
        });
    (builder, app)
}
