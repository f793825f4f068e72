//! A service over mutual TLS: the server proves itself with its certificate, callers
//! prove themselves with theirs, and the certificate's name decides the roles. The
//! certificates are made here, by a throwaway CA; in real life they come from yours.

use courier::{
    auth::CertificateAuthenticator,
    client::HttpClient,
    prelude::*,
    tls::{Certificate, Identity, TlsConfig},
};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::{path::PathBuf, time::Duration};

#[service]
pub trait Payroll {
    #[authorize(roles = ["admin"])]
    async fn run(&self) -> Result<String, ServiceError>;
}

#[component(services = [Payroll])]
struct PayrollComponent;

#[derive(Default)]
struct Clerk;

#[implementation]
impl Payroll for Clerk {
    async fn run(&self) -> Result<String, ServiceError> {
        let caller = CallContext::current().principal().map(|who| who.name.clone()).unwrap_or_default();
        Ok(format!("payroll run, for {caller}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Report> {
    let pki = Pki::new()?;

    // Server: its certificate, client certificates from the CA required, roles by name,
    // and the certificate files read again when they change.
    let tls = TlsConfig::from_pem_files(&pki.server_cert, &pki.server_key)?
        .require_client_certificates(pki.ca.pem().as_bytes())?
        .watch(Duration::from_secs(1));
    let authenticator = CertificateAuthenticator::new().grant("billing.internal", ["admin"]);
    let mut server =
        Server::builder().component(PayrollComponent).tls(tls).authenticator(authenticator).start().await?;
    println!("serving on {}", server.url());

    // Client: trusts the CA, and presents the billing service's certificate.
    let (cert, key) = pki.issue("billing.internal")?;
    let client = HttpClient::builder()
        .add_root_certificate(Certificate::from_pem(pki.ca.pem().as_bytes())?)
        .identity(Identity::from_pem(cert.as_bytes(), key.as_bytes())?)
        .build();
    let billing = ServiceManager::builder().http_client(client).build().get::<dyn Payroll>()?;
    println!("{}", billing.run().await?);

    // A caller without a certificate does not get past the handshake.
    let root = Certificate::from_pem(pki.ca.pem().as_bytes())?;
    let anonymous = HttpClient::builder().add_root_certificate(root).build();
    let stranger = ServiceManager::builder().http_client(anonymous).build().get::<dyn Payroll>()?;
    let refused = stranger.run().await.expect_err("no certificate, no call");
    assert_eq!(refused.code, ErrorCode::Unavailable);
    println!("without a certificate: {refused}");

    // A renewed server certificate serves new connections, without a restart.
    pki.renew_server()?;
    server.reload_tls(
        &TlsConfig::from_pem_files(&pki.server_cert, &pki.server_key)?
            .require_client_certificates(pki.ca.pem().as_bytes())?,
    )?;
    println!("after renewal: {}", billing.run().await?);

    server.shutdown().await?;
    Ok(())
}

/// A throwaway CA, and the server's certificate files.
struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
    server_cert: PathBuf,
    server_key: PathBuf,
}

impl Pki {
    fn new() -> Result<Self, Report> {
        let mut params = CertificateParams::new(Vec::new())?;
        params.distinguished_name.push(DnType::CommonName, "example CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(params, KeyPair::generate()?)?;
        let folder = std::env::temp_dir().join(format!("courier-tls-example-{}", std::process::id()));
        std::fs::create_dir_all(&folder)?;
        let pki = Self { ca, server_cert: folder.join("server.pem"), server_key: folder.join("server.key") };
        pki.renew_server()?;
        Ok(pki)
    }

    /// A certificate and key, PEM, for `name`.
    fn issue(&self, name: &str) -> Result<(String, String), Report> {
        let mut params = CertificateParams::new(vec![name.to_owned(), "127.0.0.1".to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate()?;
        Ok((params.signed_by(&key, &self.ca)?.pem(), key.serialize_pem()))
    }

    /// Writes a new certificate for the server.
    fn renew_server(&self) -> Result<(), Report> {
        let (cert, key) = self.issue("localhost")?;
        std::fs::write(&self.server_cert, cert)?;
        std::fs::write(&self.server_key, key)?;
        Ok(())
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        if let Some(folder) = self.server_cert.parent() {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}
