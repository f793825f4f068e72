//! What both sides of a TLS connection read: certificates and private keys in PEM, and
//! the errors of reading them.

use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// PEM text holds no usable certificate or key.
    #[error("{what}: {message}")]
    Pem {
        /// What was read: a file's path, or `the certificate PEM`.
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// rustls refused the certificates, the key or the settings.
    #[error("TLS settings refused: {0}")]
    Refused(String),
}

/// The contents of a file, or why it cannot be read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// Every certificate in PEM text, in order; `what` names the text in errors.
pub fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::Pem { what: what.to_owned(), message: error.to_string() })?;
    if certificates.is_empty() {
        return Err(TlsError::Pem { what: what.to_owned(), message: "holds no CERTIFICATE block".to_owned() });
    }
    Ok(certificates)
}

/// The first private key in PEM text (PKCS#8, PKCS#1 or SEC1); `what` names the text in
/// errors.
pub fn private_key(pem: &[u8], what: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|error| TlsError::Pem {
        what: what.to_owned(),
        message: format!("holds no usable PRIVATE KEY block ({error})"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_without_pem_blocks_names_what_was_read() {
        let error = certificates(b"not pem", "cert.pem").expect_err("no certificate");
        assert!(error.to_string().starts_with("cert.pem: "), "{error}");
        let error =
            private_key(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "key.pem").expect_err("no key");
        assert!(error.to_string().contains("PRIVATE KEY"), "{error}");
    }
}
