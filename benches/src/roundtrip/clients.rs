//! The stacks compared, and the client side of each: one call, its reply checked, so
//! that a stack that answers wrongly fails the run instead of looking fast.

use crate::{
    servers::ServerKind,
    tarpc_echo::{self, EchoClient},
    tonic_echo, Error,
};
use bytes::Bytes;
use courier::{
    client::HttpClient, registry::LocalRegistry, service::Component, tls::Certificate, ChannelKind, ServiceManager,
};
use courier_samples::{Greeter, GreeterComponent, Node};
use http_body_util::{BodyExt, Full};
use hyper::{header::CONTENT_TYPE, Request, Uri};
use hyper_util::{
    client::legacy::{self, connect::HttpConnector},
    rt::TokioExecutor,
};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stack {
    CourierMsgpack,
    CourierHttp1,
    CourierTls,
    CourierTlsHttp1,
    CourierProtobuf,
    CourierJson,
    CourierRest,
    CourierGrpc,
    HyperMsgpack,
    Axum,
    Tarpc,
    Tonic,
    Floor,
}

impl Stack {
    /// Every stack, in the order of the table.
    pub(crate) const ALL: [Stack; 13] = [
        Self::CourierMsgpack,
        Self::CourierHttp1,
        Self::CourierTls,
        Self::CourierTlsHttp1,
        Self::CourierProtobuf,
        Self::CourierJson,
        Self::CourierRest,
        Self::CourierGrpc,
        Self::Tonic,
        Self::HyperMsgpack,
        Self::Axum,
        Self::Tarpc,
        Self::Floor,
    ];

    /// The name `--only` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::CourierMsgpack => "courier-msgpack",
            Self::CourierHttp1 => "courier-http1",
            Self::CourierTls => "courier-tls",
            Self::CourierTlsHttp1 => "courier-tls-http1",
            Self::CourierProtobuf => "courier-protobuf",
            Self::CourierJson => "courier-json",
            Self::CourierRest => "courier-rest",
            Self::CourierGrpc => "courier-grpc",
            Self::Tonic => "tonic",
            Self::HyperMsgpack => "hyper-msgpack",
            Self::Axum => "axum",
            Self::Tarpc => "tarpc",
            Self::Floor => "floor",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|stack| stack.name() == name)
    }

    /// The name in the table.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::CourierMsgpack => "courier dispatch-msgpack",
            Self::CourierHttp1 => "courier dispatch-msgpack, HTTP/1.1",
            Self::CourierTls => "courier dispatch-msgpack over TLS",
            Self::CourierTlsHttp1 => "courier dispatch-msgpack over TLS, HTTP/1.1",
            Self::CourierProtobuf => "courier dispatch-protobuf",
            Self::CourierJson => "courier dispatch-json",
            Self::CourierRest => "courier rest (JSON)",
            Self::CourierGrpc => "courier grpc (h2c)",
            Self::Tonic => "tonic, gRPC (h2c)",
            Self::HyperMsgpack => "hyper + rmp-serde, by hand",
            Self::Axum => "axum + reqwest, JSON",
            Self::Tarpc => "tarpc, bincode over TCP",
            Self::Floor => "floor: hyper, raw bytes",
        }
    }

    pub(crate) fn server(self) -> ServerKind {
        match self {
            Self::CourierMsgpack
            | Self::CourierHttp1
            | Self::CourierProtobuf
            | Self::CourierJson
            | Self::CourierRest
            | Self::CourierGrpc => ServerKind::Courier,
            Self::Tonic => ServerKind::Tonic,
            Self::CourierTls | Self::CourierTlsHttp1 => ServerKind::CourierTls,
            Self::Axum => ServerKind::Axum,
            Self::Tarpc => ServerKind::Tarpc,
            Self::HyperMsgpack => ServerKind::HyperMsgpack,
            Self::Floor => ServerKind::Hyper,
        }
    }
}

/// The client of one stack, shared by all the callers of a measurement.
#[allow(clippy::large_enum_variant, reason = "one per stack, made once; boxing would add a hop to the floor's calls")]
pub(crate) enum Client {
    Courier { greeter: Arc<dyn Greeter>, tree: Node },
    Axum { http: reqwest::Client, url: String, tree: Node },
    Tarpc { client: EchoClient, tree: Node },
    Tonic { client: tonic::client::Grpc<tonic::transport::Channel>, tree: Node },
    HyperMsgpack { http: legacy::Client<HttpConnector, Full<Bytes>>, uri: Uri, tree: Node },
    Floor { http: legacy::Client<HttpConnector, Full<Bytes>>, uri: Uri, body: Bytes },
}

impl Client {
    /// A client of `stack` for the server at `url`, sending `tree`.
    pub(crate) async fn new(stack: Stack, url: &str, tree: &Node) -> Result<Self, Error> {
        let courier = |channel, multiplex| -> Result<Self, Error> {
            let registry = LocalRegistry::new();
            registry.add_peer(GreeterComponent.descriptor().name, url);
            let mut client = HttpClient::builder().multiplex(multiplex);
            if url.starts_with("https://") {
                let root = Certificate::from_pem(crate::servers::pki().ca_pem.as_bytes())?;
                client = client.platform_roots(false).add_root_certificate(root);
            }
            let client = client.build();
            let services = ServiceManager::builder().registry(registry).http_client(client).build();
            let greeter = services.proxy::<dyn Greeter>().channel(channel).build()?;
            Ok(Self::Courier { greeter, tree: tree.clone() })
        };
        let hyper = || {
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            legacy::Client::builder(TokioExecutor::new()).build(connector)
        };
        match stack {
            Stack::CourierMsgpack => courier(ChannelKind::DispatchMsgpack, true),
            Stack::CourierHttp1 | Stack::CourierTlsHttp1 => courier(ChannelKind::DispatchMsgpack, false),
            Stack::CourierTls => courier(ChannelKind::DispatchMsgpack, true),
            Stack::CourierProtobuf => courier(ChannelKind::DispatchProtobuf, true),
            Stack::CourierJson => courier(ChannelKind::DispatchJson, true),
            Stack::CourierRest => courier(ChannelKind::Rest, true),
            Stack::CourierGrpc => courier(ChannelKind::Grpc, true),
            Stack::Tonic => Ok(Self::Tonic { client: tonic_echo::connect(url).await?, tree: tree.clone() }),
            Stack::Axum => {
                Ok(Self::Axum { http: reqwest::Client::new(), url: format!("{url}/echo"), tree: tree.clone() })
            }
            Stack::Tarpc => {
                let address = url.strip_prefix("tcp://").ok_or_else(|| format!("not a tcp:// address: {url}"))?;
                Ok(Self::Tarpc { client: tarpc_echo::connect(address).await?, tree: tree.clone() })
            }
            Stack::HyperMsgpack => Ok(Self::HyperMsgpack { http: hyper(), uri: url.parse()?, tree: tree.clone() }),
            Stack::Floor => Ok(Self::Floor { http: hyper(), uri: url.parse()?, body: rmp_serde::to_vec(tree)?.into() }),
        }
    }

    /// One request and its reply.
    pub(crate) async fn round_trip(&self) -> Result<(), Error> {
        match self {
            Self::Courier { greeter, tree } => {
                let reply = greeter.echo(tree.clone()).await?;
                same_tree(&reply, tree)
            }
            Self::Tarpc { client, tree } => same_tree(&tarpc_echo::echo(client, tree.clone()).await?, tree),
            Self::Tonic { client, tree } => same_tree(&tonic_echo::echo(client, tree.clone()).await?, tree),
            Self::Axum { http, url, tree } => {
                let reply = http.post(url).json(tree).send().await?.error_for_status()?.json::<Node>().await?;
                same_tree(&reply, tree)
            }
            Self::HyperMsgpack { http, uri, tree } => {
                let request = Request::post(uri.clone())
                    .header(CONTENT_TYPE, "application/msgpack")
                    .body(Full::new(rmp_serde::to_vec(tree)?.into()))?;
                let response = http.request(request).await?;
                if !response.status().is_success() {
                    return Err(format!("the server answered {}", response.status()).into());
                }
                let reply = response.into_body().collect().await?.to_bytes();
                same_tree(&rmp_serde::from_slice(&reply)?, tree)
            }
            Self::Floor { http, uri, body } => {
                let request = Request::post(uri.clone())
                    .header(CONTENT_TYPE, "application/msgpack")
                    .body(Full::new(body.clone()))?;
                let response = http.request(request).await?;
                if !response.status().is_success() {
                    return Err(format!("the server answered {}", response.status()).into());
                }
                let reply = response.into_body().collect().await?.to_bytes();
                match reply.len() == body.len() {
                    true => Ok(()),
                    false => Err(format!("sent {} bytes, got {} back", body.len(), reply.len()).into()),
                }
            }
        }
    }
}

fn same_tree(reply: &Node, sent: &Node) -> Result<(), Error> {
    match reply == sent {
        true => Ok(()),
        false => Err(format!("the reply is not the tree sent: {reply:?}").into()),
    }
}
