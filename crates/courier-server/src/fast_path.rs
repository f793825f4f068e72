//! The service each connection runs: calls to a known dispatch endpoint go straight to
//! the dispatch handler, traced and measured as on its route; everything else goes to
//! the axum router.
//!
//! A dispatch call skips the router's matching, its path-parameter extensions and its
//! boxed route. Any other path, including a malformed dispatch path, goes through the
//! router, so it answers exactly as before. When the user wraps the routes in a tower
//! layer, every request goes through the router, so the layer sees calls too; so do
//! the calls to a component wrapped in a layer of its own.

use crate::invoke::DispatchTable;
use axum::{body::Body, extract::Request, response::Response, Router};
use hyper::body::Incoming;
use std::{convert::Infallible, sync::Arc};
use tower::{
    util::{BoxCloneSyncService, Oneshot},
    ServiceExt,
};

/// The dispatch handler with the layers its route has.
pub(crate) type Dispatcher = BoxCloneSyncService<Request, Response, Infallible>;

/// The service under every connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Host {
    /// `None` when every request must go through the router.
    direct: Option<(Arc<DispatchTable>, Dispatcher)>,
    router: Router,
}

impl Host {
    /// Serves calls to `table`'s endpoints with `dispatcher`, when given, and everything
    /// else with `router`.
    pub(crate) fn new(direct: Option<(Arc<DispatchTable>, Dispatcher)>, router: Router) -> Self {
        Self { direct, router }
    }
}

impl hyper::service::Service<http::Request<Incoming>> for Host {
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::Either<Oneshot<Dispatcher, Request>, Oneshot<Router, http::Request<Incoming>>>;

    fn call(&self, request: http::Request<Incoming>) -> Self::Future {
        match &self.direct {
            Some((table, dispatcher)) if table.serves_directly(request.uri().path()) => {
                futures_util::future::Either::Left(dispatcher.clone().oneshot(request.map(Body::new)))
            }
            _ => futures_util::future::Either::Right(self.router.clone().oneshot(request)),
        }
    }
}
