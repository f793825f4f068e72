//! TLS on a server's listener: its certificate and key, the client certificates it takes,
//! and renewals, which apply from the next connection on.

use courier_core::{
    auth::ClientCertificate,
    tls::{certificates, private_key, read_file, TlsError},
};
use rustls::{crypto::ring, server::WebPkiClientVerifier, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
    time::Duration,
};
use tokio_rustls::TlsAcceptor;
use x509_parser::{extensions::GeneralName, prelude::FromDer};

/// How a server speaks TLS: the certificate chain and key it presents, and whether it
/// asks callers for client certificates (mutual TLS).
///
/// Every channel of the server is then served over TLS on its one listener: dispatch
/// endpoints, REST routes, multiplexed connections, `/health`, `/metrics` and
/// `/openapi.json`; the URLs it registers are `https://`. A plain HTTP request to the port
/// gets a 400 that says to use `https://`.
///
/// ```no_run
/// # use courier_server as courier;
/// use courier::{Server, TlsConfig};
/// use std::time::Duration;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let tls = TlsConfig::from_pem_files("server.pem", "server.key")?
///     .require_client_certificates(&std::fs::read("clients-ca.pem")?)?
///     .watch(Duration::from_secs(60));
/// let server = Server::builder().bind("0.0.0.0:8443").tls(tls).discover().start().await?;
/// # Ok(()) }
/// ```
///
/// TLS 1.2 and 1.3 only, with rustls and its `ring` crypto provider (unless the process
/// installed another as rustls' default first).
#[derive(Clone)]
pub struct TlsConfig {
    identity: Identity,
    clients: Clients,
    watch: Option<Duration>,
}

#[derive(Clone)]
enum Identity {
    Pem { chain: Vec<CertificateDer<'static>>, key: Arc<PrivateKeyDer<'static>>, files: Option<(PathBuf, PathBuf)> },
    Rustls(Arc<ServerConfig>),
}

#[derive(Clone)]
enum Clients {
    Anonymous,
    /// Callers must present a certificate this CA signed; the handshake fails without.
    Required(Arc<RootCertStore>),
    /// Callers may present one; those without are anonymous.
    Optional(Arc<RootCertStore>),
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TlsConfig");
        match &self.identity {
            Identity::Pem { chain, files, .. } => {
                debug.field("certificates", &chain.len()).field("key", &"<redacted>").field("files", files)
            }
            Identity::Rustls(_) => debug.field("config", &"rustls::ServerConfig"),
        };
        let clients = match self.clients {
            Clients::Anonymous => "anonymous",
            Clients::Required(_) => "certificate required",
            Clients::Optional(_) => "certificate optional",
        };
        debug.field("clients", &clients).field("watch", &self.watch).finish()
    }
}

impl TlsConfig {
    /// Presents the certificate chain in `cert` (PEM: the server's certificate first, then
    /// any intermediates) with the private key in `key` (PEM: PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        let mut config = Self::read_pem(&read_file(cert)?, &read_file(key)?, cert, key)?;
        if let Identity::Pem { files, .. } = &mut config.identity {
            *files = Some((cert.to_owned(), key.to_owned()));
        }
        Ok(config)
    }

    /// Presents the certificate chain and key given as PEM text.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::read_pem(cert, key, Path::new("the certificate PEM"), Path::new("the key PEM"))
    }

    /// Serves with a rustls configuration of the user's own, which decides everything,
    /// client certificates included. Give it `http/1.1` in its ALPN protocols, or none.
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        Self { identity: Identity::Rustls(config), clients: Clients::Anonymous, watch: None }
    }

    fn read_pem(cert: &[u8], key: &[u8], cert_name: &Path, key_name: &Path) -> Result<Self, TlsError> {
        let chain = certificates(cert, &cert_name.display().to_string())?;
        let key = Arc::new(private_key(key, &key_name.display().to_string())?);
        let config =
            Self { identity: Identity::Pem { chain, key, files: None }, clients: Clients::Anonymous, watch: None };
        // Refuse a key that does not match, or that rustls cannot use, now rather than
        // at the first connection.
        config.server_config()?;
        Ok(config)
    }

    /// Requires every caller to present a client certificate signed by a CA in `ca` (PEM):
    /// a connection without one, or with one from another CA, fails at the handshake. A
    /// verified certificate makes the caller a principal named after its subject (see
    /// `courier::auth::CertificateAuthenticator` to grant roles).
    pub fn require_client_certificates(self, ca: &[u8]) -> Result<Self, TlsError> {
        let roots = self.client_roots(ca)?;
        Ok(Self { clients: Clients::Required(roots), ..self })
    }

    /// Takes client certificates signed by a CA in `ca` (PEM) from callers that present
    /// one, and lets the others in anonymously, for methods that allow it (and for
    /// health checks that present none). A certificate from another CA still fails the
    /// handshake.
    pub fn accept_client_certificates(self, ca: &[u8]) -> Result<Self, TlsError> {
        let roots = self.client_roots(ca)?;
        Ok(Self { clients: Clients::Optional(roots), ..self })
    }

    /// Reads the certificate and key files again every `interval`, and serves new
    /// connections with them once they change; connections already open keep theirs.
    /// A renewal that cannot be read is logged and skipped. Only for
    /// [`from_pem_files`](Self::from_pem_files); see also [`Server::reload_tls`](crate::Server::reload_tls).
    pub fn watch(mut self, interval: Duration) -> Self {
        self.watch = Some(interval);
        self
    }

    fn client_roots(&self, ca: &[u8]) -> Result<Arc<RootCertStore>, TlsError> {
        if let Identity::Rustls(_) = self.identity {
            return Err(TlsError::Refused("a rustls ServerConfig decides client certificates itself".to_owned()));
        }
        let mut roots = RootCertStore::empty();
        for certificate in certificates(ca, "the client CA PEM")? {
            roots.add(certificate).map_err(|error| TlsError::Refused(format!("the client CA: {error}")))?;
        }
        Ok(Arc::new(roots))
    }

    /// The files to watch, and how often.
    pub(crate) fn watched(&self) -> Result<Option<(Duration, PathBuf, PathBuf)>, TlsError> {
        match (&self.identity, self.watch) {
            (_, None) => Ok(None),
            (Identity::Pem { files: Some((cert, key)), .. }, Some(every)) => {
                Ok(Some((every, cert.clone(), key.clone())))
            }
            (_, Some(_)) => Err(TlsError::Refused("only a TlsConfig read from files can watch them".to_owned())),
        }
    }

    /// The same settings with a renewed certificate and key, read from these files.
    fn renewed(&self, cert_pem: &[u8], key_pem: &[u8], cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
        let renewed = Self::read_pem(cert_pem, key_pem, cert, key)?;
        Self { clients: self.clients.clone(), ..renewed }.server_config()
    }

    pub(crate) fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let (chain, key) = match &self.identity {
            Identity::Rustls(config) => return Ok(Arc::clone(config)),
            Identity::Pem { chain, key, .. } => (chain.clone(), key.clone_key()),
        };
        let refused = |error: String| TlsError::Refused(error);
        // ring, unless the process chose another provider first.
        let _ = ring::default_provider().install_default();
        let builder = ServerConfig::builder();
        let builder = match &self.clients {
            Clients::Anonymous => builder.with_no_client_auth(),
            Clients::Required(roots) => builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder(Arc::clone(roots)).build().map_err(|error| refused(error.to_string()))?,
            ),
            Clients::Optional(roots) => builder.with_client_cert_verifier(
                WebPkiClientVerifier::builder(Arc::clone(roots))
                    .allow_unauthenticated()
                    .build()
                    .map_err(|error| refused(error.to_string()))?,
            ),
        };
        let mut config = builder.with_single_cert(chain, key).map_err(|error| refused(error.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The configuration new connections are served with; replaced on a renewal.
pub(crate) struct Acceptor {
    current: RwLock<TlsAcceptor>,
}

impl Acceptor {
    pub(crate) fn new(config: Arc<ServerConfig>) -> Arc<Self> {
        Arc::new(Self { current: RwLock::new(TlsAcceptor::from(config)) })
    }

    pub(crate) fn current(&self) -> TlsAcceptor {
        courier_core::sync::read(&self.current).clone()
    }

    pub(crate) fn replace(&self, config: Arc<ServerConfig>) {
        *courier_core::sync::write(&self.current) = TlsAcceptor::from(config);
    }

    /// Re-reads the files of `config` every time its watch interval passes, and serves
    /// with them once they change.
    pub(crate) fn watch(self: &Arc<Self>, config: TlsConfig) -> Result<Option<tokio::task::JoinHandle<()>>, TlsError> {
        let Some((every, cert, key)) = config.watched()? else { return Ok(None) };
        let acceptor = Arc::downgrade(self);
        // Contents, not modification times: those can be too coarse to tell two writes
        // apart, and a file swapped in by a rename may keep an old one.
        let read = |cert: PathBuf, key: PathBuf| async move {
            let (cert, key) = tokio::join!(tokio::fs::read(cert), tokio::fs::read(key));
            cert.ok().zip(key.ok())
        };
        Ok(Some(tokio::spawn(async move {
            let mut seen = read(cert.clone(), key.clone()).await;
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(acceptor) = acceptor.upgrade() else { return };
                let now = read(cert.clone(), key.clone()).await;
                if now == seen {
                    continue;
                }
                let Some((cert_pem, key_pem)) = &now else { continue };
                match config.renewed(cert_pem, key_pem, &cert, &key) {
                    Ok(renewed) => {
                        acceptor.replace(renewed);
                        tracing::info!(cert = %cert.display(), "serving a renewed certificate");
                    }
                    // Half-written files, usually: tried again once they change.
                    Err(error) => {
                        tracing::warn!(%error, "cannot use the renewed certificate; keeping the current one")
                    }
                }
                seen = now;
            }
        })))
    }
}

/// The verified client certificate of a connection, if its caller presented one.
pub(crate) fn client_certificate(connection: &rustls::ServerConnection) -> Option<Arc<ClientCertificate>> {
    let der = connection.peer_certificates()?.first()?;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
    let subject = parsed.subject().iter_common_name().next().and_then(|name| name.as_str().ok()).unwrap_or_default();
    let names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|extension| {
            extension
                .value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(name) | GeneralName::URI(name) | GeneralName::RFC822Name(name) => {
                        Some((*name).to_owned())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(Arc::new(ClientCertificate { subject: subject.to_owned(), names, der: der.to_vec() }))
}
