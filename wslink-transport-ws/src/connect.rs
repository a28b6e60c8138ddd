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

use http::Uri;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use wslink_core::{PeerInfo, TransportError};

use crate::deflate::Deflate;
use crate::handshake;
use crate::stream::WsTransport;
#[cfg(feature = "tls")]
use crate::tls::TlsError;
#[cfg(feature = "tls")]
use rustls_pki_types::CertificateDer;

/// A client connection to a server (the same transport a listener accepts).
pub type ClientTransport = WsTransport;

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
    /// permessage-deflate offered to the server (default: on, as browsers and the `ws`
    /// client do; [`Deflate::off`] offers nothing).
    pub deflate: Deflate,
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
            deflate: Deflate::default(),
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

    fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TransportError> {
        match &self.tls_config {
            Some(config) => Ok(config.clone()),
            None => crate::tls::client_config(&self.extra_roots, self.platform_roots)
                .map_err(|e| TransportError::Protocol(e.to_string())),
        }
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
    let uri: Uri = url
        .parse()
        .map_err(|e| TransportError::Protocol(format!("bad URL `{url}`: {e}")))?;
    let secure = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("ws") => false,
        Some(s) if s.eq_ignore_ascii_case("wss") => true,
        _ => {
            return Err(TransportError::Protocol(format!(
                "bad URL `{url}`: ws:// or wss:// expected"
            )))
        }
    };
    let host = uri
        .host()
        .ok_or_else(|| TransportError::Protocol(format!("bad URL `{url}`: no host")))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect((host, port)).await?;
    let _ = tcp.set_nodelay(true);
    let remote_addr = tcp.peer_addr().ok();
    let ws_options = yawc::Options {
        max_payload_read: Some(crate::stream::yawc_limit(options.max_message_size)),
        max_read_buffer: Some(crate::stream::yawc_limit(options.max_message_size)),
        compression: options.deflate.options(None),
        check_utf8: true,
        ..yawc::Options::default()
    };
    let (ws, extensions) = if secure {
        secure_handshake(tcp, host, &uri, options, ws_options).await?
    } else {
        handshake::client(TokioIo::new(tcp), &uri, &options.deflate, ws_options).await?
    };
    let peer = PeerInfo {
        remote_addr,
        origin: None,
        path: None,
        query: None,
    };
    Ok(WsTransport::new(ws, peer, extensions)
        .dead_after(options.dead_after)
        .max_message_size(options.max_message_size))
}

#[cfg(feature = "tls")]
async fn secure_handshake(
    tcp: TcpStream,
    host: &str,
    uri: &Uri,
    options: &ConnectOptions,
    ws_options: yawc::Options,
) -> Result<(yawc::WebSocket<yawc::HttpStream>, Option<String>), TransportError> {
    let config = options.client_config()?;
    let name = rustls_pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| TransportError::Protocol(format!("bad TLS server name `{host}`: {e}")))?;
    let tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| TransportError::Protocol(format!("TLS handshake failed: {e}")))?;
    handshake::client(TokioIo::new(tls), uri, &options.deflate, ws_options).await
}

#[cfg(not(feature = "tls"))]
async fn secure_handshake(
    _tcp: TcpStream,
    _host: &str,
    _uri: &Uri,
    _options: &ConnectOptions,
    _ws_options: yawc::Options,
) -> Result<(yawc::WebSocket<yawc::HttpStream>, Option<String>), TransportError> {
    Err(TransportError::Protocol(
        "wss:// needs the `tls` feature".into(),
    ))
}
