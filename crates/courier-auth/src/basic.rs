use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use base64::Engine;
use courier_core::{
    auth::{credential, Authenticator, Credentials, Principal},
    BoxFuture, ErrorCode, ServiceError,
};
use std::{collections::HashMap, path::Path, sync::Arc};

/// A verification for unknown users, so a wrong name takes as long as a wrong password.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$q0NCbM4hL4o0hC6m0vTqDq1k0bC4Q8O3pUq3yR0h6n4";

/// HTTP Basic against a file of users: one `name:hash:role,role` per line, where `hash`
/// is an argon2 PHC string (`cargo xtask hash-password` makes one); `#` starts a comment.
///
/// ```
/// # mod courier { pub use courier_auth::*; pub mod auth { pub use courier_auth::*; } }
/// use courier::{auth::{hash_password, BasicAuthenticator}};
/// let users = format!("ann:{}:admin,ops\n", hash_password("correct horse").unwrap());
/// let authenticator = BasicAuthenticator::parse(&users).unwrap();
/// ```
///
/// Its `Debug` names the users and their roles, never their password hashes.
#[derive(Clone)]
pub struct BasicAuthenticator {
    users: Arc<HashMap<String, (String, Vec<String>)>>,
}

impl std::fmt::Debug for BasicAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut users: Vec<_> = self.users.iter().map(|(name, (_, roles))| (name, roles)).collect();
        users.sort();
        f.debug_struct("BasicAuthenticator").field("users", &users).field("hashes", &"<redacted>").finish()
    }
}

impl BasicAuthenticator {
    /// Reads the users from a file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ServiceError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|error| ServiceError::internal(format!("cannot read users from {}: {error}", path.display())))?;
        Self::parse(&text)
    }

    /// Reads the users from text in the file's format.
    pub fn parse(text: &str) -> Result<Self, ServiceError> {
        let mut users = HashMap::new();
        for (number, line) in text.lines().enumerate().map(|(index, line)| (index + 1, line.trim())) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.splitn(3, ':');
            let (Some(name), Some(hash)) = (fields.next(), fields.next()) else {
                return Err(ServiceError::bad_request(format!("users line {number}: expected `name:hash:roles`")));
            };
            PasswordHash::new(hash).map_err(|error| {
                ServiceError::bad_request(format!("users line {number}: not a password hash: {error}"))
            })?;
            let roles = fields.next().unwrap_or_default().split(',').filter(|role| !role.is_empty()).map(str::to_owned);
            users.insert(name.to_owned(), (hash.to_owned(), roles.collect()));
        }
        Ok(Self { users: Arc::new(users) })
    }

    fn verify(&self, name: &str, password: &str) -> Result<Principal, ServiceError> {
        let (hash, roles) = match self.users.get(name) {
            Some((hash, roles)) => (hash.as_str(), Some(roles)),
            None => (DECOY, None),
        };
        let verified = PasswordHash::new(hash)
            .ok()
            .is_some_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok());
        match (verified, roles) {
            (true, Some(roles)) => Ok(Principal { name: name.to_owned(), roles: roles.clone() }),
            _ => Err(ServiceError::new(ErrorCode::Unauthenticated, "wrong user name or password")),
        }
    }
}

impl Authenticator for BasicAuthenticator {
    fn authenticate<'a>(
        &'a self,
        credentials: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ServiceError>> {
        Box::pin(async move {
            let Some(encoded) = credential(credentials.headers, "Basic")? else { return Ok(None) };
            let malformed = || ServiceError::new(ErrorCode::Unauthenticated, "the Basic credential is malformed");
            let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| malformed())?;
            let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
            let (name, password) = decoded.split_once(':').ok_or_else(malformed)?;
            let (name, password) = (name.to_owned(), password.to_owned());
            // Hashing is deliberately slow: keep it off the async workers.
            let this = self.clone();
            tokio::task::spawn_blocking(move || this.verify(&name, &password))
                .await
                .map_err(|_| ServiceError::internal("password verification failed"))?
                .map(Some)
        })
    }

    fn challenge(&self) -> Option<&str> {
        Some("Basic realm=\"courier\", charset=\"UTF-8\"")
    }
}

/// An argon2id hash of a password, as a PHC string for the users file.
pub fn hash_password(password: &str) -> Result<String, ServiceError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| ServiceError::internal(format!("cannot hash the password: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hashes_are_never_printed() {
        let hash = hash_password("correct horse").unwrap();
        let authenticator = BasicAuthenticator::parse(&format!("ann:{hash}:admin,ops\n")).unwrap();
        let printed = format!("{authenticator:?}");
        assert!(!printed.contains(&hash) && !printed.contains("argon2"), "{printed}");
        assert!(printed.contains("ann") && printed.contains("admin") && printed.contains("<redacted>"), "{printed}");
    }
}
