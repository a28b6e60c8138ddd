//! # wslink-launcher
//!
//! An HTTP service that starts one wslink server process per session, compatible with
//! the reference launcher (`python -m wslink.launcher CONFIG`): same configuration
//! file, same API, same answers where the JS client (`SmartConnect`,
//! `ProcessLauncher`) depends on them.
//!
//! A web page asks for a session with `POST /<endpoint>/ {"application": "viewer"}`.
//! The launcher takes a free port from its `resources`, fills in the application's
//! command line (`${port}`, `${secret}`, …), starts it, waits until the process says
//! it is ready (its `ready_line` in the output, or its port accepting connections) and
//! answers with the session's `id`, `sessionURL` and — when the command uses it — its
//! `secret`. The page then connects its wslink client to that URL.
//!
//! The pieces, one per module:
//!
//! | module | concept |
//! |---|---|
//! | [`config`] | the config file (JSON with comments) |
//! | [`template`] | `$name` / `${name}` substitution |
//! | [`sanitize`] | rules on client-supplied values |
//! | [`resources`] | the port pool |
//! | [`session`] | building a session and the client's view of it |
//! | [`process`] | running, watching and killing a session's process |
//! | [`proxy_file`] | the `<id> <host>:<port>` mapping for reverse proxies |
//! | [`manager`] | the sessions, their lifecycle and the ports they hold |
//! | [`http`] | the HTTP routes |
//! | [`error`] | the refusals and their status codes and bodies |
//!
//! Where this launcher is stricter than the reference (none of it changes what the JS
//! client sees on success): configured `properties` beat client fields unless listed in
//! `client_settable`; the client picks its secret only if `"secret"` is
//! client-settable; an unknown application is a 404 that takes no port; `DELETE`
//! never returns the secret or the command; an optional bearer token protects the API;
//! an application without `ready_line` is ready when its port accepts connections;
//! exited sessions give their port back immediately.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = wslink_launcher::Config::from_file("launcher.json")?;
//! let launcher = wslink_launcher::Launcher::start(config).await?;
//! println!("POST {}", launcher.url());
//! tokio::signal::ctrl_c().await?;
//! launcher.shutdown().await;
//! # Ok(()) }
//! ```

pub mod config;
pub mod error;
pub mod http;
pub mod manager;
pub mod process;
pub mod proxy_file;
pub mod resources;
pub mod sanitize;
pub mod session;
pub mod template;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{Config, ConfigError};
pub use error::ApiError;
pub use manager::{SessionInfo, SessionManager};

/// A running launcher: the HTTP service and its sessions.
#[derive(Debug)]
pub struct Launcher {
    manager: SessionManager,
    local_addr: SocketAddr,
    post_path: String,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl Launcher {
    /// Binds `configuration.host:port` (port 0 picks one) and starts serving.
    pub async fn start(config: Config) -> std::io::Result<Launcher> {
        let addr = (config.configuration.host.clone(), config.configuration.port);
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let manager = SessionManager::new(config);
        let api = Arc::new(http::Api::new(manager.clone()));
        let post_path = api.post_path();
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(http::serve(listener, api, stopped));
        tracing::info!(%local_addr, endpoint = %post_path, "launcher listening");
        Ok(Launcher {
            manager,
            local_addr,
            post_path,
            stop,
            server: Some(server),
        })
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The URL to POST to (`http://HOST:PORT/<endpoint>/`), e.g. the JS client's
    /// `sessionManagerURL`.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr, self.post_path)
    }

    /// The sessions.
    pub fn manager(&self) -> &SessionManager {
        &self.manager
    }

    /// Stops accepting requests and stops every session's process.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.manager.shutdown().await;
        tracing::info!("launcher stopped");
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
