//! [`StaticFiles`]: a folder served over HTTP, for `WsListener`'s `content` and
//! `fs_endpoints` and for the launcher's `content`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};

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
/// A symbolic link that leads out of the folder is answered 404, as the reference
/// server does unless `WSLINK_FOLLOW_SYMLINKS` is set; links that stay inside are
/// followed. [`StaticFiles::follow_symlinks`] allows every link.
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
    root: PathBuf,
    follow_symlinks: bool,
}

impl StaticFiles {
    /// Serves the files under `dir`.
    pub fn new(dir: impl AsRef<Path>) -> Self {
        StaticFiles {
            dir: ServeDir::new(dir.as_ref()).append_index_html_on_directories(true),
            root: dir.as_ref().to_owned(),
            follow_symlinks: false,
        }
    }

    /// Follows symbolic links wherever they lead (the reference's
    /// `WSLINK_FOLLOW_SYMLINKS`); by default a link out of the folder is refused.
    pub fn follow_symlinks(mut self, follow: bool) -> Self {
        self.follow_symlinks = follow;
        self
    }

    /// Answers `req` from the folder (I/O errors become 500 answers).
    pub async fn serve<B: Send + 'static>(&self, req: Request<B>) -> Response<StaticBody> {
        if !self.follow_symlinks && self.leads_out(req.uri().path()).await {
            tracing::info!(
                path = req.uri().path(),
                "refused: a link out of the served folder"
            );
            return not_found();
        }
        let answer: Result<_, Infallible> = self.dir.clone().oneshot(req).await;
        match answer {
            Ok(response) => response.map(|body| body.boxed_unsync()),
            Err(never) => match never {},
        }
    }
}

impl StaticFiles {
    /// Whether the file a request path names resolves (through links) to a place outside
    /// the folder. Paths that do not resolve are left to `ServeDir` (which answers 404).
    async fn leads_out(&self, path: &str) -> bool {
        let Ok(decoded) = percent_encoding::percent_decode_str(path).decode_utf8() else {
            return false;
        };
        let relative: PathBuf = decoded
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect();
        let (Ok(root), Ok(target)) = (
            tokio::fs::canonicalize(&self.root).await,
            tokio::fs::canonicalize(self.root.join(relative)).await,
        ) else {
            return false;
        };
        !target.starts_with(root)
    }
}

fn not_found() -> Response<StaticBody> {
    let body = http_body_util::Full::new(Bytes::from_static(b"Not Found"))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = Response::new(body);
    *response.status_mut() = http::StatusCode::NOT_FOUND;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Request<String> {
        Request::get(path).body(String::new()).unwrap()
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn links_out_of_the_folder_are_refused_unless_asked_for() {
        let base = std::env::temp_dir().join(format!("wslink-static-{}", std::process::id()));
        let www = base.join("www");
        std::fs::create_dir_all(www.join("sub")).unwrap();
        std::fs::write(base.join("secret.txt"), "secret").unwrap();
        std::fs::write(www.join("sub/page.txt"), "page").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), www.join("out.txt")).unwrap();
        std::os::unix::fs::symlink(www.join("sub/page.txt"), www.join("in.txt")).unwrap();

        let files = StaticFiles::new(&www);
        let status = |r: Response<StaticBody>| r.status().as_u16();
        assert_eq!(status(files.serve(get("/sub/page.txt")).await), 200);
        assert_eq!(
            status(files.serve(get("/in.txt")).await),
            200,
            "a link inside"
        );
        assert_eq!(
            status(files.serve(get("/out.txt")).await),
            404,
            "a link out"
        );
        assert_eq!(
            status(files.serve(get("/%6Fut.txt")).await),
            404,
            "percent-encoded"
        );
        assert_eq!(status(files.serve(get("/missing.txt")).await), 404);
        let following = files.follow_symlinks(true);
        assert_eq!(status(following.serve(get("/out.txt")).await), 200);
        std::fs::remove_dir_all(&base).unwrap();
    }
}
