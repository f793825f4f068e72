//! Authenticators for courier servers: [`JwtAuthenticator`] for bearer tokens and
//! [`BasicAuthenticator`] for HTTP Basic against a file of argon2 password hashes.

mod basic;
mod jwt;

pub use basic::{hash_password, BasicAuthenticator};
pub use jwt::JwtAuthenticator;
