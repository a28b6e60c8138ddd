//! `--pubsub URL`: which broker a CLI server shares its publications through.
//!
//! The scheme picks the backend (`nats://` needs the `nats` feature, `redis://` the
//! `redis` feature); the URL is checked when the flags are parsed, so a typo stops the
//! server before it starts rather than leaving it a lone node.

use std::str::FromStr;

use wslink_server::ServerBuilder;

/// A broker URL given to `--pubsub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl(String);

impl BrokerUrl {
    /// The URL as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Adds the backend for this broker to `builder`, under `namespace` (a namespace
    /// that is not dot-separated words is logged and the server stays a single node).
    pub fn apply(&self, builder: ServerBuilder, namespace: &str) -> ServerBuilder {
        match backend(&self.0, namespace) {
            Ok(backend) => builder.pubsub(backend),
            Err(e) => {
                // The URL was checked when parsed: only a namespace not checked by
                // `--pubsub-namespace`'s parser can land here.
                tracing::error!(error = %e, "--pubsub: serving as a single node");
                builder
            }
        }
    }
}

impl FromStr for BrokerUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, Self::Err> {
        backend(url, "wslink").map(|_| BrokerUrl(url.to_owned()))
    }
}

/// Checks a `--pubsub-namespace`: dot-separated words of letters, digits and `_`.
pub(crate) fn parse_namespace(namespace: &str) -> Result<String, String> {
    wslink_server::cluster::Channels::new(namespace)
        .map(|_| namespace.to_owned())
        .map_err(|e| e.to_string())
}

type Backend = Box<dyn wslink_server::cluster::Backend>;

fn backend(url: &str, namespace: &str) -> Result<Backend, String> {
    let scheme = url.split_once("://").map(|(s, _)| s).unwrap_or_default();
    match scheme {
        "nats" => nats(url, namespace),
        "redis" => redis(url, namespace),
        _ => Err(format!(
            "unsupported broker URL {url:?}: use nats://HOST:PORT or redis://HOST:PORT"
        )),
    }
}

#[cfg(feature = "nats")]
fn nats(url: &str, namespace: &str) -> Result<Backend, String> {
    let backend =
        wslink_pubsub_nats::NatsBackend::new(url, namespace).map_err(|e| e.to_string())?;
    Ok(Box::new(backend))
}

#[cfg(not(feature = "nats"))]
fn nats(_: &str, _: &str) -> Result<Backend, String> {
    Err("this build has no NATS backend: rebuild with the `nats` feature".into())
}

#[cfg(feature = "redis")]
fn redis(url: &str, namespace: &str) -> Result<Backend, String> {
    let backend =
        wslink_pubsub_redis::RedisBackend::new(url, namespace).map_err(|e| e.to_string())?;
    Ok(Box::new(backend))
}

#[cfg(not(feature = "redis"))]
fn redis(_: &str, _: &str) -> Result<Backend, String> {
    Err("this build has no Redis backend: rebuild with the `redis` feature".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_when_parsed() {
        assert!("ftp://127.0.0.1:1".parse::<BrokerUrl>().is_err());
        assert!("127.0.0.1:4222".parse::<BrokerUrl>().is_err());
        assert_eq!(
            "nats://127.0.0.1:4222".parse::<BrokerUrl>().is_ok(),
            cfg!(feature = "nats")
        );
        assert_eq!(
            "redis://127.0.0.1:6379".parse::<BrokerUrl>().is_ok(),
            cfg!(feature = "redis")
        );
        assert!(parse_namespace("my.app").is_ok());
        assert!(parse_namespace("my app").is_err());
        assert!(parse_namespace("").is_err());
    }
}
