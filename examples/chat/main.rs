//! The chat example: a web page, using the real npm `wslink` client, talks to this server.
//!
//! ```text
//! npm ci --prefix examples/chat/www          # the page's wslink client, from npm
//! cargo run --features cli --example chat -- --port 8080    # then open http://127.0.0.1:8080/
//! ```
//! (`scripts/run-chat.sh` does both.)
//!
//! The server is one protocol, `Chat` in `chat.rs` next to this file; read it top to
//! bottom:
//! * `wslink.say.hello(message)` publishes `"<name>: <message>"` on
//!   `wslink.communication.channel` and returns it;
//! * `wslink.start.talking(period=5)` / `wslink.stop.talking()` make the server talk on
//!   its own every `period` seconds.
//!
//! The page subscribes to the topic and shows every line it receives. This file only
//! reads the flags, checks the page is installed, and serves.

use std::path::PathBuf;

use clap::Parser;
use wslink::cli::{bind, init_tracing, serve_bound, ServerArgs};
use wslink::server::Server;

pub mod chat;

#[derive(Parser)]
#[command(about = "wslink chat example: open the printed URL in a browser")]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    /// The name the server speaks under.
    #[arg(long, default_value = "Rust server")]
    name: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut cli = Cli::parse();
    init_tracing(cli.server.debug);
    // The page lives next to this file; its npm packages are installed in it.
    let www = cli
        .server
        .content
        .get_or_insert_with(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/chat/www"))
        })
        .clone();
    // The page loads the npm clients from its node_modules (?gen=1 for 1.x).
    if !www.join("node_modules/wslink2/dist/wslink.js").is_file() {
        eprintln!(
            "The page needs the npm wslink clients: run `npm ci --prefix {}` first.",
            www.display()
        );
        std::process::exit(2);
    }

    let bound = bind(&cli.server).await?;
    println!(
        "Open http://{0}/ in a browser to chat (http://{0}/?gen=1 for the 1.x client).",
        bound.local_addr
    );
    let server = cli
        .server
        .apply(Server::builder().protocol(chat::Chat::new(&cli.name)))
        .build();
    serve_bound(server, bound).await
}
