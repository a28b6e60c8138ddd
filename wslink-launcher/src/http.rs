//! The HTTP API (hyper 1, HTTP/1.1), the same stack as the WebSocket transport.
//!
//! With `"endpoint": "launcher"` (a leading `/` changes nothing here):
//!
//! | request | answer |
//! |---|---|
//! | `POST /launcher/` (or `/launcher`) with `{"application": …, …}` | 200 and the session JSON once the session is ready; errors as in `error.rs` |
//! | `GET /launcher/<id>` | 200 the session JSON, 404 unknown — only when GET is enabled |
//! | `DELETE /launcher/<id>` | 200 the session record without `secret`/`cmd`, 404 unknown — only when DELETE is enabled |
//! | anything else | static files from `content` (`index.html` for folders), else 404 |
//!
//! `<id>` may follow one or more slashes (the JS `ProcessLauncher` builds
//! `endPoint + "/" + id`, doubling the slash of the default endpoint; docs/known-issues.md
//! L9). With a shared token configured, the API routes (not the static files) require
//! `Authorization: Bearer <token>` and answer 401 otherwise; the JS client sends it
//! when the SmartConnect config has `headers: {Authorization: "Bearer …"}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use wslink_transport_ws::StaticFiles;

use crate::error::ApiError;
use crate::manager::SessionManager;

type Body = wslink_transport_ws::StaticBody;

/// The routes and their switches.
#[derive(Debug)]
pub struct Api {
    manager: SessionManager,
    base: String,
    token: Option<String>,
    get: bool,
    delete: bool,
    max_body: usize,
    content: Option<StaticFiles>,
}

impl Api {
    /// The API of `manager`'s configuration.
    pub fn new(manager: SessionManager) -> Api {
        let conf = &manager.config().configuration;
        Api {
            base: endpoint_base(&conf.endpoint),
            token: conf.auth_token.clone(),
            get: conf.enable_get,
            delete: conf.enable_delete,
            max_body: conf.max_body,
            content: conf.content.as_ref().map(StaticFiles::new),
            manager,
        }
    }

    /// The path POSTs go to (`/launcher/`).
    pub fn post_path(&self) -> String {
        format!("{}/", self.base)
    }
}

/// `launcher`, `/launcher`, `/launcher/` → `/launcher`; empty → `` (the root).
pub fn endpoint_base(endpoint: &str) -> String {
    let trimmed = endpoint.trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

/// Serves `api` on `listener` until `stop` becomes true. Connections in progress are
/// left to finish on their own.
pub async fn serve(listener: TcpListener, api: Arc<Api>, mut stop: watch::Receiver<bool>) {
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = async { let _ = stop.wait_for(|s| *s).await; } => return,
        };
        let api = api.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, api.clone(), remote));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %remote, "http connection ended with an error");
            }
        });
    }
}

fn json(status: StatusCode, value: &Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .header(CACHE_CONTROL, "no-store")
        .body(
            Full::new(Bytes::from(value.to_string()))
                .map_err(|never| match never {})
                .boxed_unsync(),
        )
        .expect("valid response")
}

fn error(e: &ApiError) -> Response<Body> {
    let mut r = json(e.status(), &e.body());
    if *e == ApiError::Unauthorized {
        r.headers_mut()
            .insert(WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
    }
    r
}

fn session(result: Result<Map<String, Value>, ApiError>) -> Response<Body> {
    match result {
        Ok(map) => json(StatusCode::OK, &Value::Object(map)),
        Err(e) => error(&e),
    }
}

enum Route {
    Collection,
    Item(String),
    Other,
}

fn route(base: &str, path: &str) -> Route {
    let Some(rest) = path.strip_prefix(base) else {
        return Route::Other;
    };
    if rest.is_empty() || rest == "/" {
        return Route::Collection;
    }
    if !rest.starts_with('/') {
        return Route::Other;
    }
    let id = rest.trim_start_matches('/');
    if id.is_empty() || id.contains('/') {
        Route::Other
    } else {
        Route::Item(id.to_owned())
    }
}

/// Constant-time comparison of the bearer token.
fn authorized(req: &Request<Incoming>, token: &Option<String>) -> bool {
    let Some(expected) = token else {
        return true;
    };
    let Some(given) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (given.trim().as_bytes(), expected.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= (a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0)) as usize;
    }
    diff == 0
}

async fn handle(
    req: Request<Incoming>,
    api: Arc<Api>,
    remote: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    let method = req.method().clone();
    let api_call = match route(&api.base, req.uri().path()) {
        Route::Collection => method == Method::POST,
        Route::Item(_) => {
            (method == Method::GET && api.get) || (method == Method::DELETE && api.delete)
        }
        Route::Other => false,
    };
    if !api_call {
        return Ok(static_files(&api, req).await);
    }
    if !authorized(&req, &api.token) {
        tracing::warn!(%remote, %method, path = req.uri().path(), "launcher API: bad or missing token");
        return Ok(error(&ApiError::Unauthorized));
    }
    let response = match route(&api.base, req.uri().path()) {
        Route::Collection => post(&api, req, remote).await,
        Route::Item(id) if method == Method::GET => session(api.manager.get(&id)),
        Route::Item(id) => session(api.manager.stop(&id).await),
        Route::Other => unreachable!("only API routes get here"),
    };
    Ok(response)
}

async fn post(api: &Api, req: Request<Incoming>, remote: SocketAddr) -> Response<Body> {
    let body = match Limited::new(req.into_body(), api.max_body).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                return error(&ApiError::TooLarge);
            }
            tracing::debug!(error = %e, %remote, "reading the POST body failed");
            return error(&ApiError::Incomplete);
        }
    };
    let fields = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        _ => return error(&ApiError::Incomplete),
    };
    tracing::debug!(%remote, application = ?fields.get("application"), "start requested");
    session(api.manager.start(&fields).await)
}

async fn static_files(api: &Api, req: Request<Incoming>) -> Response<Body> {
    let Some(dir) = &api.content else {
        return json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({"error": "Not found"}),
        );
    };
    dir.serve(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        let base = endpoint_base("launcher");
        assert_eq!(base, endpoint_base("/launcher/"));
        assert!(matches!(route(&base, "/launcher/"), Route::Collection));
        assert!(matches!(route(&base, "/launcher"), Route::Collection));
        assert!(matches!(route(&base, "/launcher/abc"), Route::Item(ref id) if id == "abc"));
        assert!(matches!(route(&base, "/launcher//abc"), Route::Item(ref id) if id == "abc"));
        assert!(matches!(route(&base, "/launcherx"), Route::Other));
        assert!(matches!(route(&base, "/launcher/a/b"), Route::Other));
        assert!(matches!(route(&base, "/index.html"), Route::Other));
        let nested = endpoint_base("api/paraview");
        assert!(matches!(route(&nested, "/api/paraview/x"), Route::Item(_)));
    }
}
