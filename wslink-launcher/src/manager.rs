//! The session manager: the launcher's state, independent of HTTP.
//!
//! [`SessionManager::start`] is what a POST does:
//!
//! 1. check the body (`application` present and known — an unknown one is refused
//!    *before* a port is taken, so nothing leaks);
//! 2. under the lock: take a port, build the [`Session`], spawn its process, record
//!    it, rewrite the proxy file;
//! 3. outside the lock: wait for the process to be ready, at most `timeout` seconds.
//!    The wait runs in its own task, so a client that hangs up does not leave a
//!    session that never times out. On timeout the process is killed; if it exits
//!    first, the start failed.
//!
//! Sessions leave in one place only: the exit hook of their process (see
//! `process.rs`), which removes the record, returns the port and rewrites the proxy
//! file. So a session that is stopped, timed out, or whose server simply exited (idle
//! timeout, crash) gives its port back at once — not on the next POST as in the
//! reference (docs/known-issues.md L8). [`SessionManager::stop`] and
//! [`SessionManager::shutdown`] just kill and wait for that hook.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::ApiError;
use crate::process::{self, NotReady, ProcessSpec, ProcessState, Readiness, Supervised};
use crate::proxy_file::ProxyFile;
use crate::resources::PortPool;
use crate::session::{new_id, Session};

/// How long a kill may take before we stop waiting for it.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// A snapshot of one session, for listings and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The id.
    pub id: String,
    /// The application.
    pub application: String,
    /// Host given to the session.
    pub host: String,
    /// Port given to the session.
    pub port: u16,
    /// OS process id of its server.
    pub pid: Option<u32>,
    /// Whether it has been reported ready.
    pub ready: bool,
}

struct Entry {
    session: Arc<Session>,
    process: Arc<Supervised>,
}

struct State {
    pool: PortPool,
    sessions: HashMap<String, Entry>,
    closing: bool,
}

struct Inner {
    config: Config,
    proxy: ProxyFile,
    state: Mutex<State>,
}

/// Starts, tracks and stops sessions. Cheap to clone.
#[derive(Clone)]
pub struct SessionManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SessionManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionManager")
            .field("sessions", &self.sessions().len())
            .finish_non_exhaustive()
    }
}

impl SessionManager {
    /// A manager with no sessions. The proxy file, if configured, is written (empty)
    /// right away; an error doing so is logged.
    pub fn new(config: Config) -> SessionManager {
        let inner = Inner {
            proxy: ProxyFile::new(&config.configuration.proxy_file),
            state: Mutex::new(State {
                pool: PortPool::new(&config.resources),
                sessions: HashMap::new(),
                closing: false,
            }),
            config,
        };
        let manager = SessionManager {
            inner: Arc::new(inner),
        };
        manager.inner.write_proxy_file(&manager.inner.lock());
        manager
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Starts a session for a POST body; returns the client's JSON once it is ready.
    pub async fn start(&self, body: &Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
        let Some(Value::String(name)) = body.get("application") else {
            return Err(ApiError::Incomplete);
        };
        let config = &self.inner.config;
        let Some(app) = config.apps.get(name) else {
            tracing::warn!(application = %name, "unknown application requested");
            return Err(ApiError::UnknownApplication(name.clone()));
        };

        let (session, process) = {
            let mut state = self.inner.lock();
            if state.closing {
                return Err(ApiError::ShuttingDown);
            }
            let Some(lease) = state.pool.allocate() else {
                tracing::warn!(application = %name, "no free port");
                return Err(ApiError::NoResources);
            };
            let session = Arc::new(Session::build(
                config,
                name,
                app,
                body,
                lease.clone(),
                new_id(),
            ));
            let spec = ProcessSpec {
                cmd: session.cmd.clone(),
                log: self.log_path(&session.id),
                ready: match &app.ready_line {
                    Some(text) => Readiness::Text(text.clone()),
                    None => Readiness::Port(lease.host.clone(), lease.port),
                },
            };
            let hook = exit_hook(Arc::downgrade(&self.inner), session.id.clone());
            let process = match process::spawn(&spec, hook) {
                Ok(p) => Arc::new(p),
                Err(e) => {
                    state.pool.release(&lease);
                    tracing::error!(session = %session.id, program = %session.program(), error = %e, "spawn failed");
                    return Err(ApiError::StartFailed {
                        program: session.program().to_owned(),
                        reason: e.to_string(),
                    });
                }
            };
            tracing::info!(
                session = %session.id, application = %name, host = %lease.host,
                port = lease.port, pid = ?process.pid(), "session starting"
            );
            state.sessions.insert(
                session.id.clone(),
                Entry {
                    session: session.clone(),
                    process: process.clone(),
                },
            );
            self.inner.write_proxy_file(&state);
            (session, process)
        };

        let limit = Duration::from_secs_f64(config.configuration.timeout);
        let id = session.id.clone();
        let program = session.program().to_owned();
        let waited = tokio::spawn(async move {
            match process.wait_ready(limit).await {
                Ok(()) => Ok(()),
                Err(NotReady::Timeout) => {
                    tracing::warn!(session = %id, ?limit, "not ready in time: killing it");
                    process.kill(KILL_WAIT).await;
                    Err(ApiError::Timeout)
                }
                Err(NotReady::Exited(how)) => {
                    tracing::warn!(session = %id, exit = %how, "exited before it was ready");
                    Err(ApiError::StartFailed {
                        program,
                        reason: how,
                    })
                }
            }
        })
        .await
        .unwrap_or_else(|e| {
            Err(ApiError::StartFailed {
                program: session.program().to_owned(),
                reason: e.to_string(),
            })
        });
        waited?;
        tracing::info!(session = %session.id, "session ready");
        Ok(session.response().clone())
    }

    /// The client JSON of a live session.
    pub fn get(&self, id: &str) -> Result<Map<String, Value>, ApiError> {
        let state = self.inner.lock();
        state
            .sessions
            .get(id)
            .map(|e| e.session.response().clone())
            .ok_or_else(|| ApiError::NoSession(id.to_owned()))
    }

    /// Stops a session (kills its process, waits for it to be reaped); returns its
    /// record without `secret` and `cmd`.
    pub async fn stop(&self, id: &str) -> Result<Map<String, Value>, ApiError> {
        let (session, process) = {
            let state = self.inner.lock();
            let entry = state
                .sessions
                .get(id)
                .ok_or_else(|| ApiError::NoSession(id.to_owned()))?;
            (entry.session.clone(), entry.process.clone())
        };
        tracing::info!(session = %id, "stopping session");
        if !process.kill(KILL_WAIT).await {
            tracing::warn!(session = %id, "the process did not exit after a kill");
        }
        Ok(session.public_record())
    }

    /// Live sessions (starting or ready).
    pub fn sessions(&self) -> Vec<SessionInfo> {
        let state = self.inner.lock();
        let mut list: Vec<SessionInfo> = state
            .sessions
            .values()
            .map(|e| SessionInfo {
                id: e.session.id.clone(),
                application: e.session.application.clone(),
                host: e.session.lease.host.clone(),
                port: e.session.lease.port,
                pid: e.process.pid(),
                ready: e.process.state() == ProcessState::Ready,
            })
            .collect();
        list.sort_by(|a, b| a.id.cmp(&b.id));
        list
    }

    /// Free ports left.
    pub fn free_ports(&self) -> usize {
        self.inner.lock().pool.free()
    }

    /// Refuses new sessions and stops every running one.
    pub async fn shutdown(&self) {
        let processes: Vec<Arc<Supervised>> = {
            let mut state = self.inner.lock();
            state.closing = true;
            state.sessions.values().map(|e| e.process.clone()).collect()
        };
        tracing::info!(count = processes.len(), "stopping all sessions");
        for p in &processes {
            p.start_kill();
        }
        for p in processes {
            p.kill(KILL_WAIT).await;
        }
    }

    fn log_path(&self, id: &str) -> PathBuf {
        self.inner
            .config
            .configuration
            .log_dir
            .join(format!("{id}.txt"))
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (plain inserts and
        // removes): keep going.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn write_proxy_file(&self, state: &State) {
        let mut entries: Vec<(&str, &str, u16)> = state
            .sessions
            .values()
            .map(|e| {
                (
                    e.session.id.as_str(),
                    e.session.lease.host.as_str(),
                    e.session.lease.port,
                )
            })
            .collect();
        entries.sort();
        if let Err(e) = self.proxy.write(entries) {
            tracing::error!(error = %e, file = ?self.proxy.path(), "cannot write the proxy file");
        }
    }
}

fn exit_hook(inner: Weak<Inner>, id: String) -> process::ExitHook {
    Box::new(move |how: &str| {
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let mut state = inner.lock();
        if let Some(entry) = state.sessions.remove(&id) {
            state.pool.release(&entry.session.lease);
            tracing::info!(session = %id, exit = %how, port = entry.session.lease.port, "session ended; port free");
            inner.write_proxy_file(&state);
        }
    })
}
