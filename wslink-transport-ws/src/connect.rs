//! The client side: open a WebSocket to a wslink server.
//!
//! `ws://` URLs open a plain TCP connection; with the `tls` feature (on by default)
//! `wss://` URLs do a TLS handshake first (rustls, `ring` provider) and check the server's
//! certificate against the platform's root certificates plus the extra roots of
//! [`ConnectOptions`] ([`trust_pem_file`](ConnectOptions::trust_pem_file),
//! [`trust_der`](ConnectOptions::trust_der)): a self-signed server certificate works once
//! it is trusted that way. A certificate that does not verify fails the connection with a
//! [`TransportError`].

#[cfg(feature = "tls")]
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::MaybeTlsStream;
use wslink_core::{PeerInfo, TransportError};

use crate::stream::{transport_error, WsTransport};
#[cfg(feature = "tls")]
use crate::tls::TlsError;
#[cfg(feature = "tls")]
use rustls_pki_types::CertificateDer;

/// A client connection to a server.
pub type ClientTransport = WsTransport<MaybeTlsStream<TcpStream>>;

/// Settings of a client connection.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Largest WebSocket message accepted from the server (default 64 MiB; wslink servers
    /// send chunks of `maxMsgSize`, 4 MiB by default).
    pub max_message_size: usize,
    /// Consider the server gone when nothing (data, ping or pong) arrived for this long
    /// (default: never). wslink servers ping every 30 s; a client that pings too (the
    /// client's `keepalive`) can use a shorter limit.
    pub dead_after: Option<std::time::Duration>,
    /// Root certificates trusted for `wss://` besides the platform's (DER). Feature `tls`.
    #[cfg(feature = "tls")]
    pub extra_roots: Vec<CertificateDer<'static>>,
    /// Whether the platform's root certificates are trusted for `wss://` (default true;
    /// false trusts [`extra_roots`](Self::extra_roots) only). Feature `tls`.
    #[cfg(feature = "tls")]
    pub platform_roots: bool,
    /// A complete rustls client configuration for `wss://` (client certificates, custom
    /// verification, …); when set, [`extra_roots`](Self::extra_roots) and
    /// [`platform_roots`](Self::platform_roots) are ignored. Feature `tls`.
    #[cfg(feature = "tls")]
    pub tls_config: Option<Arc<rustls::ClientConfig>>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_message_size: 64 << 20,
            dead_after: None,
            #[cfg(feature = "tls")]
            extra_roots: Vec::new(),
            #[cfg(feature = "tls")]
            platform_roots: true,
            #[cfg(feature = "tls")]
            tls_config: None,
        }
    }
}

#[cfg(feature = "tls")]
impl ConnectOptions {
    /// Also trusts every certificate of a PEM file (a self-signed server certificate, or
    /// a private CA) for `wss://`.
    pub fn trust_pem_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<ConnectOptions, TlsError> {
        self.extra_roots
            .extend(crate::tls::load_certificates(path)?);
        Ok(self)
    }

    /// Also trusts every certificate of PEM text held in memory.
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<ConnectOptions, TlsError> {
        self.extra_roots
            .extend(crate::tls::parse_certificates(pem, "(in memory)")?);
        Ok(self)
    }

    /// Also trusts a DER certificate. It is checked when connecting to a `wss://` URL: a
    /// malformed one fails that connection.
    pub fn trust_der(mut self, der: impl Into<Vec<u8>>) -> ConnectOptions {
        self.extra_roots.push(CertificateDer::from(der.into()));
        self
    }

    fn connector(&self) -> Result<tokio_tungstenite::Connector, TransportError> {
        let config = match &self.tls_config {
            Some(config) => config.clone(),
            None => crate::tls::client_config(&self.extra_roots, self.platform_roots)
                .map_err(|e| TransportError::Protocol(e.to_string()))?,
        };
        Ok(tokio_tungstenite::Connector::Rustls(config))
    }
}

/// Opens a WebSocket to `url` (`ws://host:port/path`, or `wss://…` with the `tls`
/// feature).
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
    #[cfg(feature = "tls")]
    let connected = {
        let secure = url
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("wss://"));
        let connector = if secure {
            Some(options.connector()?)
        } else {
            None
        };
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, connector).await
    };
    #[cfg(not(feature = "tls"))]
    let connected = tokio_tungstenite::connect_async_with_config(url, Some(config), true).await;
    let (ws, _response) = connected.map_err(transport_error)?;
    let remote_addr = match ws.get_ref() {
        MaybeTlsStream::Plain(tcp) => tcp.peer_addr().ok(),
        #[cfg(feature = "tls")]
        MaybeTlsStream::Rustls(tls) => tls.get_ref().0.peer_addr().ok(),
        _ => None,
    };
    Ok(WsTransport::new(
        ws,
        PeerInfo {
            remote_addr,
            origin: None,
            path: None,
            query: None,
        },
    )
    .dead_after(options.dead_after))
}
