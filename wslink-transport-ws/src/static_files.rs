//! [`StaticFiles`]: a folder served over HTTP, for `WsListener`'s `content` and
//! `fs_endpoints` and for the launcher's `content`.

use std::convert::Infallible;
use std::path::Path;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The body of a [`StaticFiles`] answer.
pub type StaticBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// A folder served over HTTP (tower-http's `ServeDir`): files as they are, with their
/// content type; `index.html` for a folder; 404 for what is not there.
///
/// ```no_run
/// use wslink_transport_ws::StaticFiles;
///
/// # async fn answer(req: http::Request<String>) {
/// let www = StaticFiles::new("examples/chat/www");
/// let response = www.serve(req).await;
/// println!("{}", response.status());
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StaticFiles {
    dir: ServeDir,
}

impl StaticFiles {
    /// Serves the files under `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        StaticFiles {
            dir: ServeDir::new(dir).append_index_html_on_directories(true),
        }
    }

    /// Answers `req` from the folder (I/O errors become 500 answers).
    pub async fn serve<B: Send + 'static>(&self, req: Request<B>) -> Response<StaticBody> {
        let answer: Result<_, Infallible> = self.dir.clone().oneshot(req).await;
        match answer {
            Ok(response) => response.map(|body| body.boxed_unsync()),
            Err(never) => match never {},
        }
    }
}
