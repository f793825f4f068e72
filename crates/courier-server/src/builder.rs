use crate::{
    admission::{Gate, Limit},
    docs,
    fast_path::{Dispatcher, Host},
    grpc,
    health::{self, Health},
    invoke::{self, DispatchTable},
    jobs::JobDesk,
    layer::{ComponentLayer, ServerLayer},
    lifecycle::Lifecycle,
    metrics,
    observe::{Endpoints, ObserveLayer},
    openapi::{self, OPENAPI_PATH},
    rest::RestRoutes,
    serve::{Limits, Serving},
    server::{AbortOnDrop, Running, Server},
    tls::{Acceptor, TlsConfig},
    workers::{Crew, Workers},
    ServerError,
};
use axum::{
    routing::{any, get},
    Json, Router,
};
use courier_core::{
    auth::Authenticator,
    description::{ComponentDescription, Description},
    jobs::{InProcessQueue, JobQueue},
    publish_local, publish_local_jobs,
    wire::{DESCRIBE_PATH, INVOKE_PREFIX},
    BoundService, ChannelKind, CheckOptions, CheckResult, Component, ComponentEntry, ComponentRegistry, HealthCheck,
    HealthChecks, HealthManager, Implementation, Registration, Service,
};
use std::{collections::HashMap, fmt, future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;

type RouterChange = Box<dyn FnOnce(Router) -> Router + Send>;

/// Configures and starts a [`Server`]. Made by [`Server::builder`].
#[must_use = "a builder does nothing until `.start().await`"]
pub struct ServerBuilder {
    bind: String,
    advertise: Option<String>,
    /// `None`: the registry the environment names, resolved at start.
    registry: Option<Arc<dyn ComponentRegistry>>,
    components: Vec<Box<dyn Component>>,
    services: Vec<BoundService>,
    discover: bool,
    channels: Option<Vec<ChannelKind>>,
    max_body_bytes: usize,
    max_header_bytes: usize,
    drain_timeout: Duration,
    authenticator: Option<Arc<dyn Authenticator>>,
    router_changes: Vec<RouterChange>,
    /// Whether a user layer wraps the routes, so calls must go through the router too.
    layered: bool,
    /// By component name, the layer around its calls.
    component_layers: HashMap<&'static str, ComponentLayer>,
    health_checks: Vec<HealthCheck>,
    jobs: Arc<dyn JobQueue>,
    /// By component name, how many jobs its workers run at once, past what it declares.
    workers: HashMap<String, usize>,
    tls: Option<TlsConfig>,
    /// Whether `GET /docs` serves the API page.
    docs: bool,
}

impl fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("bind", &self.bind)
            .field("registry", &self.registry)
            .field("components", &self.components.iter().map(|c| c.descriptor().name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:0".into(),
            advertise: None,
            registry: None,
            components: Vec::new(),
            services: Vec::new(),
            discover: false,
            channels: None,
            max_body_bytes: 4 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            drain_timeout: Duration::from_secs(10),
            authenticator: None,
            router_changes: Vec::new(),
            layered: false,
            component_layers: HashMap::new(),
            health_checks: Vec::new(),
            jobs: Arc::new(InProcessQueue::new()),
            workers: HashMap::new(),
            tls: None,
            docs: true,
        }
    }
}

impl ServerBuilder {
    /// The address to listen on; port 0 picks a free one ([`Server::local_addr`] tells
    /// which). Default: `127.0.0.1:0`.
    pub fn bind(mut self, address: impl Into<String>) -> Self {
        self.bind = address.into();
        self
    }

    /// The host other processes reach this server by, when it differs from the bound
    /// address (always set it when binding `0.0.0.0`).
    pub fn advertise(mut self, host: impl Into<String>) -> Self {
        self.advertise = Some(host.into());
        self
    }

    /// Where components are registered. Default: the registry the environment names —
    /// the in-process registry, also holding the instances `COURIER_PEERS` lists, when
    /// that is set; otherwise, with the `consul` feature, Consul when `CONSUL_HTTP_ADDR`
    /// is set; otherwise the in-process registry alone, [`LocalRegistry::shared`](courier_core::LocalRegistry::shared), which
    /// proxies of this process look in by default. A malformed variable fails
    /// [`start`](Self::start) with an error that names it.
    pub fn registry(mut self, registry: impl ComponentRegistry) -> Self {
        self.registry = Some(Arc::new(registry));
        self
    }

    /// Where calls to `#[queued]` methods wait for a worker, and where their state and
    /// results are kept. Default: an [`InProcessQueue`] of this server's own, whose jobs
    /// only this server's workers run; share a NATS JetStream queue (`courier-nats`) so
    /// that every instance's workers pull from one queue and any instance answers for
    /// any job.
    pub fn jobs(mut self, queue: impl JobQueue) -> Self {
        self.jobs = Arc::new(queue);
        self
    }

    /// How many of a component's queued jobs this server runs at once, instead of the
    /// `workers = N` it declares; 0 makes the server take jobs without running any.
    pub fn workers(mut self, component: impl Into<String>, workers: usize) -> Self {
        self.workers.insert(component.into(), workers);
        self
    }

    /// Runs a component.
    pub fn component(mut self, component: impl Component) -> Self {
        self.components.push(Box::new(component));
        self
    }

    /// Runs a component with its calls — on the dispatch endpoint and on its REST routes —
    /// wrapped in a tower layer. The layer sees each request before courier authenticates
    /// and decodes it, and may answer it itself; courier's tracing and metrics see the
    /// layer's answers too.
    ///
    /// ```no_run
    /// # mod courier { pub use courier_core::*; pub use courier_server::*; }
    /// # use courier::Server;
    /// # use courier::{Component, ComponentDescriptor};
    /// use axum::{extract::Request, middleware::{self, Next}, response::Response};
    /// use http::StatusCode;
    /// # struct Reports;
    /// # impl Component for Reports { fn descriptor(&self) -> &'static ComponentDescriptor { unimplemented!() } }
    ///
    /// /// Reports answer only on the internal network's gateway, which marks its requests.
    /// async fn internal_only(request: Request, next: Next) -> Result<Response, StatusCode> {
    ///     match request.headers().contains_key("x-internal") {
    ///         true => Ok(next.run(request).await),
    ///         false => Err(StatusCode::FORBIDDEN),
    ///     }
    /// }
    ///
    /// # async fn run() -> Result<(), courier::ServerError> {
    /// let server = Server::builder().component_with_layer(Reports, middleware::from_fn(internal_only)).start().await?;
    /// # Ok(()) }
    /// ```
    pub fn component_with_layer(mut self, component: impl Component, layer: impl ServerLayer) -> Self {
        self.component_layers.insert(component.descriptor().name, ComponentLayer::new(layer));
        self.component(component)
    }

    /// Runs every component linked into the program whose services all have an
    /// implementation, and that courier can build (a unit struct).
    pub fn discover(mut self) -> Self {
        self.discover = true;
        self
    }

    /// Serves `S` with this implementation, instead of the one `#[implementation]`
    /// would build: for implementations that hold state.
    pub fn service<S: Service + ?Sized>(mut self, implementation: Arc<S>) -> Self {
        self.services.push(courier_core::__private::bind(implementation));
        self
    }

    /// Limits the channels served to these, whatever the components declare.
    pub fn channels(mut self, channels: impl IntoIterator<Item = ChannelKind>) -> Self {
        self.channels = Some(channels.into_iter().collect());
        self
    }

    /// The largest request body accepted; larger ones get 413. Default: 4 MiB.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The largest request head (request line and headers) accepted; larger ones get 431.
    /// Default: 64 KiB, at least 8 KiB.
    pub fn max_header_bytes(mut self, limit: usize) -> Self {
        self.max_header_bytes = limit;
        self
    }

    /// Authenticates callers: the principal it finds is checked against each method's
    /// `#[authorize]` rule and is in the [`CallContext`](courier_core::CallContext) while
    /// the method runs. Without one, no caller is authenticated.
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// How long shutdown waits for in-flight calls; those still running then are cut
    /// off. Default: 10 s.
    pub fn drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }

    /// Adds a health check of the server's own, which every health endpoint reports.
    ///
    /// The check gets a [`CheckResult`] at OK, changes it if something is wrong, and
    /// hands it back. Checks of service implementations need no call: a server finds
    /// those declared with `#[health_checks]` on the types it serves.
    ///
    /// ```no_run
    /// # mod courier { pub use courier_core::*; pub use courier_server::*; }
    /// # use courier::Server;
    /// use courier::CheckOptions;
    /// use std::time::Duration;
    /// # async fn run() -> Result<(), courier::ServerError> {
    /// let options = CheckOptions::new().cache(Duration::from_secs(10)).fail_if_slower_than(Duration::from_secs(1));
    /// let server = Server::builder()
    ///     .health_check("disk", options, |mut result| async move {
    ///         let free_bytes: u64 = 12 << 30; // measured, in real life
    ///         if free_bytes < 1 << 30 {
    ///             result.warning(format!("{free_bytes} bytes free"));
    ///         }
    ///         result
    ///     })
    ///     .start()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn health_check<F, Fut>(mut self, name: impl Into<String>, options: CheckOptions, check: F) -> Self
    where
        F: Fn(CheckResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        self.health_checks.push(HealthCheck::new(name, options, check));
        self
    }

    /// Adds the health checks a type declares with `#[health_checks]`, for state that is
    /// not a service implementation the server serves (whose checks are found without
    /// this): a connection pool, a cache.
    pub fn health_checks<T: HealthChecks>(mut self, checks: &Arc<T>) -> Self {
        self.health_checks.extend(checks.health_checks());
        self
    }

    /// Whether `GET /docs` serves an interactive page of the REST routes (Swagger UI,
    /// shipped in the crate, on `/openapi.json`), when there are any. Default: on.
    pub fn docs(mut self, serve: bool) -> Self {
        self.docs = serve;
        self
    }

    /// Serves these routes beside courier's.
    pub fn routes(mut self, routes: Router) -> Self {
        self.router_changes.push(Box::new(move |router| router.merge(routes)));
        self
    }

    /// Wraps every route, courier's included, in a tower layer.
    pub fn layer(mut self, layer: impl ServerLayer) -> Self {
        self.router_changes.push(Box::new(move |router| layer.wrap_router(router)));
        self.layered = true;
        self
    }

    /// Serves every channel over TLS with this configuration, and registers `https://`
    /// URLs. See [`TlsConfig`].
    pub fn tls(mut self, config: TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Binds, runs the startup hooks, starts serving and registers every component.
    ///
    /// A failing startup hook stops here: nothing is registered, and components that
    /// had started are shut down again.
    pub async fn start(mut self) -> Result<Server, ServerError> {
        if self.discover {
            self.add_discovered();
        }
        let registry = match self.registry.take() {
            Some(registry) => registry,
            None => registry_from_env().map_err(ServerError::Environment)?,
        };
        let bound = self.bind_services()?;
        let tls = match &self.tls {
            Some(config) => {
                let acceptor = Acceptor::new(config.server_config()?);
                let watching = acceptor.watch(config.clone())?;
                Some((acceptor, watching))
            }
            None => None,
        };
        let listener = TcpListener::bind(&self.bind)
            .await
            .map_err(|source| ServerError::Bind { address: self.bind.clone(), source })?;
        let local_addr =
            listener.local_addr().map_err(|source| ServerError::Bind { address: self.bind.clone(), source })?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", advertised(local_addr, self.advertise.as_deref()));

        let gate = Gate::new();
        let mut table = DispatchTable::new(
            self.max_body_bytes,
            self.authenticator.clone(),
            Arc::clone(&gate),
            Arc::clone(&self.jobs),
        );
        let mut desk = JobDesk::new(Arc::clone(&self.jobs), self.authenticator.clone());
        let mut health = HealthManager::new();
        self.health_checks.drain(..).for_each(|check| health.add(check));
        let mut checked = Vec::new();
        let mut endpoints = Endpoints::default();
        let mut rest = RestRoutes::default();
        let mut registrations = Vec::new();
        for component in &self.components {
            let descriptor = component.descriptor();
            let instance_id =
                format!("{}-{}-{}-{}", descriptor.name, local_addr.ip(), local_addr.port(), std::process::id());
            let on_rest = descriptor.channels.contains(&ChannelKind::Rest)
                && self.channels.as_ref().is_none_or(|allowed| allowed.contains(&ChannelKind::Rest));
            let limit = descriptor.max_concurrent.map(|max| Limit::new(descriptor.name, max, descriptor.queue));
            let layer = self.component_layers.get(descriptor.name);
            for service in descriptor.services {
                table.add(descriptor, &bound[service.name], limit.as_ref(), layer.is_none());
                endpoints.add(descriptor, service, &instance_id);
                if on_rest {
                    let implementation = &bound[service.name];
                    rest.add(
                        descriptor,
                        implementation,
                        &self.jobs,
                        self.max_body_bytes,
                        self.authenticator.as_ref(),
                        &gate,
                        limit.as_ref(),
                        layer,
                    )
                    .map_err(ServerError::Routes)?;
                    endpoints.add_rest(service, &instance_id);
                }
                for method in service.methods.iter().filter(|method| method.queued) {
                    desk.add(service.name, method.name, method.access);
                }
                if !checked.contains(&service.name) {
                    checked.push(service.name);
                    for check in bound[service.name].health_checks() {
                        health.add_for_service(service.name, check.clone());
                    }
                }
            }
            if descriptor.has_queued_methods() {
                self.jobs
                    .open(descriptor.name)
                    .await
                    .map_err(|source| ServerError::Jobs { component: descriptor.name, source })?;
            }
            registrations.push(Registration {
                component: descriptor.name.to_owned(),
                instance_id,
                url: url.clone(),
                channels: descriptor
                    .channels
                    .iter()
                    .copied()
                    .filter(|channel| *channel != ChannelKind::Local)
                    .filter(|channel| self.channels.as_ref().is_none_or(|allowed| allowed.contains(channel)))
                    .collect(),
                health_url: Some(format!("{url}{}", health::path(descriptor))),
            });
        }
        let descriptors: Vec<_> = self.components.iter().map(|component| component.descriptor()).collect();
        let health = Health::new(health, Lifecycle::new(descriptors.iter().map(|component| component.name)));
        let health_routes = health::routes(&health, &descriptors);
        let description = Description {
            components: descriptors
                .iter()
                .map(|descriptor| ComponentDescription::new(descriptor, health::path(descriptor)))
                .collect(),
        };
        let observe = ObserveLayer::new(endpoints);
        let router_changes = self.router_changes;
        let docs = self.docs;
        let component_layers = self.component_layers;
        let table = Arc::new(table);
        // Known dispatch endpoints skip the router, with the same handler and layer.
        let direct = (!self.layered).then(|| {
            let handler = axum::handler::Handler::with_state(invoke::invoke, Arc::clone(&table));
            (Arc::clone(&table), Dispatcher::new(tower::Layer::layer(&observe, handler)))
        });
        // axum refuses conflicting routes by panicking; a server refuses them with an error.
        let router = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            let document = openapi::document(&rest.mounted);
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
                router = router.route(&format!("{INVOKE_PREFIX}{component}/{{*path}}"), routes.layer(observe.clone()));
            }
            let mut router = router
                .route(
                    &format!("{INVOKE_PREFIX}{{*path}}"),
                    any(invoke::invoke).with_state(table).layer(observe.clone()),
                )
                .merge(health_routes)
                .route(DESCRIBE_PATH, get(move || async move { Json(description) }))
                .merge(metrics::routes())
                .merge(desk.routes());
            if !rest.mounted.is_empty() {
                router = router
                    .route(OPENAPI_PATH, get(move || async move { Json(document) }))
                    .merge(rest.into_router().route_layer(observe));
                if docs {
                    router = router.merge(docs::routes());
                }
            }
            let mut router = router.fallback(invoke::not_found);
            for change in router_changes {
                router = change(router);
            }
            router
        }))
        .map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_else(|| "two routes overlap".to_owned());
            ServerError::Routes(message)
        })?;

        let components: Vec<Arc<dyn Component>> = self.components.into_iter().map(Arc::from).collect();
        let crews: Vec<(Crew, usize)> = components
            .iter()
            .filter(|component| component.descriptor().has_queued_methods())
            .map(|component| {
                let descriptor = component.descriptor();
                let methods =
                    descriptor
                        .services
                        .iter()
                        .flat_map(|service| {
                            let dispatcher = &bound[service.name].dispatcher;
                            service.methods.iter().filter(|method| method.queued).map(move |method| {
                                ((service.name, method.name), (Arc::clone(dispatcher), method.index))
                            })
                        })
                        .collect();
                let crew = Crew { component: Arc::clone(component), queue: Arc::clone(&self.jobs), methods };
                (crew, self.workers.get(descriptor.name).copied().unwrap_or(descriptor.workers))
            })
            .collect();
        let running: Vec<Running> = components
            .into_iter()
            .zip(registrations)
            .map(|(component, registration)| Running::new(component, registration))
            .collect();
        let mut server =
            Server::new(local_addr, url, registry, running, bound.into_values().collect(), self.drain_timeout, health);
        server.gate = gate;
        server.start_components().await?;
        let limits = Limits { max_header_bytes: self.max_header_bytes, max_body_bytes: self.max_body_bytes };
        let (acceptor, watching) = tls.unzip();
        server.tls = acceptor.clone();
        server.tls_watch = watching.flatten().map(AbortOnDrop);
        server.serving = Some(Serving::spawn(listener, Host::new(direct, router), limits, acceptor));
        server.bound.iter().for_each(publish_local);
        // In-process callers of queued methods go through the queue too.
        for (crew, _) in &crews {
            let component = crew.component.descriptor();
            for service in server.bound.iter().filter(|bound| component.serves(bound.descriptor.name)) {
                publish_local_jobs(service, component.name, Arc::clone(&crew.queue));
            }
        }
        server.workers = Some(Workers::spawn(crews));
        server.register().await?;
        tracing::info!(url = %server.url(), components = ?server.component_names(), "courier server started");
        Ok(server)
    }

    fn add_discovered(&mut self) {
        for entry in ComponentEntry::all() {
            let name = entry.descriptor.name;
            if self.components.iter().any(|component| component.descriptor().name == name) {
                continue;
            }
            let implemented = entry.descriptor.services.iter().all(|service| {
                self.services.iter().any(|bound| bound.descriptor.name == service.name)
                    || Implementation::find(service.name).is_some()
            });
            match entry.create {
                Some(create) if implemented => self.components.push(create()),
                _ => {
                    tracing::debug!(component = name, "not discovered: an implementation is missing or it holds state")
                }
            }
        }
    }

    /// One implementation per service, shared by every component that bundles it.
    fn bind_services(&mut self) -> Result<HashMap<&'static str, BoundService>, ServerError> {
        let mut bound: HashMap<&'static str, BoundService> = HashMap::new();
        let mut names = Vec::new();
        for component in &self.components {
            let descriptor = component.descriptor();
            if names.contains(&descriptor.name) {
                return Err(ServerError::DuplicateComponent(descriptor.name));
            }
            names.push(descriptor.name);
            for service in descriptor.services {
                if bound.contains_key(service.name) {
                    continue;
                }
                let implementation = match self.services.iter().find(|given| given.descriptor.name == service.name) {
                    Some(given) => given.clone(),
                    None => Implementation::find(service.name).map(|linked| (linked.create)()).ok_or(
                        ServerError::MissingImplementation { component: descriptor.name, service: service.name },
                    )?,
                };
                bound.insert(service.name, implementation);
            }
        }
        Ok(bound)
    }
}

/// `host:port` as other processes should dial it.
fn advertised(local: SocketAddr, advertise: Option<&str>) -> String {
    match advertise {
        Some(host) => format!("{host}:{}", local.port()),
        None if local.ip().is_unspecified() => format!("127.0.0.1:{}", local.port()),
        None => local.to_string(),
    }
}

/// The registry the environment names: see [`ServerBuilder::registry`].
fn registry_from_env() -> Result<Arc<dyn ComponentRegistry>, courier_core::ServiceError> {
    #[cfg(feature = "consul")]
    return courier_consul::registry_from_env();
    #[cfg(not(feature = "consul"))]
    Ok(Arc::new(courier_core::local_from_env()?))
}
