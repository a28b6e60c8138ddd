//! WebSockets for wslink: the server's HTTP side and the client connector.
//!
//! * [`WsListener`] — an HTTP/1.1 server (hyper) that upgrades its endpoint (default
//!   `/ws`) to WebSocket connections for a wslink server, and serves static files
//!   (tower-http) on other paths.
//! * [`connect`] — opens a `ws://` connection for a wslink client.
//!
//! Both yield [`WsTransport`]s (tokio-tungstenite framing): binary and text frames go to
//! the codec; pings are answered; close frames carry the close code.
//!
//! ```no_run
//! use wslink_transport_ws::{connect, HttpOptions, WsListener};
//!
//! # async fn demo() -> std::io::Result<()> {
//! let listener = WsListener::bind("127.0.0.1:0", HttpOptions::default()).await?;
//! let url = format!("ws://{}/ws", listener.local_addr());
//! // hand `listener` to a wslink server: `server.serve(listener)`
//! let transport = connect(&url).await.expect("connects");
//! # drop(transport);
//! # Ok(()) }
//! ```

mod connect;
mod http;
mod stream;

pub use crate::connect::{connect, connect_with, ClientTransport, ConnectOptions};
pub use crate::http::{HttpOptions, ServerTransport, WsListener};
pub use crate::stream::{WsSink, WsStream, WsTransport};
