//! TLS for calls to `https://` instances: the roots a server's certificate is verified
//! against, and the certificate the client presents to servers that ask for one.

use courier_core::tls::{certificates, private_key, read_file, TlsError};
use rustls::{crypto::ring, sign::CertifiedKey, ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;
use std::{
    fmt,
    path::Path,
    sync::{Arc, OnceLock},
};

/// CA certificates a client trusts beside (or instead of) the platform's: your own CA,
/// say. Read once, then given to [`HttpClientBuilder::add_root_certificate`](crate::HttpClientBuilder::add_root_certificate).
#[derive(Debug, Clone)]
pub struct Certificate(Vec<CertificateDer<'static>>);

impl Certificate {
    /// Every certificate in PEM text (a bundle may hold several).
    pub fn from_pem(pem: &[u8]) -> Result<Self, TlsError> {
        certificates(pem, "the CA PEM").map(Self)
    }

    /// Every certificate in a PEM file.
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        certificates(&read_file(path)?, &path.display().to_string()).map(Self)
    }
}

/// The certificate chain and private key a client presents to servers that require
/// client certificates (mutual TLS).
#[derive(Clone)]
pub struct Identity(Arc<CertifiedKey>);

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity").field("certificates", &self.0.cert.len()).field("key", &"<redacted>").finish()
    }
}

impl Identity {
    /// The chain (the client's certificate first) and the key, PEM.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::read(cert, key, "the certificate PEM", "the key PEM")
    }

    /// The chain and the key, from PEM files.
    pub fn from_pem_files(cert: impl AsRef<Path>, key: impl AsRef<Path>) -> Result<Self, TlsError> {
        let (cert, key) = (cert.as_ref(), key.as_ref());
        Self::read(&read_file(cert)?, &read_file(key)?, &cert.display().to_string(), &key.display().to_string())
    }

    fn read(cert: &[u8], key: &[u8], cert_name: &str, key_name: &str) -> Result<Self, TlsError> {
        let chain = certificates(cert, cert_name)?;
        let key = private_key(key, key_name)?;
        let signer = ring::sign::any_supported_type(&key).map_err(|error| TlsError::Refused(error.to_string()))?;
        Ok(Self(Arc::new(CertifiedKey::new(chain, signer))))
    }
}

/// How a client speaks TLS; its rustls configuration is made on the first `https://`
/// call (unless given), so clients that never make one never read the platform's roots.
#[derive(Debug, Clone)]
pub(crate) struct Tls {
    pub(crate) roots: Vec<Certificate>,
    pub(crate) platform_roots: bool,
    pub(crate) identity: Option<Identity>,
    pub(crate) config: OnceLock<Arc<ClientConfig>>,
}

impl Default for Tls {
    fn default() -> Self {
        Self { roots: Vec::new(), platform_roots: true, identity: None, config: OnceLock::new() }
    }
}

impl Tls {
    /// The rustls configuration: the one given, or one from the roots and identity.
    pub(crate) fn config(&self) -> Arc<ClientConfig> {
        Arc::clone(self.config.get_or_init(|| self.client_config()))
    }

    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        if self.platform_roots {
            roots.add_parsable_certificates(platform_roots().iter().cloned());
        }
        for certificate in self.roots.iter().flat_map(|certificate| &certificate.0) {
            if let Err(error) = roots.add(certificate.clone()) {
                tracing::warn!(%error, "a root certificate is unusable, and not trusted");
            }
        }
        // ring, unless the process chose another provider first.
        let _ = ring::default_provider().install_default();
        let builder = ClientConfig::builder().with_root_certificates(roots);
        let mut config = match &self.identity {
            Some(identity) => builder
                .with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(Arc::clone(&identity.0)))),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// The platform's trusted roots, read once per process.
fn platform_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!(%error, "a platform root certificate cannot be read");
        }
        found.certs
    })
}
