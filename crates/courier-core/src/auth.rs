//! Who is calling: the [`Principal`] an [`Authenticator`] finds in a request's
//! [`Credentials`] (its headers, and the certificate its caller presented over mutual TLS),
//! and what a method demands of it.

use crate::{BoxFuture, ErrorCode, ServiceError};
use std::fmt;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Principal {
    /// Who it is: a user name, or a token's subject.
    pub name: String,
    /// What it may do.
    pub roles: Vec<String>,
}

impl Principal {
    /// A principal with these roles.
    pub fn new(name: impl Into<String>, roles: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self { name: name.into(), roles: roles.into_iter().map(Into::into).collect() }
    }

    /// Whether it holds the role.
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }
}

/// A client certificate the server verified against the CA it trusts for clients.
///
/// Servers that take client certificates put it in each request's extensions; without an
/// authenticator that says otherwise, it makes the caller a [`Principal`] named after it,
/// with no roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The subject's common name, or empty when it has none.
    pub subject: String,
    /// The subject alternative names: DNS names, URIs (a SPIFFE id, say) and e-mail
    /// addresses.
    pub names: Vec<String>,
    /// The certificate itself, DER.
    pub der: Vec<u8>,
}

impl ClientCertificate {
    /// What the caller is called: the subject's common name, else its first alternative
    /// name.
    pub fn name(&self) -> &str {
        match self.names.first() {
            Some(first) if self.subject.is_empty() => first,
            _ => &self.subject,
        }
    }

    /// Whether `name` is the subject or one of the alternative names.
    pub fn is_named(&self, name: &str) -> bool {
        self.subject == name || self.names.iter().any(|given| given == name)
    }
}

/// What a request presents to prove who sends it.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The request's headers: `Authorization`, and whatever else an authenticator reads.
    pub headers: &'a http::HeaderMap,
    /// The verified client certificate of the connection the request came over.
    pub certificate: Option<&'a ClientCertificate>,
}

impl<'a> Credentials<'a> {
    /// The credentials of a request with these headers and extensions.
    pub fn new(headers: &'a http::HeaderMap, extensions: &'a http::Extensions) -> Self {
        Self { headers, certificate: extensions.get::<std::sync::Arc<ClientCertificate>>().map(AsRef::as_ref) }
    }
}

/// Finds the principal in a request's credentials.
///
/// `Ok(None)` means no credential was presented; `Err` means one was, and it is not
/// valid (expired, badly signed, wrong password, malformed): the caller gets a 401 either
/// way when the method is not public.
pub trait Authenticator: Send + Sync + fmt::Debug + 'static {
    /// The principal the request's credentials prove, if any.
    fn authenticate<'a>(
        &'a self,
        credentials: Credentials<'a>,
    ) -> BoxFuture<'a, Result<Option<Principal>, ServiceError>>;

    /// The `WWW-Authenticate` challenge sent with a 401, `Bearer realm="courier"`; `None`
    /// for credentials HTTP has no challenge for, such as client certificates.
    fn challenge(&self) -> Option<&str>;
}

/// What a method demands of its caller, from `#[authorize]` and `#[public]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// Anyone, with or without a credential: the default, and `#[public]`.
    #[default]
    Public,
    /// An authenticated caller holding at least one of these roles; any authenticated
    /// caller when the list is empty.
    Roles(&'static [&'static str]),
}

impl Access {
    /// Whether `principal` may call: `Err` is a 401 without a principal, a 403 without
    /// the role.
    pub fn check(self, principal: Option<&Principal>) -> Result<(), ServiceError> {
        let Self::Roles(roles) = self else { return Ok(()) };
        let Some(principal) = principal else {
            return Err(ServiceError::new(ErrorCode::Unauthenticated, "this method needs a valid credential"));
        };
        if roles.is_empty() || roles.iter().any(|role| principal.has_role(role)) {
            return Ok(());
        }
        Err(ServiceError::new(
            ErrorCode::Forbidden,
            format!("`{}` lacks the role this method needs: one of {}", principal.name, roles.join(", ")),
        ))
    }
}

/// The credential a request presents with the given scheme (`Bearer`, `Basic`): `Ok(None)`
/// without an `Authorization` header, or with another scheme; `Err` when it is unreadable.
pub fn credential<'h>(headers: &'h http::HeaderMap, scheme: &str) -> Result<Option<&'h str>, ServiceError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else { return Ok(None) };
    let value = value
        .to_str()
        .map_err(|_| ServiceError::new(ErrorCode::Unauthenticated, "the Authorization header is not text"))?;
    let Some((given, credential)) = value.trim().split_once(' ') else {
        return Err(ServiceError::new(
            ErrorCode::Unauthenticated,
            "the Authorization header is not `<scheme> <credential>`",
        ));
    };
    if !given.eq_ignore_ascii_case(scheme) {
        return Ok(None);
    }
    Ok(Some(credential.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_is_401_without_a_principal_and_403_without_the_role() {
        let admin = Principal::new("ann", ["admin"]);
        let guest = Principal::new("bob", ["guest"]);
        let admins = Access::Roles(&["admin"]);
        assert_eq!(admins.check(None).expect_err("no principal").code, ErrorCode::Unauthenticated);
        assert_eq!(admins.check(Some(&guest)).expect_err("no role").code, ErrorCode::Forbidden);
        assert!(admins.check(Some(&admin)).is_ok());
        assert!(Access::Roles(&[]).check(Some(&guest)).is_ok());
        assert!(Access::Public.check(None).is_ok());
    }
}
