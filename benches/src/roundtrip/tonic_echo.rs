//! The peer gRPC framework: tonic, serving and calling `courier.greeter.Greeter/Echo`
//! from the same `.proto` courier generates, with prost messages and tonic's own server
//! and client over h2c, wired by hand as `tonic-build` would generate them.

use crate::Error;
use courier_samples::Node;
use http::uri::PathAndQuery;
use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};
use tokio::net::TcpListener;
use tonic::{
    body::Body,
    codegen::{http, Service},
    server::{Grpc, NamedService, UnaryService},
    transport::{server::TcpIncoming, Channel},
    Request, Response, Status,
};
use tonic_prost::ProstCodec;

/// The path of the method on the wire: courier's own.
const ECHO: &str = "/courier.greeter.Greeter/Echo";

/// `EchoRequest` of `proto/greeter.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct EchoRequest {
    #[prost(message, optional, tag = "1")]
    pub(crate) tree: Option<Node>,
}

/// `EchoReply` of `proto/greeter.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct EchoReply {
    #[prost(message, optional, tag = "1")]
    pub(crate) value: Option<Node>,
}

/// The greeter service with its one method the benchmark calls.
#[derive(Clone)]
struct Greeter;

impl NamedService for Greeter {
    const NAME: &'static str = "courier.greeter.Greeter";
}

struct Echo;

impl UnaryService<EchoRequest> for Echo {
    type Response = EchoReply;
    type Future = std::future::Ready<Result<Response<EchoReply>, Status>>;

    fn call(&mut self, request: Request<EchoRequest>) -> Self::Future {
        std::future::ready(Ok(Response::new(EchoReply { value: request.into_inner().tree })))
    }
}

impl Service<http::Request<Body>> for Greeter {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            match request.uri().path() {
                ECHO => Ok(Grpc::new(ProstCodec::default()).unary(Echo, request).await),
                _ => Ok(Status::unimplemented("no such method").into_http()),
            }
        })
    }
}

/// Serves the greeter on `listener` with tonic's server and its defaults.
pub(crate) async fn serve(listener: TcpListener) -> Result<(), Error> {
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder().add_service(Greeter).serve_with_incoming(incoming).await?;
    Ok(())
}

/// A client over one h2c channel to `url`.
pub(crate) async fn connect(url: &str) -> Result<tonic::client::Grpc<Channel>, Error> {
    let channel = Channel::from_shared(url.to_owned())?.tcp_nodelay(true).connect().await?;
    Ok(tonic::client::Grpc::new(channel))
}

/// One call of `Echo`.
pub(crate) async fn echo(client: &tonic::client::Grpc<Channel>, tree: Node) -> Result<Node, Error> {
    let mut client = client.clone();
    client.ready().await?;
    let request = Request::new(EchoRequest { tree: Some(tree) });
    let reply: Response<EchoReply> =
        client.unary(request, PathAndQuery::from_static(ECHO), ProstCodec::default()).await?;
    reply.into_inner().value.ok_or_else(|| "the reply holds no tree".into())
}
