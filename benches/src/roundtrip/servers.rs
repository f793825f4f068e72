//! The server processes: `roundtrip serve courier|courier-tls|axum|hyper|hyper-msgpack|tarpc`.
//!
//! Each binds 127.0.0.1:0, prints `listening on http://127.0.0.1:PORT` (tarpc:
//! `tcp://127.0.0.1:PORT`; over TLS `https://`) once it takes requests, and serves until killed or until its
//! stdin closes. A `usage` line on its stdin makes it print `answer ` and its usage (see
//! [`crate::usage`]).

use crate::{
    usage::{self, Usage},
    Error,
};
use axum::{routing::post, serve::ListenerExt, Json, Router};
use bytes::Bytes;
use courier::{registry::LocalRegistry, tls::TlsConfig, Server};
use courier_benches::processes::ANSWER;
use courier_samples::{GreeterComponent, Node};
use courier_test_support::TestCa;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use std::{
    io::BufRead,
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
};
use tokio::net::TcpListener;

const BIND: &str = "127.0.0.1:0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// A courier server running `GreeterComponent`.
    Courier,
    /// The same, over TLS, with a certificate from the driver's throwaway CA.
    CourierTls,
    /// A hand-written axum JSON echo.
    Axum,
    /// Raw hyper, answering every request with its body, undecoded.
    Hyper,
    /// Raw hyper, decoding every body as a MessagePack tree and answering with it
    /// encoded again: the least any MessagePack service does.
    HyperMsgpack,
    /// tarpc's echo service, over TCP with bincode.
    Tarpc,
    /// tonic's gRPC server of the greeter's `Echo`.
    Tonic,
}

impl ServerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Courier => "courier",
            Self::CourierTls => "courier-tls",
            Self::Axum => "axum",
            Self::Hyper => "hyper",
            Self::HyperMsgpack => "hyper-msgpack",
            Self::Tarpc => "tarpc",
            Self::Tonic => "tonic",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::Courier, Self::CourierTls, Self::Axum, Self::Hyper, Self::HyperMsgpack, Self::Tarpc, Self::Tonic]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The command that runs this server: this executable, as `roundtrip serve <kind>`,
    /// with a stdin the driver holds open for as long as it lives.
    pub(crate) fn command(self) -> Result<Command, Error> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        let mut command = Command::new(exe);
        command.args(["serve", self.name()]).stdin(Stdio::piped());
        if self == Self::CourierTls {
            let pki = pki();
            command.env(CERT_ENV, &pki.cert).env(KEY_ENV, &pki.key);
        }
        Ok(command)
    }
}

/// Where the TLS server finds its certificate and key.
const CERT_ENV: &str = "ROUNDTRIP_TLS_CERT";
const KEY_ENV: &str = "ROUNDTRIP_TLS_KEY";

/// The throwaway CA of one run, and the server certificate it issued, as files.
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    pub(crate) folder: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

/// The run's CA and server certificate, made on first use.
pub(crate) fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let ca = TestCa::new("roundtrip CA");
        let folder = std::env::temp_dir().join(format!("courier-roundtrip-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap_or_else(|error| panic!("cannot make {}: {error}", folder.display()));
        let (cert, key) = ca.server().write(&folder, "server");
        Pki { ca_pem: ca.cert_pem(), folder, cert, key }
    })
}

pub(crate) fn serve(kind: ServerKind) -> Result<(), Error> {
    answer_stdin();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    runtime.block_on(async {
        match kind {
            ServerKind::Courier => courier(None).await,
            ServerKind::CourierTls => {
                let (cert, key) = (std::env::var(CERT_ENV)?, std::env::var(KEY_ENV)?);
                courier(Some(TlsConfig::from_pem_files(cert, key)?)).await
            }
            ServerKind::Axum => axum_json().await,
            ServerKind::Hyper => hyper_floor().await,
            ServerKind::HyperMsgpack => hyper_msgpack().await,
            ServerKind::Tarpc => tarpc().await,
            ServerKind::Tonic => tonic().await,
        }
    })
}

/// Answers the driver's questions on stdin, and exits when it closes: the driver holds
/// it open for as long as it lives, so a server cannot outlive a driver that died without
/// running its cleanup (killed, or aborted mid-panic).
fn answer_stdin() {
    std::thread::spawn(|| {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if line.trim() == usage::QUESTION {
                println!("{ANSWER}{}", Usage::now().to_answer());
            }
        }
        std::process::exit(0);
    });
}

fn announce(url: &str) {
    println!("listening on {url}");
}

async fn courier(tls: Option<TlsConfig>) -> Result<(), Error> {
    // Naming `GreeterComponent` links courier_samples, whose `#[implementation]`
    // registers `Polite` as the Greeter the server finds.
    let mut builder = Server::builder().registry(LocalRegistry::new()).component(GreeterComponent);
    if let Some(tls) = tls {
        builder = builder.tls(tls);
    }
    let server = builder.start().await?;
    announce(server.url());
    server.run_until_stopped().await?;
    Ok(())
}

async fn tarpc() -> Result<(), Error> {
    let listener = TcpListener::bind(BIND).await.map_err(|e| format!("cannot bind {BIND}: {e}"))?;
    announce(&format!("tcp://{}", listener.local_addr()?));
    crate::tarpc_echo::serve(listener).await
}

async fn tonic() -> Result<(), Error> {
    let listener = TcpListener::bind(BIND).await.map_err(|e| format!("cannot bind {BIND}: {e}"))?;
    announce(&format!("http://{}", listener.local_addr()?));
    crate::tonic_echo::serve(listener).await
}

async fn axum_json() -> Result<(), Error> {
    async fn echo(Json(tree): Json<Node>) -> Json<Node> {
        Json(tree)
    }

    let listener = TcpListener::bind(BIND).await.map_err(|e| format!("cannot bind {BIND}: {e}"))?;
    let url = format!("http://{}", listener.local_addr()?);
    // axum::serve leaves Nagle on; every other stack here turns it off, and comparing
    // frameworks means comparing them on the same TCP settings.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            eprintln!("roundtrip serve axum: cannot set TCP_NODELAY: {error}");
        }
    });
    announce(&url);
    axum::serve(listener, Router::new().route("/echo", post(echo))).await?;
    Ok(())
}

async fn hyper_floor() -> Result<(), Error> {
    async fn reflect(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
        let body = request.into_body().collect().await?.to_bytes();
        Ok(Response::new(Full::new(body)))
    }
    hyper_serve(reflect).await
}

async fn hyper_msgpack() -> Result<(), Error> {
    async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Error> {
        let body = request.into_body().collect().await?.to_bytes();
        let tree: Node = rmp_serde::from_slice(&body)?;
        Ok(Response::new(Full::new(rmp_serde::to_vec(&tree)?.into())))
    }
    hyper_serve(echo).await
}

/// Serves `handle` with hyper alone, `TCP_NODELAY` on.
async fn hyper_serve<F, E>(handle: fn(Request<Incoming>) -> F) -> Result<(), Error>
where
    F: std::future::Future<Output = Result<Response<Full<Bytes>>, E>> + Send + 'static,
    E: Into<Error>,
{
    let listener = TcpListener::bind(BIND).await.map_err(|e| format!("cannot bind {BIND}: {e}"))?;
    announce(&format!("http://{}", listener.local_addr()?));
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| format!("cannot accept a connection: {e}"))?;
        stream.set_nodelay(true).map_err(|e| format!("cannot set TCP_NODELAY: {e}"))?;
        tokio::spawn(async move {
            // A client that hangs up is how every connection ends when the driver stops;
            // a real fault shows on the client side as a failed call.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service_fn(handle)).await;
        });
    }
}
