//! A server's router, built once as it starts: courier's own routes (dispatch, gRPC,
//! health, describe, metrics, jobs, OpenAPI and its page), the REST routes of its
//! services, and the user's routes and layers. Every path courier and the services
//! serve is claimed first, so two that would answer the same requests are refused with
//! an error naming both, before anything is mounted.

use crate::{
    docs, grpc,
    invoke::{self, DispatchTable},
    jobs::{JobDesk, JOBS_PATH},
    layer::ComponentLayer,
    metrics::{self, METRICS_PATH},
    observe::ObserveLayer,
    openapi::{self, OPENAPI_PATH},
    rest::RestRoutes,
    ServerError,
};
use axum::{
    routing::{any, get},
    Json, Router,
};
use courier_core::{
    description::Description,
    rest::HttpMethod,
    wire::{DESCRIBE_PATH, INVOKE_PREFIX, MUX_PATH},
};
use std::{
    collections::{BTreeSet, HashMap},
    panic::AssertUnwindSafe,
    sync::Arc,
};

/// A change the user makes to the router: routes merged in, or a layer around it.
pub(crate) type RouterChange = Box<dyn FnOnce(Router) -> Router + Send>;

/// What a server's router is made of.
pub(crate) struct Routes {
    pub(crate) table: Arc<DispatchTable>,
    pub(crate) observe: ObserveLayer,
    /// By component name, the layer around its calls.
    pub(crate) component_layers: HashMap<&'static str, ComponentLayer>,
    /// The health routes, and their paths.
    pub(crate) health: (Router, Vec<&'static str>),
    pub(crate) description: Description,
    pub(crate) desk: JobDesk,
    pub(crate) rest: RestRoutes,
    /// Whether `GET /docs` serves the API page.
    pub(crate) docs: bool,
    /// The user's changes, applied in order.
    pub(crate) changes: Vec<RouterChange>,
}

impl Routes {
    /// The router, or which routes conflict.
    pub(crate) fn build(self) -> Result<Router, ServerError> {
        self.claim()?;
        let Self { table, observe, component_layers, health, description, desk, rest, docs, changes } = self;
        let document = openapi::document(&rest.mounted().collect::<Vec<_>>());
        let mut router = Router::new();
        for (path, component) in table.grpc_paths() {
            let route = any(grpc::serve).with_state(Arc::clone(&table));
            let route = match component_layers.get(component) {
                Some(layer) => layer.wrap(route),
                None => route,
            };
            router = router.route(path, route.layer(observe.clone()));
        }
        for (component, layer) in component_layers {
            let routes = layer.wrap(any(invoke::invoke).with_state(Arc::clone(&table)));
            router = router.route(&layered_invoke_path(component), routes.layer(observe.clone()));
        }
        let mounts_rest = rest.mounted().next().is_some();
        let mut router = router
            .route(&invoke_path(), any(invoke::invoke).with_state(table).layer(observe.clone()))
            .merge(health.0)
            .route(DESCRIBE_PATH, get(move || async move { Json(description) }))
            .merge(metrics::routes())
            .merge(desk.routes());
        if mounts_rest {
            router = router
                .route(OPENAPI_PATH, get(move || async move { Json(document) }))
                .merge(rest.into_router().route_layer(observe));
            if docs {
                router = router.merge(docs::routes());
            }
        }
        merge_user_changes(router.fallback(invoke::not_found), changes)
    }

    /// Claims every path, courier's first.
    fn claim(&self) -> Result<(), ServerError> {
        let mut own: BTreeSet<String> = [invoke_path(), DESCRIBE_PATH.into(), METRICS_PATH.into(), JOBS_PATH.into()]
            .into_iter()
            .chain([MUX_PATH.into()])
            .chain(self.health.1.iter().map(|path| (*path).to_owned()))
            .chain(self.table.grpc_paths().map(|(path, _)| path.to_owned()))
            .chain(self.component_layers.keys().map(|component| layered_invoke_path(component)))
            .collect();
        if self.rest.mounted().next().is_some() {
            own.insert(OPENAPI_PATH.into());
            if self.docs {
                own.extend(docs::PATHS.map(str::to_owned));
            }
        }
        let mut claims = Claims::default();
        for path in &own {
            claims.claim(path, None, "courier's own route")?;
        }
        for mounted in self.rest.mounted() {
            let owner = format!("{} of service `{}`", mounted.route.method, mounted.service);
            claims.claim(mounted.route.path, Some(mounted.route.method), &owner)?;
        }
        Ok(())
    }
}

/// `/invoke/{*path}`: every dispatch endpoint.
fn invoke_path() -> String {
    format!("{INVOKE_PREFIX}{{*path}}")
}

/// The dispatch endpoints of a component wrapped in a layer of its own.
fn layered_invoke_path(component: &str) -> String {
    format!("{INVOKE_PREFIX}{component}/{{*path}}")
}

/// The user's routes and layers. axum refuses a route that overlaps another by
/// panicking, and a user's router does not say which paths it holds: the refusal
/// becomes the server's error.
fn merge_user_changes(router: Router, changes: Vec<RouterChange>) -> Result<Router, ServerError> {
    let changed = std::panic::catch_unwind(AssertUnwindSafe(move || {
        changes.into_iter().fold(router, |router, change| change(router))
    }));
    changed.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
            .unwrap_or_else(|| "a route of `routes(...)` overlaps another".to_owned());
        ServerError::Routes(message)
    })
}

/// The paths claimed so far, with who serves each and on which methods.
#[derive(Default)]
pub(crate) struct Claims {
    /// By path template: who serves it, and its methods (`None`: every method).
    paths: HashMap<String, (String, Option<Vec<HttpMethod>>)>,
    /// The templates, as the router will match them.
    templates: matchit::Router<()>,
}

impl Claims {
    /// Claims `path` for `method` (every method when `None`) on behalf of `owner`; fails
    /// when a claim made before answers some of the same requests.
    fn claim(&mut self, path: &str, method: Option<HttpMethod>, owner: &str) -> Result<(), ServerError> {
        let refuse =
            |other: &str| ServerError::Routes(format!("{owner} at `{path}` and {other} answer the same requests"));
        if let Some((other, methods)) = self.paths.get_mut(path) {
            return match (methods, method) {
                (Some(methods), Some(method)) if !methods.contains(&method) => {
                    methods.push(method);
                    Ok(())
                }
                _ => Err(refuse(&format!("{other} at `{path}`"))),
            };
        }
        if let Err(error) = self.templates.insert(path, ()) {
            let other = match &error {
                matchit::InsertError::Conflict { with } => match self.paths.get(with) {
                    Some((other, _)) => format!("{other} at `{with}`"),
                    None => format!("the route at `{with}`"),
                },
                _ => format!("the router (`{path}`: {error})"),
            };
            return Err(refuse(&other));
        }
        self.paths.insert(path.to_owned(), (owner.to_owned(), method.map(|method| vec![method])));
        Ok(())
    }
}
