//! Authenticators for courier servers: [`JwtAuthenticator`] for bearer tokens,
//! [`BasicAuthenticator`] for HTTP Basic against a file of argon2 password hashes, and
//! [`CertificateAuthenticator`] for client certificates over mutual TLS.

#![warn(missing_docs)]

mod basic;
mod certificate;
mod jwt;

pub use basic::{hash_password, BasicAuthenticator};
pub use certificate::CertificateAuthenticator;
pub use jwt::JwtAuthenticator;
