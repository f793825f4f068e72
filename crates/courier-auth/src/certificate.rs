use courier_core::{
    auth::{Authenticator, Credentials, Principal},
    BoxFuture, ServiceError,
};
use std::collections::HashMap;

/// Grants roles to callers by the client certificate they presented over mutual TLS.
///
/// The server verifies the certificate against the CA it trusts for clients (see
/// `TlsConfig::require_client_certificates`); this authenticator only names the caller
/// after it and looks its roles up: those granted to its subject or to any of its
/// alternative names. A verified certificate with no grant is an authenticated caller
/// with no roles.
///
/// ```
/// # mod courier { pub use courier_auth::*; pub mod auth { pub use courier_auth::*; } }
/// use courier::auth::CertificateAuthenticator;
///
/// let authenticator = CertificateAuthenticator::new()
///     .grant("billing.internal", ["invoices:write"])
///     .grant("spiffe://example.org/ops", ["admin"]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CertificateAuthenticator {
    /// By subject or alternative name, the roles granted.
    grants: HashMap<String, Vec<String>>,
}

impl CertificateAuthenticator {
    /// An authenticator that grants no roles yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grants `roles` to callers whose certificate names `name`, as its subject's common
    /// name or as an alternative name.
    pub fn grant(mut self, name: impl Into<String>, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.grants.entry(name.into()).or_default().extend(roles.into_iter().map(Into::into));
        self
    }
}

impl Authenticator for CertificateAuthenticator {
    fn authenticate<'a>(
        &'a self,
        credentials: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ServiceError>> {
        let principal = credentials.certificate.map(|certificate| {
            let mut roles: Vec<String> = Vec::new();
            for role in self.grants.iter().filter(|(name, _)| certificate.is_named(name)).flat_map(|(_, roles)| roles) {
                if !roles.contains(role) {
                    roles.push(role.clone());
                }
            }
            Principal { name: certificate.name().to_owned(), roles }
        });
        Box::pin(async move { Ok(principal) })
    }

    fn challenge(&self) -> Option<&str> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use courier_core::auth::ClientCertificate;

    fn principal(
        authenticator: &CertificateAuthenticator,
        certificate: Option<&ClientCertificate>,
    ) -> Option<Principal> {
        let headers = http::HeaderMap::new();
        let credentials = Credentials { headers: &headers, certificate };
        block_on(authenticator.authenticate(credentials)).expect("authenticates")
    }

    fn block_on<T>(future: BoxFuture<'_, T>) -> T {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime").block_on(future)
    }

    #[test]
    fn roles_come_from_the_subject_and_every_alternative_name() {
        let authenticator = CertificateAuthenticator::new()
            .grant("alice", ["reader"])
            .grant("spiffe://example.org/alice", ["writer", "reader"]);
        let certificate = ClientCertificate {
            subject: "alice".into(),
            names: vec!["spiffe://example.org/alice".into()],
            der: Vec::new(),
        };
        let alice = principal(&authenticator, Some(&certificate)).expect("a principal");
        assert_eq!(alice.name, "alice");
        let mut roles = alice.roles.clone();
        roles.sort();
        assert_eq!(roles, ["reader", "writer"]);
        let stranger = ClientCertificate { subject: String::new(), names: vec!["bob".into()], der: Vec::new() };
        assert_eq!(principal(&authenticator, Some(&stranger)), Some(Principal::new("bob", Vec::<String>::new())));
        assert_eq!(principal(&authenticator, None), None);
    }
}
