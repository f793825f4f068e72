//! A service only admins may call, which tells them what it knows of their call.

use courier::prelude::*;

/// Keeps the books; only admins may read them.
#[service(name = "ledger", protobuf)]
#[authorize(roles = ["admin"])]
pub trait Ledger {
    /// Who the call is from and for: `<principal> for <tenant>`, from the caller's
    /// principal and its `tenant` metadata.
    async fn audit(&self) -> Result<String, ServiceError>;
}

/// The component that runs [`Ledger`]. `greeter-server` runs it when
/// `COURIER_JWT_SECRET` is set, checking HS256 tokens signed with that secret.
#[component(name = "ledger-component", services = [Ledger])]
#[derive(Debug)]
pub struct LedgerComponent;

/// The implementation of [`Ledger`]; not discovered, so only servers that authenticate
/// callers run it.
#[derive(Debug, Default)]
pub struct Auditor;

#[implementation(manual)]
impl Ledger for Auditor {
    async fn audit(&self) -> Result<String, ServiceError> {
        let context = CallContext::current();
        let caller = context.principal().map_or("nobody", |principal| principal.name.as_str());
        Ok(format!("{caller} for {}", context.metadata("tenant").unwrap_or("no tenant")))
    }
}
