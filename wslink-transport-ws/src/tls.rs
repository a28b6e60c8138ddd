//! TLS (feature `tls`): certificates for the server side and trusted roots for the
//! client side, with rustls and its `ring` crypto provider.
//!
//! * [`TlsConfig`] — what a [`WsListener`](crate::WsListener) needs to serve `https://`
//!   and `wss://`: a certificate chain and its private key, read from PEM files like the
//!   reference's `--ssl cert.pem,key.pem` ([`TlsConfig::from_pem_files`]), from PEM or DER
//!   bytes, or a ready rustls [`ServerConfig`]. With the `tls-adhoc` feature,
//!   `TlsConfig::self_signed` makes a throw-away self-signed certificate (the reference's
//!   `--ssl adhoc`).
//! * [`ConnectOptions::trust_pem_file`](crate::ConnectOptions::trust_pem_file) and
//!   [`trust_der`](crate::ConnectOptions::trust_der) — extra root certificates a `wss://`
//!   client trusts besides the platform's (read once per process from the system store with
//!   `rustls-native-certs`; nothing is fetched from the network).
//!
//! Errors of reading and parsing certificates and keys are [`TlsError`]s that name the file
//! and what was expected in it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// An error of loading certificates or keys, or of building a TLS configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// What the file should hold (`certificate`, `private key`, …).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// A file (or buffer) is not the PEM expected, or holds no item of the expected kind.
    #[error("{what} {origin}: {message}")]
    Pem {
        /// What was expected (`certificate`, `private key`, …).
        what: &'static str,
        /// Where it was read from: a file name, or `(in memory)`.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// rustls refused the certificate, the key or the pair (a key that does not match the
    /// certificate, an unsupported key type, …).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// A self-signed certificate could not be generated.
    #[error("cannot generate a self-signed certificate: {0}")]
    Generate(String),
}

impl From<TlsError> for std::io::Error {
    fn from(e: TlsError) -> Self {
        let kind = match &e {
            TlsError::Read { source, .. } => source.kind(),
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, e)
    }
}

/// The crypto provider of every configuration built here: rustls's `ring` provider
/// (never the process default, which another crate may have set to aws-lc-rs).
fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        what,
        path: path.to_owned(),
        source,
    })
}

fn pem_error(what: &'static str, origin: &str, e: rustls_pki_types::pem::Error) -> TlsError {
    let message = match e {
        rustls_pki_types::pem::Error::NoItemsFound => match what {
            "private key" => "no PEM private key found (PKCS#8 `PRIVATE KEY`, RSA `RSA PRIVATE \
                              KEY` or SEC1 `EC PRIVATE KEY` expected)"
                .to_owned(),
            _ => format!("no PEM {what} found (`-----BEGIN CERTIFICATE-----` expected)"),
        },
        other => format!("not valid PEM: {other}"),
    };
    TlsError::Pem {
        what,
        origin: origin.to_owned(),
        message,
    }
}

/// Parses every `CERTIFICATE` section of `pem` (other sections are skipped).
pub(crate) fn parse_certificates(
    pem: &[u8],
    origin: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error("certificate", origin, e))?;
    if certs.is_empty() {
        return Err(pem_error(
            "certificate",
            origin,
            rustls_pki_types::pem::Error::NoItemsFound,
        ));
    }
    Ok(certs)
}

/// Parses the first private key (PKCS#8, PKCS#1 RSA or SEC1 EC) of `pem`.
fn parse_private_key(pem: &[u8], origin: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| pem_error("private key", origin, e))
}

/// Reads every certificate of a PEM file (a chain, or a bundle of roots).
pub fn load_certificates(path: impl AsRef<Path>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let path = path.as_ref();
    parse_certificates(&read("certificate", path)?, &path.display().to_string())
}

/// Reads the first private key (PKCS#8, RSA or SEC1, PEM) of a file.
pub fn load_private_key(path: impl AsRef<Path>) -> Result<PrivateKeyDer<'static>, TlsError> {
    let path = path.as_ref();
    parse_private_key(&read("private key", path)?, &path.display().to_string())
}

const IN_MEMORY: &str = "(in memory)";

/// The server side of TLS: a certificate chain and its private key, as a shareable rustls
/// configuration. Put it in [`HttpOptions::tls`](crate::HttpOptions::tls) and the
/// listener serves `https://` and `wss://` only.
///
/// Each accepted TCP connection does its TLS handshake in its own task, bounded by
/// [`handshake_timeout`](TlsConfig::with_handshake_timeout) (10 s by default); a failed or
/// slow handshake is logged and closes only that connection.
#[derive(Clone)]
pub struct TlsConfig {
    server: Arc<ServerConfig>,
    handshake_timeout: Duration,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("alpn_protocols", &self.server.alpn_protocols.len())
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// The default bound of one TLS handshake.
    pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Reads a PEM certificate chain (leaf first) and a PEM private key (PKCS#8, RSA or
    /// SEC1), as the reference's `--ssl cert.pem,key.pem`. Both may be the same file.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsError> {
        let chain = load_certificates(cert_chain)?;
        let key = load_private_key(private_key)?;
        TlsConfig::from_der(chain, key)
    }

    /// Parses a PEM certificate chain and a PEM private key held in memory.
    pub fn from_pem(cert_chain: &[u8], private_key: &[u8]) -> Result<TlsConfig, TlsError> {
        let chain = parse_certificates(cert_chain, IN_MEMORY)?;
        let key = parse_private_key(private_key, IN_MEMORY)?;
        TlsConfig::from_der(chain, key)
    }

    /// Builds the configuration from DER certificates (leaf first) and a DER private key.
    /// The server offers ALPN `http/1.1`.
    pub fn from_der(
        cert_chain: Vec<CertificateDer<'static>>,
        private_key: PrivateKeyDer<'static>,
    ) -> Result<TlsConfig, TlsError> {
        let mut server = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(cert_chain, private_key)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsConfig::from_server_config(Arc::new(server)))
    }

    /// Uses a rustls configuration built by the application (client certificates, SNI
    /// resolution, …). Its ALPN list should be empty or offer `http/1.1`: the listener
    /// speaks HTTP/1.1 only.
    pub fn from_server_config(server: Arc<ServerConfig>) -> TlsConfig {
        TlsConfig {
            server,
            handshake_timeout: TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// A throw-away self-signed certificate for `names` (DNS names or IP addresses), as the
    /// reference's `--ssl adhoc`. Returns the configuration and the certificate in PEM, for
    /// clients that must trust it. Feature `tls-adhoc`.
    #[cfg(feature = "tls-adhoc")]
    pub fn self_signed(names: &[String]) -> Result<(TlsConfig, String), TlsError> {
        let certified = rcgen::generate_simple_self_signed(names.to_vec())
            .map_err(|e| TlsError::Generate(e.to_string()))?;
        let pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let config = TlsConfig::from_der(vec![certified.cert.der().clone()], key)?;
        Ok((config, pem))
    }

    /// Bounds each TLS handshake (default [`DEFAULT_HANDSHAKE_TIMEOUT`](Self::DEFAULT_HANDSHAKE_TIMEOUT)).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> TlsConfig {
        self.handshake_timeout = timeout;
        self
    }

    /// The bound of each TLS handshake.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The rustls configuration.
    pub fn server_config(&self) -> &Arc<ServerConfig> {
        &self.server
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.server.clone())
    }
}

/// The platform's root certificates, read once per process (an unreadable or empty store
/// leaves only the extra roots).
fn platform_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        if !loaded.errors.is_empty() {
            tracing::debug!(errors = ?loaded.errors, "some platform root certificates could not be read");
        }
        loaded.certs
    })
}

/// The client configuration of `wss://` connections: the platform's roots (unless
/// `platform` is false) and `extra` roots, ring provider.
pub(crate) fn client_config(
    extra: &[CertificateDer<'static>],
    platform: bool,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    if platform {
        let (_added, ignored) = roots.add_parsable_certificates(platform_roots().iter().cloned());
        if ignored > 0 {
            tracing::debug!(ignored, "platform root certificates ignored");
        }
    }
    for cert in extra {
        roots.add(cert.clone())?;
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "wslink-transport-ws-tls-{}-{name}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_missing_file_names_the_file() {
        let missing = std::env::temp_dir().join("wslink-no-such-dir/cert.pem");
        let err = TlsConfig::from_pem_files(&missing, &missing).unwrap_err();
        assert!(
            matches!(
                err,
                TlsError::Read {
                    what: "certificate",
                    ..
                }
            ),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("cannot read certificate"), "{text}");
        assert!(text.contains("cert.pem"), "{text}");
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        let path = temp_file("garbage.pem", b"this is not PEM at all\n\x00\x01\x02");
        let err = load_certificates(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                TlsError::Pem {
                    what: "certificate",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(text.contains("no PEM certificate found"), "{text}");
        assert!(text.contains("garbage.pem"), "{text}");
    }

    #[test]
    fn garbage_is_not_a_key() {
        let path = temp_file(
            "garbage.key",
            b"-----BEGIN NONSENSE-----\nAAAA\n-----END NONSENSE-----\n",
        );
        let err = load_private_key(&path).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(
                err,
                TlsError::Pem {
                    what: "private key",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(text.contains("no PEM private key found"), "{text}");
    }

    #[test]
    fn broken_base64_is_reported() {
        let pem = b"-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n";
        let err = parse_certificates(pem, IN_MEMORY).unwrap_err();
        assert!(err.to_string().contains("not valid PEM"), "{err}");
    }

    #[test]
    fn a_certificate_that_is_not_der_is_refused_by_rustls() {
        // Valid PEM and base64, but not a certificate: rustls refuses the pair.
        let pem = b"-----BEGIN CERTIFICATE-----\nAAECAwQF\n-----END CERTIFICATE-----\n";
        let key = b"-----BEGIN PRIVATE KEY-----\nAAECAwQF\n-----END PRIVATE KEY-----\n";
        let err = TlsConfig::from_pem(pem, key).unwrap_err();
        assert!(matches!(err, TlsError::Rustls(_)), "{err:?}");
    }

    #[test]
    fn extra_roots_must_be_certificates() {
        let err = client_config(&[CertificateDer::from(vec![1, 2, 3])], false).unwrap_err();
        assert!(matches!(err, TlsError::Rustls(_)), "{err:?}");
    }

    #[cfg(feature = "tls-adhoc")]
    #[test]
    fn self_signed_round_trips_through_pem() {
        let (config, pem) = TlsConfig::self_signed(&["localhost".into()]).unwrap();
        assert_eq!(
            config.handshake_timeout(),
            TlsConfig::DEFAULT_HANDSHAKE_TIMEOUT
        );
        let certs = parse_certificates(pem.as_bytes(), IN_MEMORY).unwrap();
        assert_eq!(certs.len(), 1);
        client_config(&certs, false).unwrap();
    }
}
