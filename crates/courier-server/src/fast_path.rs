//! The service each connection runs: dispatch calls go straight to the dispatch table,
//! everything else to the axum router.
//!
//! A call to a known dispatch endpoint skips the router's matching, extensions, boxed
//! bodies and `IntoResponse` conversions, which on a small call cost about as much as
//! hyper itself. Any other path, including a malformed dispatch path, goes through the
//! router, so it answers exactly as before. When the user wraps the routes in a tower
//! layer, every request goes through the router, so the layer sees calls too.

use crate::invoke::{self, DispatchTable, ERROR_HEADER};
use axum::Router;
use bytes::Bytes;
use courier_core::{BoxFuture, Format, ServiceError};
use http::{header, HeaderValue, Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use std::{convert::Infallible, sync::Arc};
use tower::ServiceExt;

/// A response of either path.
pub(crate) type Body = Either<Full<Bytes>, axum::body::Body>;

/// The service under every connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Host {
    /// `None` when every request must go through the router.
    table: Option<Arc<DispatchTable>>,
    router: Router,
}

impl Host {
    /// Serves dispatch calls from `table` directly, when given, and everything else
    /// from `router`.
    pub(crate) fn new(table: Option<Arc<DispatchTable>>, router: Router) -> Self {
        Self { table, router }
    }
}

impl hyper::service::Service<Request<Incoming>> for Host {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        if let Some(table) = self.table.as_ref().filter(|table| table.serves(request.uri().path())) {
            // The head is checked here, so the future carries only the body.
            let (head, body) = request.into_parts();
            return match invoke::route(table, &head) {
                Ok(routed) => Box::pin(async move {
                    Ok(match routed.run(body).await {
                        Ok(reply) => reply_response(reply),
                        Err((format, error)) => fault_response(format, &error),
                    })
                }),
                Err((format, error)) => Box::pin(std::future::ready(Ok(fault_response(format, &error)))),
            };
        }
        let router = self.router.clone();
        Box::pin(async move {
            let response = router.oneshot(request).await;
            Ok(response.map(|response| response.map(Either::Right)).unwrap_or_else(|never| match never {}))
        })
    }
}

fn fault_response(format: Format, error: &ServiceError) -> Response<Body> {
    invoke::error_response(format, error).map(Either::Right)
}

fn reply_response(reply: invoke::Encoded) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(reply.body))));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(reply.format.content_type()));
    if reply.method_error {
        headers.insert(ERROR_HEADER, HeaderValue::from_static("method"));
    }
    response
}
