//! The server processes: `roundtrip serve courier|axum|hyper|hyper-msgpack|tarpc`.
//!
//! Each binds 127.0.0.1:0, prints `listening on http://127.0.0.1:PORT` (tarpc:
//! `tcp://127.0.0.1:PORT`) once it takes requests, and serves until killed or until its
//! stdin closes.

use crate::Error;
use axum::{routing::post, serve::ListenerExt, Json, Router};
use bytes::Bytes;
use courier::{LocalRegistry, Server};
use courier_examples::{GreeterComponent, Node};
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn, Request, Response};
use hyper_util::rt::TokioIo;
use std::{
    io::Read,
    process::{Command, Stdio},
};
use tokio::net::TcpListener;

const BIND: &str = "127.0.0.1:0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// A courier server running `GreeterComponent`.
    Courier,
    /// A hand-written axum JSON echo.
    Axum,
    /// Raw hyper, answering every request with its body, undecoded.
    Hyper,
    /// Raw hyper, decoding every body as a MessagePack tree and answering with it
    /// encoded again: the least any MessagePack service does.
    HyperMsgpack,
    /// tarpc's echo service, over TCP with bincode.
    Tarpc,
}

impl ServerKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Courier => "courier",
            Self::Axum => "axum",
            Self::Hyper => "hyper",
            Self::HyperMsgpack => "hyper-msgpack",
            Self::Tarpc => "tarpc",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [Self::Courier, Self::Axum, Self::Hyper, Self::HyperMsgpack, Self::Tarpc]
            .into_iter()
            .find(|kind| kind.name() == name)
    }

    /// The command that runs this server: this executable, as `roundtrip serve <kind>`,
    /// with a stdin the driver holds open for as long as it lives.
    pub(crate) fn command(self) -> Result<Command, Error> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        let mut command = Command::new(exe);
        command.args(["serve", self.name()]).stdin(Stdio::piped());
        Ok(command)
    }
}

pub(crate) fn serve(kind: ServerKind) -> Result<(), Error> {
    exit_when_stdin_closes();
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    runtime.block_on(async {
        match kind {
            ServerKind::Courier => courier().await,
            ServerKind::Axum => axum_json().await,
            ServerKind::Hyper => hyper_floor().await,
            ServerKind::HyperMsgpack => hyper_msgpack().await,
            ServerKind::Tarpc => tarpc().await,
        }
    })
}

/// The driver holds our stdin open for as long as it lives, so a server cannot outlive
/// a driver that died without running its cleanup (killed, or aborted mid-panic).
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buffer = [0; 64];
        while matches!(stdin.read(&mut buffer), Ok(n) if n > 0) {}
        std::process::exit(0);
    });
}

fn announce(url: &str) {
    println!("listening on {url}");
}

async fn courier() -> Result<(), Error> {
    // Naming `GreeterComponent` links courier_examples, whose `#[implementation]`
    // registers `Polite` as the Greeter the server finds.
    let server = Server::builder().registry(LocalRegistry::new()).component(GreeterComponent).start().await?;
    announce(server.url());
    server.run_until_stopped().await?;
    Ok(())
}

async fn tarpc() -> Result<(), Error> {
    let listener = TcpListener::bind(BIND).await.map_err(|e| format!("cannot bind {BIND}: {e}"))?;
    announce(&format!("tcp://{}", listener.local_addr()?));
    crate::tarpc_echo::serve(listener).await
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
