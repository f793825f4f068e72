//! Tower layers on the server: around every route, or around one component's calls.

use axum::{
    extract::Request,
    response::IntoResponse,
    routing::{MethodRouter, Route},
    Router,
};
use std::{convert::Infallible, sync::Arc};

/// A tower layer that can wrap a server's routes: what [`ServerBuilder::layer`] and
/// [`ServerBuilder::component_with_layer`] take. Implemented for every layer axum's
/// `Router::layer` accepts, such as `axum::middleware::from_fn(...)` or the layers of
/// `tower-http`.
///
/// [`ServerBuilder::layer`]: crate::ServerBuilder::layer
/// [`ServerBuilder::component_with_layer`]: crate::ServerBuilder::component_with_layer
pub trait ServerLayer: Clone + Send + Sync + 'static {
    /// Wraps a whole router, its fallback included.
    #[doc(hidden)]
    fn wrap_router(self, router: Router) -> Router;

    /// Wraps the routes of one method router.
    #[doc(hidden)]
    fn wrap_routes(self, routes: MethodRouter) -> MethodRouter;
}

impl<L> ServerLayer for L
where
    L: tower::Layer<Route> + Clone + Send + Sync + 'static,
    L::Service: tower::Service<Request> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<Request>>::Response: IntoResponse + 'static,
    <L::Service as tower::Service<Request>>::Error: Into<Infallible> + 'static,
    <L::Service as tower::Service<Request>>::Future: Send + 'static,
{
    fn wrap_router(self, router: Router) -> Router {
        router.layer(self)
    }

    fn wrap_routes(self, routes: MethodRouter) -> MethodRouter {
        routes.layer(self)
    }
}

/// One component's layer, kept until its routes are built.
#[derive(Clone)]
pub(crate) struct ComponentLayer(Arc<dyn Fn(MethodRouter) -> MethodRouter + Send + Sync>);

impl ComponentLayer {
    pub(crate) fn new(layer: impl ServerLayer) -> Self {
        Self(Arc::new(move |routes| layer.clone().wrap_routes(routes)))
    }

    /// `routes`, wrapped in the layer.
    pub(crate) fn wrap(&self, routes: MethodRouter) -> MethodRouter {
        (self.0)(routes)
    }
}
