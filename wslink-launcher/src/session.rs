//! A session: what one POST creates, and what the client gets back.
//!
//! [`Session::build`] turns a request body, an application and a port into everything a
//! session needs, in this order:
//!
//! 1. **sanitize** the client's fields (`configuration.sanitize`);
//! 2. **merge the template values**: `properties` first; then the client's fields,
//!    except that a name already defined by `properties` keeps the configured value
//!    unless it is listed in `configuration.client_settable` (the reference lets the
//!    client override any property, docs/known-issues.md S7); then the launcher's own values,
//!    which the client can never replace: `id`, `host`, `port`, `secret` (the client's
//!    `secret` is used only when `"secret"` is client-settable) and `sessionURL`;
//! 3. **template** `sessionURL`, then each `cmd` element and each `sessionData` string
//!    (one pass, see `template.rs`); unresolved placeholders are logged;
//! 4. shape the **response**: the names in `fields`, then `id`, `sessionURL`,
//!    `sessionManagerURL` when the client sent one, the `sessionData` entries, and
//!    `secret` when the command line uses it — as a whole argument or inside one such
//!    as `--authKey=${secret}` (the reference only saw whole arguments, docs/known-issues.md L7).
//!
//! The response never contains `cmd`. [`Session::public_record`] (what DELETE returns)
//! also leaves out `secret`.

use rand::distr::Alphanumeric;
use rand::Rng;
use serde_json::{Map, Value};

use crate::config::{App, Config};
use crate::resources::Lease;
use crate::template;

/// Everything about one session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The session id (uuid-like, random).
    pub id: String,
    /// The application name.
    pub application: String,
    /// Host and port given to the session.
    pub lease: Lease,
    /// The secret its server expects in the hello.
    pub secret: String,
    /// The templated WebSocket URL.
    pub session_url: String,
    /// The templated command line.
    pub cmd: Vec<String>,
    /// Every template value (properties, client fields, launcher values, sessionData).
    pub values: Map<String, Value>,
    response: Map<String, Value>,
}

/// A fresh session id: 128 random bits written like a UUID.
pub fn new_id() -> String {
    let b: [u8; 16] = rand::rng().random();
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A fresh secret: 16 random ASCII letters and digits.
pub fn new_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}

/// Names the launcher sets itself.
const OWN: [&str; 5] = ["id", "host", "port", "secret", "sessionURL"];

impl Session {
    /// Builds the session for `application` from a request `body` (see the module docs).
    pub fn build(
        config: &Config,
        application: &str,
        app: &App,
        body: &Map<String, Value>,
        lease: Lease,
        id: String,
    ) -> Session {
        let conf = &config.configuration;
        let settable = |name: &str| conf.client_settable.iter().any(|s| s == name);

        let mut client = body.clone();
        conf.sanitize.apply(&mut client);

        let mut values = config.properties.clone();
        for (name, value) in client {
            if OWN.contains(&name.as_str()) {
                continue;
            }
            if values.contains_key(&name) && !settable(&name) {
                tracing::warn!(field = %name, "client field ignored: set by the configuration");
                continue;
            }
            values.insert(name, value);
        }
        let secret = match body.get("secret") {
            Some(Value::String(s)) if settable("secret") && !s.is_empty() => s.clone(),
            _ => new_secret(),
        };
        values.insert("id".into(), id.clone().into());
        values.insert("host".into(), lease.host.clone().into());
        values.insert("port".into(), lease.port.into());
        values.insert("secret".into(), secret.clone().into());

        let fill = |what: &str, text: &str, values: &Map<String, Value>| {
            let (out, unresolved) = template::substitute(text, values);
            if !unresolved.is_empty() {
                tracing::warn!(session = %id, %what, ?unresolved, "unresolved template names left as is");
            }
            out
        };
        let session_url = fill("sessionURL", &conf.session_url, &values);
        values.insert("sessionURL".into(), session_url.clone().into());
        let cmd: Vec<String> = app.cmd.iter().map(|c| fill("cmd", c, &values)).collect();
        let mut data = Map::new();
        for (name, value) in &config.session_data {
            let value = match value {
                Value::String(s) => Value::String(fill("sessionData", s, &values)),
                other => other.clone(),
            };
            data.insert(name.clone(), value);
        }
        values.extend(data.clone());

        let mut response = Map::new();
        for field in &conf.fields {
            if let Some(v) = values.get(field) {
                response.insert(field.clone(), v.clone());
            }
        }
        response.insert("id".into(), id.clone().into());
        response.insert("sessionURL".into(), session_url.clone().into());
        if let Some(v) = values.get("sessionManagerURL") {
            response.insert("sessionManagerURL".into(), v.clone());
        }
        response.extend(data);
        if app.cmd.iter().any(|c| template::references(c, "secret")) {
            response.insert("secret".into(), secret.clone().into());
        }

        Session {
            id,
            application: application.to_owned(),
            lease,
            secret,
            session_url,
            cmd,
            values,
            response,
        }
    }

    /// What POST (and GET) return to the client.
    pub fn response(&self) -> &Map<String, Value> {
        &self.response
    }

    /// What DELETE returns: the response without `secret` (never `cmd` either).
    pub fn public_record(&self) -> Map<String, Value> {
        let mut r = self.response.clone();
        r.remove("secret");
        r
    }

    /// The program, for messages (never the arguments, which may hold the secret).
    pub fn program(&self) -> &str {
        self.cmd.first().map(String::as_str).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            r#"{{
            "configuration": {{
                "host": "127.0.0.1", "port": 0, "endpoint": "launcher", "proxy_file": "",
                "sessionURL": "ws://USE_HOSTNAME:${{port}}/ws", "timeout": 5, "log_dir": "logs",
                "fields": ["host", "port", "dataset"],
                "sanitize": {{ "dataset": {{"type": "inList", "list": ["a", "b"], "default": "a"}} }}
                {extra}
            }},
            "sessionData": {{ "extra": "sid=${{id}}" }},
            "resources": [],
            "properties": {{ "python": "/usr/bin/python3", "mode": "safe" }},
            "apps": {{
                "whole": {{ "cmd": ["${{python}}", "--mode", "$mode", "--authKey", "${{secret}}", "--data", "${{dataset}}", "$nope"] }},
                "inside": {{ "cmd": ["srv", "--authKey=${{secret}}"] }},
                "none": {{ "cmd": ["srv", "--port", "$port"] }}
            }}
        }}"#
        ))
        .unwrap()
    }

    fn lease() -> Lease {
        Lease {
            host: "127.0.0.1".into(),
            port: 9100,
        }
    }

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn properties_win_and_launcher_values_are_fixed() {
        let c = config("");
        let b = body(json!({
            "application": "whole", "python": "/bin/evil", "mode": "unsafe",
            "port": 1, "id": "mine", "secret": "chosen", "dataset": "../../etc",
            "sessionManagerURL": "http://x/launcher/"
        }));
        let s = Session::build(&c, "whole", &c.apps["whole"], &b, lease(), "ID".into());
        assert_eq!(
            s.cmd,
            [
                "/usr/bin/python3",
                "--mode",
                "safe",
                "--authKey",
                &s.secret,
                "--data",
                "a",
                "$nope"
            ]
        );
        assert_ne!(s.secret, "chosen");
        assert_eq!(s.secret.len(), 16);
        assert!(s.secret.chars().all(|c| c.is_ascii_alphanumeric()));
        let r = s.response();
        assert_eq!(r["id"], "ID");
        assert_eq!(r["port"], 9100);
        assert_eq!(r["host"], "127.0.0.1");
        assert_eq!(r["dataset"], "a");
        assert_eq!(r["sessionURL"], "ws://USE_HOSTNAME:9100/ws");
        assert_eq!(r["sessionManagerURL"], "http://x/launcher/");
        assert_eq!(r["extra"], "sid=ID");
        assert_eq!(r["secret"], s.secret.as_str());
        assert!(!r.contains_key("cmd") && !r.contains_key("python"));
        assert!(!s.public_record().contains_key("secret"));
    }

    #[test]
    fn client_settable_fields() {
        let c = config(r#", "client_settable": ["secret", "mode"]"#);
        let b = body(json!({"secret": "chosen", "mode": "fast", "python": "/bin/evil"}));
        let s = Session::build(&c, "whole", &c.apps["whole"], &b, lease(), "ID".into());
        assert_eq!(s.secret, "chosen");
        assert_eq!(&s.cmd[..3], ["/usr/bin/python3", "--mode", "fast"]);
    }

    #[test]
    fn secret_returned_when_used_inside_an_argument_only() {
        let c = config("");
        let s = Session::build(
            &c,
            "inside",
            &c.apps["inside"],
            &Map::new(),
            lease(),
            "I".into(),
        );
        assert_eq!(s.cmd[1], format!("--authKey={}", s.secret));
        assert_eq!(s.response()["secret"], s.secret.as_str());
        let s = Session::build(
            &c,
            "none",
            &c.apps["none"],
            &Map::new(),
            lease(),
            "I".into(),
        );
        assert!(!s.response().contains_key("secret"));
        assert_eq!(s.cmd, ["srv", "--port", "9100"]);
    }

    #[test]
    fn ids_look_like_uuids() {
        let id = new_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(id, new_id());
    }
}
