//! The service each connection runs: calls to a known dispatch endpoint go straight to
//! the dispatch handler, traced and measured as on its route; everything else goes to
//! the axum router.
//!
//! A dispatch call skips the router's matching, its path-parameter extensions, its boxed
//! route and the tower layers: the handler and the tracing and metrics its route has run
//! inline, in the connection's task or the frame's. Any other path, including a
//! malformed dispatch path, goes through the router, so it answers exactly as before. When the user wraps the routes in a tower
//! layer, every request goes through the router, so the layer sees calls too; so do
//! the calls to a component wrapped in a layer of its own.

use crate::{
    invoke::{self, DispatchTable},
    mux::Hub,
    observe::{observe, Endpoints},
};
use axum::{body::Body, extract::Request, response::Response, Router};
use courier_core::{auth::ClientCertificate, BoxFuture};
use futures_util::future::{ready, Either, Ready};
use hyper::body::Incoming;
use std::{convert::Infallible, sync::Arc};
use tower::{util::Oneshot, ServiceExt};

/// The dispatch endpoints, and what their calls are labelled with.
pub(crate) type Direct = (Arc<DispatchTable>, Arc<Endpoints>);

/// The service under every connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Host {
    /// `None` when every request must go through the router.
    direct: Option<Direct>,
    router: Router,
    /// Where upgraded, multiplexed connections are served.
    hub: Option<Arc<Hub>>,
    /// The verified client certificate of the connection, put in every request it carries.
    client: Option<Arc<ClientCertificate>>,
}

impl Host {
    /// Serves calls to `direct`'s endpoints itself, when given, traced and measured as
    /// on their routes, and everything else with `router`.
    pub(crate) fn new(direct: Option<Direct>, router: Router) -> Self {
        Self { direct, router, hub: None, client: None }
    }

    /// The router, for what the fast path does not answer.
    pub(crate) fn router(&self) -> &Router {
        &self.router
    }

    /// Serves a connection whose caller presented this certificate, if any.
    pub(crate) fn with_client(mut self, certificate: Option<Arc<ClientCertificate>>) -> Self {
        self.client = certificate;
        self
    }

    fn stamp<B>(&self, request: &mut http::Request<B>) {
        if let Some(certificate) = &self.client {
            request.extensions_mut().insert(Arc::clone(certificate));
        }
    }

    /// Takes requests to upgrade to multiplexed connections, and serves those in `hub`.
    pub(crate) fn with_hub(mut self, hub: Arc<Hub>) -> Self {
        self.hub = Some(hub);
        self
    }

    /// Answers one request, as it came over HTTP or in a frame.
    pub(crate) async fn serve(&self, mut request: Request) -> Response {
        self.stamp(&mut request);
        match &self.direct {
            Some((table, endpoints)) if table.serves_directly(request.uri().path()) => {
                answer_directly(table, endpoints, request).await
            }
            _ => match self.router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        }
    }
}

/// Answers a call to one of `table`'s endpoints, traced and measured as on its route.
async fn answer_directly(table: &DispatchTable, endpoints: &Endpoints, request: Request) -> Response {
    observe(endpoints, request, |request| invoke::answer(table, request)).await
}

type Answer = Either<
    Either<BoxFuture<'static, Result<Response, Infallible>>, Oneshot<Router, http::Request<Incoming>>>,
    Ready<Result<Response, Infallible>>,
>;

impl hyper::service::Service<http::Request<Incoming>> for Host {
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, mut request: http::Request<Incoming>) -> Self::Future {
        if let Some(hub) = self.hub.as_ref().filter(|_| Hub::wants(&request)) {
            let upgrade = hyper::upgrade::on(&mut request);
            return Either::Right(ready(Ok(hub.accept(upgrade, self.clone()))));
        }
        self.stamp(&mut request);
        Either::Left(match &self.direct {
            Some((table, endpoints)) if table.serves_directly(request.uri().path()) => {
                let (table, endpoints) = (Arc::clone(table), Arc::clone(endpoints));
                Either::Left(Box::pin(
                    async move { Ok(answer_directly(&table, &endpoints, request.map(Body::new)).await) },
                ))
            }
            _ => Either::Right(self.router.clone().oneshot(request)),
        })
    }
}
