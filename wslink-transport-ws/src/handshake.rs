//! The opening handshake of RFC 6455 as a client performs it, over hyper's HTTP/1.1 client.
//!
//! The request carries a random `Sec-WebSocket-Key` and, when compression is on, the
//! permessage-deflate offer of [`Deflate`]. The answer must be `101 Switching Protocols`
//! with the matching `Sec-WebSocket-Accept`; its `Sec-WebSocket-Extensions` says what was
//! agreed, and the upgraded connection becomes a yawc WebSocket in the client role (which
//! masks every frame it sends).

use base64::Engine;
use bytes::Bytes;
use http::header::{
    CONNECTION, HOST, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Request, StatusCode, Uri};
use http_body_util::Empty;
use hyper::rt::{Read, Write};
use sha1::{Digest, Sha1};
use wslink_core::TransportError;
use yawc::{HttpStream, Options, Role, WebSocket};

use crate::deflate::Deflate;

/// The `Sec-WebSocket-Accept` value that answers `key`.
pub(crate) fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// The `Sec-WebSocket-Extensions` offer of a client with `deflate`.
fn offer(deflate: &Deflate) -> Option<String> {
    if !deflate.enabled {
        return None;
    }
    let mut offer = String::from("permessage-deflate");
    match deflate.client_max_window_bits {
        Some(bits) => offer.push_str(&format!("; client_max_window_bits={bits}")),
        None => offer.push_str("; client_max_window_bits"),
    }
    if let Some(bits) = deflate.server_max_window_bits {
        offer.push_str(&format!("; server_max_window_bits={bits}"));
    }
    if !deflate.server_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if !deflate.client_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    Some(offer)
}

fn protocol(what: impl std::fmt::Display) -> TransportError {
    TransportError::Protocol(what.to_string())
}

/// Runs the handshake for `uri` over `io` (already connected, TLS done). Returns the
/// WebSocket and the extensions the server agreed on.
pub(crate) async fn client<I>(
    io: I,
    uri: &Uri,
    deflate: &Deflate,
    options: Options,
) -> Result<(WebSocket<HttpStream>, Option<String>), TransportError>
where
    I: Read + Write + Unpin + Send + 'static,
{
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let host = uri.authority().map(|a| a.as_str()).unwrap_or_default();
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let mut request = Request::get(path)
        .header(HOST, host)
        .header(CONNECTION, "Upgrade")
        .header(UPGRADE, "websocket")
        .header(SEC_WEBSOCKET_VERSION, "13")
        .header(SEC_WEBSOCKET_KEY, &key);
    if let Some(offer) = offer(deflate) {
        request = request.header(SEC_WEBSOCKET_EXTENSIONS, offer);
    }
    let request = request.body(Empty::<Bytes>::new()).map_err(protocol)?;

    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(protocol)?;
    tokio::spawn(async move {
        if let Err(e) = conn.with_upgrades().await {
            tracing::debug!(error = %e, "client handshake connection ended with an error");
        }
    });
    let response = sender.send_request(request).await.map_err(protocol)?;
    if response.status() != StatusCode::SWITCHING_PROTOCOLS {
        return Err(protocol(format!(
            "WebSocket upgrade refused: HTTP {}",
            response.status()
        )));
    }
    let accepted = response.headers().get(SEC_WEBSOCKET_ACCEPT);
    if accepted.map(|v| v.as_bytes()) != Some(accept_key(key.as_bytes()).as_bytes()) {
        return Err(protocol("WebSocket upgrade: wrong Sec-WebSocket-Accept"));
    }
    let extensions = response
        .headers()
        .get(SEC_WEBSOCKET_EXTENSIONS)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let upgraded = hyper::upgrade::on(response).await.map_err(protocol)?;
    let io = HttpStream::from(hyper_util::rt::TokioIo::new(upgraded));
    let ws =
        WebSocket::from_stream_with_extensions(io, Role::Client, extensions.as_deref(), options)
            .map_err(protocol)?;
    Ok((ws, extensions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_key_is_answered() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn offers_follow_the_settings() {
        assert_eq!(offer(&Deflate::off()), None);
        let offer = offer(&Deflate::default()).unwrap();
        assert!(
            offer.starts_with("permessage-deflate; client_max_window_bits"),
            "{offer}"
        );
        assert!(offer.contains("server_no_context_takeover"), "{offer}");
    }
}
