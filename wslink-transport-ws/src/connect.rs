//! The client side: open a WebSocket to a wslink server.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::MaybeTlsStream;
use wslink_core::{PeerInfo, TransportError};

use crate::stream::{transport_error, WsTransport};

/// A client connection to a server.
pub type ClientTransport = WsTransport<MaybeTlsStream<TcpStream>>;

/// Settings of a client connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Largest WebSocket message accepted from the server (default 64 MiB; wslink servers
    /// send chunks of `maxMsgSize`, 4 MiB by default).
    pub max_message_size: usize,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_message_size: 64 << 20,
        }
    }
}

/// Opens a WebSocket to `url` (`ws://host:port/path`).
pub async fn connect(url: &str) -> Result<ClientTransport, TransportError> {
    connect_with(url, &ConnectOptions::default()).await
}

/// Opens a WebSocket to `url` with `options`.
pub async fn connect_with(
    url: &str,
    options: &ConnectOptions,
) -> Result<ClientTransport, TransportError> {
    let config = WebSocketConfig::default()
        .max_message_size(Some(options.max_message_size))
        .max_frame_size(Some(options.max_message_size));
    let (ws, _response) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(transport_error)?;
    let remote_addr = match ws.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.peer_addr().ok(),
        _ => None,
    };
    Ok(WsTransport::new(
        ws,
        PeerInfo {
            remote_addr,
            origin: None,
            path: None,
        },
    ))
}
