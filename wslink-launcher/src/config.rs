//! The launcher's configuration file: the reference's JSON format, comments allowed.
//!
//! A config has four required top-level objects and one optional one:
//!
//! | key | what |
//! |---|---|
//! | `configuration` | the service itself: where it listens, its endpoint, files, timeouts |
//! | `apps` | application name → the command to start (`cmd`) and the text that says it is ready (`ready_line`) |
//! | `properties` | values the command lines may use (`${python}`), fixed by the operator |
//! | `resources` | hosts and port ranges handed out to sessions |
//! | `sessionData` (optional) | extra values templated per session and returned to the client |
//!
//! `configuration` must hold `endpoint`, `host`, `port`, `proxy_file`, `sessionURL`,
//! `timeout`, `log_dir` and `fields`; `content` (static files) and `sanitize` are
//! optional. A missing required key is a [`ConfigError::Missing`] naming it, which the
//! binary reports before exiting with status 2, as the reference does.
//!
//! `//` and `/* */` comments are removed before parsing ([`strip_comments`]), outside
//! string literals only, so `"http://host"` survives.
//!
//! This implementation adds a few optional keys to `configuration` (none is needed for
//! a reference config to work):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `client_settable` | `[]` | names a client's POST body may set even though `properties` (or the launcher) defines them; `"secret"` lets the client choose its session secret |
//! | `auth_token` | none | shared token: API requests must carry `Authorization: Bearer <token>` |
//! | `enable_get` / `enable_delete` | `false` | serve `GET`/`DELETE <endpoint>/<id>` (also enabled by `WSLINK_LAUNCHER_GET=1` / `WSLINK_LAUNCHER_DELETE=1`) |
//! | `max_body` | 65536 | largest POST body accepted, in bytes |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::sanitize::{RawRule, Rule, Sanitizer};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not JSON (after removing comments).
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A required key is absent (dotted path, e.g. `configuration.endpoint`).
    #[error("missing required key `{0}` in the launcher configuration")]
    Missing(String),
    /// A key has a value of the wrong shape.
    #[error("invalid value for `{key}`: {message}")]
    Invalid {
        /// Dotted path of the key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// One application that sessions can run.
#[derive(Debug, Clone, Deserialize)]
pub struct App {
    /// The command line, one element per argument (no shell). Templated per session.
    pub cmd: Vec<String>,
    /// Text whose appearance in the child's stdout/stderr means "ready". Without it, the
    /// session is ready once its port accepts TCP connections.
    #[serde(default)]
    pub ready_line: Option<String>,
}

/// A host and the inclusive range of ports sessions may use on it.
#[derive(Debug, Clone, Deserialize)]
pub struct Resource {
    /// Host name or address given to sessions (`${host}`).
    pub host: String,
    /// First and last port, inclusive.
    pub port_range: [u16; 2],
}

/// The `configuration` object.
#[derive(Debug, Clone)]
pub struct Configuration {
    /// Address the launcher binds.
    pub host: String,
    /// Port the launcher binds (0 picks one).
    pub port: u16,
    /// The API path: `launcher` serves `POST /launcher/`; `/launcher` exactly that.
    pub endpoint: String,
    /// Static files served at `/`.
    pub content: Option<PathBuf>,
    /// File listing `<id> <host>:<port>` per live session, for a reverse proxy.
    /// Empty path: none written.
    pub proxy_file: PathBuf,
    /// Template of the WebSocket URL returned to clients.
    pub session_url: String,
    /// Seconds to wait for a session to become ready.
    pub timeout: f64,
    /// Folder of the per-session logs `<id>.txt`.
    pub log_dir: PathBuf,
    /// Session keys returned to the client (besides `id`, `sessionURL`, ...).
    pub fields: Vec<String>,
    /// Rules applied to client-supplied values.
    pub sanitize: Sanitizer,
    /// Names the client may set even when the launcher or `properties` define them.
    pub client_settable: Vec<String>,
    /// Shared bearer token required on the API, if any.
    pub auth_token: Option<String>,
    /// Serve `GET <endpoint>/<id>`.
    pub enable_get: bool,
    /// Serve `DELETE <endpoint>/<id>`.
    pub enable_delete: bool,
    /// Largest POST body, in bytes.
    pub max_body: usize,
}

/// A whole launcher configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The service settings.
    pub configuration: Configuration,
    /// Applications by name.
    pub apps: BTreeMap<String, App>,
    /// Operator-defined template values.
    pub properties: Map<String, Value>,
    /// Hosts and port ranges for sessions.
    pub resources: Vec<Resource>,
    /// Extra per-session values (templated), returned to the client.
    pub session_data: Map<String, Value>,
}

impl Config {
    /// Reads and parses a config file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text)
    }

    /// Parses the text of a config (comments allowed).
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let root: Value = serde_json::from_str(&strip_comments(text))?;
        let root = as_object(&root, "(top level)")?;
        for key in ["configuration", "apps", "properties", "resources"] {
            if !root.contains_key(key) {
                return Err(ConfigError::Missing(key.into()));
            }
        }
        let conf = as_object(&root["configuration"], "configuration")?;
        for key in [
            "endpoint",
            "host",
            "port",
            "proxy_file",
            "sessionURL",
            "timeout",
            "log_dir",
            "fields",
        ] {
            if !conf.contains_key(key) {
                return Err(ConfigError::Missing(format!("configuration.{key}")));
            }
        }
        let configuration = Configuration {
            host: string(&conf["host"], "configuration.host")?,
            port: port(&conf["port"], "configuration.port")?,
            endpoint: string(&conf["endpoint"], "configuration.endpoint")?,
            content: match conf.get("content") {
                None | Some(Value::Null) => None,
                Some(v) => Some(string(v, "configuration.content")?)
                    .filter(|s| !s.is_empty())
                    .map(PathBuf::from),
            },
            proxy_file: string(&conf["proxy_file"], "configuration.proxy_file")?.into(),
            session_url: string(&conf["sessionURL"], "configuration.sessionURL")?,
            timeout: number(&conf["timeout"], "configuration.timeout")?,
            log_dir: string(&conf["log_dir"], "configuration.log_dir")?.into(),
            fields: typed(&conf["fields"], "configuration.fields")?,
            sanitize: match conf.get("sanitize") {
                None | Some(Value::Null) => Sanitizer::default(),
                Some(v) => {
                    let raw: BTreeMap<String, RawRule> = typed(v, "configuration.sanitize")?;
                    let mut rules = BTreeMap::new();
                    for (name, rule) in raw {
                        let rule = Rule::compile(rule).map_err(|message| ConfigError::Invalid {
                            key: format!("configuration.sanitize.{name}"),
                            message,
                        })?;
                        rules.insert(name, rule);
                    }
                    Sanitizer::new(rules)
                }
            },
            client_settable: optional(conf, "client_settable")?.unwrap_or_default(),
            auth_token: optional::<String>(conf, "auth_token")?.filter(|t| !t.is_empty()),
            enable_get: optional(conf, "enable_get")?.unwrap_or(false),
            enable_delete: optional(conf, "enable_delete")?.unwrap_or(false),
            max_body: optional(conf, "max_body")?.unwrap_or(64 * 1024),
        };
        if configuration.timeout.is_nan() || configuration.timeout < 0.0 {
            return Err(ConfigError::Invalid {
                key: "configuration.timeout".into(),
                message: "must be a non-negative number of seconds".into(),
            });
        }
        let apps: BTreeMap<String, App> = typed(&root["apps"], "apps")?;
        for (name, app) in &apps {
            if app.cmd.is_empty() {
                return Err(ConfigError::Invalid {
                    key: format!("apps.{name}.cmd"),
                    message: "the command line is empty".into(),
                });
            }
        }
        let resources: Vec<Resource> = typed(&root["resources"], "resources")?;
        for (i, r) in resources.iter().enumerate() {
            if r.port_range[0] > r.port_range[1] || r.port_range[0] == 0 {
                return Err(ConfigError::Invalid {
                    key: format!("resources[{i}].port_range"),
                    message: "expected [first, last] with 0 < first <= last".into(),
                });
            }
        }
        Ok(Config {
            configuration,
            apps,
            properties: as_object(&root["properties"], "properties")?.clone(),
            resources,
            session_data: match root.get("sessionData") {
                None | Some(Value::Null) => Map::new(),
                Some(v) => as_object(v, "sessionData")?.clone(),
            },
        })
    }

    /// Applies the environment switches of the reference (`WSLINK_LAUNCHER_GET=1`,
    /// `WSLINK_LAUNCHER_DELETE=1`) on top of the file's `enable_get`/`enable_delete`.
    pub fn apply_env(&mut self) {
        let on = |name: &str| {
            std::env::var(name)
                .map(|v| !matches!(v.trim(), "" | "0" | "false" | "False"))
                .unwrap_or(false)
        };
        self.configuration.enable_get |= on("WSLINK_LAUNCHER_GET");
        self.configuration.enable_delete |= on("WSLINK_LAUNCHER_DELETE");
    }
}

fn as_object<'a>(v: &'a Value, key: &str) -> Result<&'a Map<String, Value>, ConfigError> {
    v.as_object().ok_or_else(|| ConfigError::Invalid {
        key: key.into(),
        message: "expected an object".into(),
    })
}

fn string(v: &Value, key: &str) -> Result<String, ConfigError> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| ConfigError::Invalid {
            key: key.into(),
            message: "expected a string".into(),
        })
}

fn number(v: &Value, key: &str) -> Result<f64, ConfigError> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| ConfigError::Invalid {
        key: key.into(),
        message: "expected a number".into(),
    })
}

fn port(v: &Value, key: &str) -> Result<u16, ConfigError> {
    let n = number(v, key)?;
    if n.fract() != 0.0 || !(0.0..=65535.0).contains(&n) {
        return Err(ConfigError::Invalid {
            key: key.into(),
            message: "expected a port number".into(),
        });
    }
    Ok(n as u16)
}

fn typed<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, ConfigError> {
    T::deserialize(v).map_err(|e| ConfigError::Invalid {
        key: key.into(),
        message: e.to_string(),
    })
}

fn optional<T: serde::de::DeserializeOwned>(
    conf: &Map<String, Value>,
    key: &str,
) -> Result<Option<T>, ConfigError> {
    match conf.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => typed(v, &format!("configuration.{key}")).map(Some),
    }
}

/// Removes `// line` and `/* block */` comments outside JSON strings. Each comment
/// becomes spaces (newlines kept), so parse errors still point at the right line.
pub fn strip_comments(text: &str) -> String {
    #[derive(PartialEq)]
    enum State {
        Code,
        Str,
        StrEscape,
        Line,
        Block,
    }
    let mut out = String::with_capacity(text.len());
    let mut state = State::Code;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match state {
            State::Code => match (c, chars.peek()) {
                ('"', _) => {
                    state = State::Str;
                    out.push(c);
                }
                ('/', Some('/')) => {
                    chars.next();
                    out.push_str("  ");
                    state = State::Line;
                }
                ('/', Some('*')) => {
                    chars.next();
                    out.push_str("  ");
                    state = State::Block;
                }
                _ => out.push(c),
            },
            State::Str => {
                match c {
                    '\\' => state = State::StrEscape,
                    '"' => state = State::Code,
                    _ => {}
                }
                out.push(c);
            }
            State::StrEscape => {
                state = State::Str;
                out.push(c);
            }
            State::Line => {
                if c == '\n' {
                    state = State::Code;
                    out.push(c);
                } else {
                    out.push(' ');
                }
            }
            State::Block => {
                if c == '*' && chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("  ");
                    state = State::Code;
                } else {
                    out.push(if c == '\n' { '\n' } else { ' ' });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
    // a launcher for the viewer
    {
      "configuration": {
        "host": "0.0.0.0", "port": 9000,
        "endpoint": "launcher",            // POST /launcher/
        "content": "/srv/www",
        "proxy_file": "proxy.txt",
        "sessionURL": "ws://USE_HOSTNAME:${port}/ws",  /* the client fills in */
        "timeout": 30,
        "log_dir": "logs",
        "fields": ["host", "port"],
        "sanitize": { "dataset": { "type": "regexp", "regexp": "^[\\w.-]+$", "default": "demo" } }
      },
      "sessionData": { "viewer": "v=${dataset}" },
      "resources": [ { "host": "127.0.0.1", "port_range": [9100, 9109] } ],
      "properties": { "python": "/opt/venv/bin/python", "url": "http://x//y/*z*/" },
      "apps": {
        "viewer": {
          "cmd": ["${python}", "viewer.py", "--port", "${port}", "--authKey", "${secret}"],
          "ready_line": "Starting factory"
        },
        "quiet": { "cmd": ["server"] }
      }
    }"#;

    #[test]
    fn parses_the_example_with_comments() {
        let c = Config::parse(EXAMPLE).unwrap();
        assert_eq!(c.configuration.port, 9000);
        assert_eq!(c.configuration.endpoint, "launcher");
        assert_eq!(c.configuration.content, Some(PathBuf::from("/srv/www")));
        assert_eq!(c.configuration.session_url, "ws://USE_HOSTNAME:${port}/ws");
        assert_eq!(c.configuration.timeout, 30.0);
        assert_eq!(c.configuration.fields, ["host", "port"]);
        assert_eq!(
            c.apps["viewer"].ready_line.as_deref(),
            Some("Starting factory")
        );
        assert_eq!(c.apps["quiet"].ready_line, None);
        assert_eq!(c.resources[0].port_range, [9100, 9109]);
        assert_eq!(
            c.properties["url"], "http://x//y/*z*/",
            "comment markers in strings stay"
        );
        assert_eq!(c.session_data["viewer"], "v=${dataset}");
        assert!(!c.configuration.enable_get && !c.configuration.enable_delete);
        assert!(c.configuration.auth_token.is_none());
    }

    #[test]
    fn strips_comments_but_not_strings() {
        let text = "{\"a\": \"//no\", /* x\n y */ \"b\": \"\\\"/*\" // end\n}";
        let v: Value = serde_json::from_str(&strip_comments(text)).unwrap();
        assert_eq!(v["a"], "//no");
        assert_eq!(v["b"], "\"/*");
        assert_eq!(strip_comments("1 /* a\nb */ 2").lines().count(), 2);
    }

    #[test]
    fn missing_keys_are_named() {
        let err =
            Config::parse(r#"{"configuration": {}, "apps": {}, "properties": {}}"#).unwrap_err();
        assert!(
            matches!(err, ConfigError::Missing(ref k) if k == "resources"),
            "{err}"
        );
        let without_endpoint = EXAMPLE.replace("\"endpoint\": \"launcher\",", "");
        let err = Config::parse(&without_endpoint).unwrap_err();
        assert!(
            matches!(err, ConfigError::Missing(ref k) if k == "configuration.endpoint"),
            "{err}"
        );
    }

    #[test]
    fn extensions_and_bad_values() {
        let text = EXAMPLE.replace(
            "\"timeout\": 30,",
            "\"timeout\": 30, \"auth_token\": \"t\", \"enable_delete\": true, \"client_settable\": [\"secret\"],",
        );
        let c = Config::parse(&text).unwrap();
        assert_eq!(c.configuration.auth_token.as_deref(), Some("t"));
        assert!(c.configuration.enable_delete);
        assert_eq!(c.configuration.client_settable, ["secret"]);

        let bad = EXAMPLE.replace("[9100, 9109]", "[9109, 9100]");
        assert!(matches!(
            Config::parse(&bad),
            Err(ConfigError::Invalid { .. })
        ));
        let bad = EXAMPLE.replace("\"^[\\\\w.-]+$\"", "\"(\"");
        assert!(matches!(
            Config::parse(&bad),
            Err(ConfigError::Invalid { .. })
        ));
    }
}
