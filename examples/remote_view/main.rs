//! A Rust image-delivery server for vtk.js's `RemoteView`: the scene is rendered on the
//! CPU, each frame is a JPEG published over wslink, and the browser's mouse turns the
//! camera (left drag), zooms it (right drag, wheel).
//!
//! ```text
//! npm ci --prefix examples/remote_view/www && npm run --prefix examples/remote_view/www build
//! cargo run --release --example remote_view -- --port 8080   # then open http://127.0.0.1:8080/
//! ```
//! (`scripts/run-remote-view.sh` does all three.)
//!
//! The page (`www/`) is vtk.js's own `RemoteView` with the npm wslink client, bundled by
//! esbuild. The server is in `app/`: the `viewport.*` methods the client calls
//! (`app/protocol.rs`), the views' state (`app/views.rs`), the task that renders,
//! encodes and publishes (`app/stream.rs`), and the rasterizer (`app/render.rs`).
//!
//! Besides the `wslink::cli` flags: `--views N`, `--fps`, `--max-fps`,
//! `--max-image-side`, `--max-observers`, `--frame-queue` (see `--help`).

use std::path::PathBuf;

use clap::Parser;
use wslink::cli::{bind, init_tracing, serve_bound, ServerArgs};
use wslink::server::Server;

mod app;

#[derive(Parser)]
#[command(about = "wslink remote view example (vtk.js RemoteView): open the printed URL")]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    limits: app::Limits,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut cli = Cli::parse();
    init_tracing(cli.server.debug);
    let www = cli
        .server
        .content
        .get_or_insert_with(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/remote_view/www"
            ))
        })
        .clone();
    if !www.join("dist/remote_view.js").is_file() {
        eprintln!(
            "The page is not built: run `npm ci --prefix {0} && npm run --prefix {0} build` \
             (or scripts/run-remote-view.sh).",
            www.display()
        );
        std::process::exit(2);
    }

    let bound = bind(&cli.server).await?;
    let (builder, app) = app::install(Server::builder(), cli.limits);
    let server = cli.server.apply(builder).build();
    let scheme = if bound.tls { "https" } else { "http" };
    println!("remote view: open {scheme}://{}/", bound.local_addr);
    app.start(server.handle());
    serve_bound(server, bound).await
}
