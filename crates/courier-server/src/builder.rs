use crate::{
    admission::{Gate, Limit},
    fast_path::Host,
    health::{self, Health},
    invoke::DispatchTable,
    jobs::JobDesk,
    layer::{ComponentLayer, ServerLayer},
    lifecycle::Lifecycle,
    observe::{Endpoints, ObserveLayer},
    pipeline::Pipeline,
    rest::RestRoutes,
    routes::{RouterChange, Routes},
    serve::{Limits, Serving},
    server::{AbortOnDrop, Running, Server},
    startup::Assembly,
    tls::{Acceptor, TlsConfig},
    workers::Crew,
    ServerError,
};
use axum::Router;
use courier_core::{
    auth::Authenticator,
    description::{ComponentDescription, Description},
    jobs::{InProcessQueue, JobQueue},
    tls::TlsError,
    wire::MUX_PATH,
    BoundService, ChannelKind, CheckOptions, CheckResult, Component, ComponentEntry, ComponentRegistry, HealthCheck,
    HealthChecks, HealthManager, Implementation, Registration, Service,
};
use std::{collections::HashMap, fmt, future::Future, net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;

/// Configures and starts a [`Server`]. Made by [`Server::builder`].
#[must_use = "a builder does nothing until `.start().await`"]
pub struct ServerBuilder {
    bind: String,
    /// A listener to serve on instead of binding `bind`.
    listener: Option<TcpListener>,
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
            listener: None,
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
    /// # mod courier { pub use courier_core::*; pub use courier_server::*; pub mod server { pub use courier_core::*; pub use courier_server::*; } pub mod service { pub use courier_core::*; pub use courier_server::*; } }
    /// # use courier::Server;
    /// # use courier::{service::{Component, ComponentDescriptor}};
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
    /// # async fn run() -> Result<(), courier::server::ServerError> {
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
    /// # mod courier { pub use courier_core::*; pub use courier_server::*; pub mod health { pub use courier_core::*; pub use courier_server::*; } pub mod server { pub use courier_core::*; pub use courier_server::*; } }
    /// # use courier::Server;
    /// use courier::health::CheckOptions;
    /// use std::time::Duration;
    /// # async fn run() -> Result<(), courier::server::ServerError> {
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

    /// Serves on this listener instead of binding [`bind`](Self::bind)'s address: one the
    /// program opened itself, or was handed (socket activation, a test's port).
    pub fn listener(mut self, listener: TcpListener) -> Self {
        self.listener = Some(listener);
        self
    }

    /// Binds (or takes the [`listener`](Self::listener)), runs the startup hooks, starts
    /// serving and registers every component.
    ///
    /// A failing startup hook stops here: nothing is registered, and components that
    /// had started are shut down again.
    pub async fn start(mut self) -> Result<Server, ServerError> {
        let tls = match &self.tls {
            Some(config) => {
                let acceptor = Acceptor::new(config.server_config()?);
                let watching = acceptor.watch(config.clone())?;
                Some((acceptor, watching.map(AbortOnDrop)))
            }
            None => None,
        };
        let listener = match self.listener.take() {
            Some(listener) => listener,
            None => TcpListener::bind(&self.bind)
                .await
                .map_err(|source| ServerError::Bind { address: self.bind.clone(), source })?,
        };
        let local_addr =
            listener.local_addr().map_err(|source| ServerError::Bind { address: self.bind.clone(), source })?;
        let limits = self.limits();
        let (acceptor, watching) = tls.unzip();
        let scheme = if acceptor.is_some() { "https" } else { "http" };
        let assembly = Assembly {
            tls: acceptor.clone(),
            _tls_watch: watching.flatten(),
            ..self.assemble(local_addr, scheme).await?
        };
        let serving = |host| (Serving::spawn(listener, host, &limits, acceptor), ());
        let (server, ()) = assembly.launch(serving).await?;
        Ok(server)
    }

    /// Starts as [`start`](Self::start) does, but serves nothing itself: the [`Router`]
    /// answers every route the server would — dispatch, REST, gRPC, health, metrics,
    /// jobs, multiplexed connections — for an axum app of the program's own to serve
    /// (merge it into the app's router, and serve with `axum::serve`, which takes the
    /// upgrades multiplexed connections need). `address` is where that app listens: the
    /// components are registered there (or at [`advertise`](Self::advertise)'s host on
    /// its port). TLS is the app's to terminate, so [`tls`](Self::tls) is refused here.
    ///
    /// ```no_run
    /// # use courier_server as courier;
    /// # use courier::Server;
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// let (mut server, courier) = Server::builder().discover().start_router(listener.local_addr()?).await?;
    /// let app = axum::Router::new().route("/", axum::routing::get(|| async { "home" })).merge(courier);
    /// axum::serve(listener, app).with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; }).await?;
    /// server.shutdown().await?;
    /// # Ok(()) }
    /// ```
    pub async fn start_router(self, address: SocketAddr) -> Result<(Server, Router), ServerError> {
        if self.tls.is_some() {
            let refused = "a server mounted in another app serves TLS as that app does: leave out `.tls(...)`";
            return Err(TlsError::Refused(refused.to_owned()).into());
        }
        let limits = self.limits();
        let assembly = self.assemble(address, "http").await?;
        assembly
            .launch(|host: Host| {
                let (serving, hub) = Serving::mounted(&limits);
                let router = host.router().clone().route(MUX_PATH, hub.route(host));
                (serving, router)
            })
            .await
    }

    fn limits(&self) -> Limits {
        Limits { max_header_bytes: self.max_header_bytes, max_body_bytes: self.max_body_bytes }
    }

    /// Everything a server is made of, once its listener's address is known: its
    /// components with their implementations and registrations, its routes, its
    /// workers. Nothing runs yet.
    async fn assemble(mut self, local_addr: SocketAddr, scheme: &str) -> Result<Assembly, ServerError> {
        if self.discover {
            self.add_discovered();
        }
        let registry = match self.registry.take() {
            Some(registry) => registry,
            None => registry_from_env().map_err(ServerError::Environment)?,
        };
        let bound = self.bind_services()?;
        let url = format!("{scheme}://{}", advertised(local_addr, self.advertise.as_deref()));
        let gate = Gate::new();
        let pipeline = Arc::new(Pipeline::new(
            self.authenticator.clone(),
            Arc::clone(&gate),
            Arc::clone(&self.jobs),
            self.max_body_bytes,
        ));
        let mut table = DispatchTable::new(Arc::clone(&pipeline));
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
            let on_rest = descriptor.channels.contains(&ChannelKind::Rest) && self.serves(ChannelKind::Rest);
            let limit = descriptor.max_concurrent.map(|max| Limit::new(descriptor.name, max, descriptor.queue));
            let layer = self.component_layers.get(descriptor.name);
            for service in descriptor.services {
                let implementation = &bound[service.name];
                table.add(descriptor, implementation, limit.as_ref(), layer.is_none());
                endpoints.add(descriptor, service, &instance_id);
                if on_rest {
                    rest.add(descriptor, implementation, &pipeline, limit.as_ref(), layer);
                    endpoints.add_rest(service, &instance_id);
                }
                for method in service.methods.iter().filter(|method| method.queued) {
                    desk.add(service.name, method.name, method.access);
                }
                if !checked.contains(&service.name) {
                    checked.push(service.name);
                    for check in implementation.health_checks() {
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
                    .filter(|channel| *channel != ChannelKind::Local && self.serves(*channel))
                    .collect(),
                health_url: Some(format!("{url}{}", health::path(descriptor))),
            });
        }
        let descriptors: Vec<_> = self.components.iter().map(|component| component.descriptor()).collect();
        let health = Health::new(health, Lifecycle::new(descriptors.iter().map(|component| component.name)));
        let description = Description {
            components: descriptors
                .iter()
                .map(|descriptor| ComponentDescription::new(descriptor, health::path(descriptor)))
                .collect(),
        };
        let observe = ObserveLayer::new(endpoints);
        let table = Arc::new(table);
        // Known dispatch endpoints skip the router, with the same handler, traced and measured alike.
        let direct = (!self.layered).then(|| (Arc::clone(&table), Arc::clone(observe.endpoints())));
        let router = Routes {
            table,
            observe,
            component_layers: self.component_layers,
            health: (health::routes(&health, &descriptors), descriptors.iter().map(|d| health::path(d)).collect()),
            description,
            desk,
            rest,
            docs: self.docs,
            changes: self.router_changes,
        }
        .build()?;
        let components: Vec<Arc<dyn Component>> = self.components.into_iter().map(Arc::from).collect();
        let crews = crews(&components, &bound, &self.jobs, &self.workers);
        Ok(Assembly {
            local_addr,
            url,
            registry,
            running: components.into_iter().zip(registrations).map(|(c, r)| Running::new(c, r)).collect(),
            bound: bound.into_values().collect(),
            crews,
            health,
            gate,
            drain_timeout: self.drain_timeout,
            host: Host::new(direct, router),
            tls: None,
            _tls_watch: None,
        })
    }

    /// Whether the server serves `channel`, as far as [`channels`](Self::channels) says.
    fn serves(&self, channel: ChannelKind) -> bool {
        self.channels.as_ref().is_none_or(|allowed| allowed.contains(&channel))
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

/// The workers of every component with queued methods, and how many run at once.
fn crews(
    components: &[Arc<dyn Component>],
    bound: &HashMap<&'static str, BoundService>,
    queue: &Arc<dyn JobQueue>,
    workers: &HashMap<String, usize>,
) -> Vec<(Crew, usize)> {
    let crew = |component: &Arc<dyn Component>| {
        let descriptor = component.descriptor();
        let methods = descriptor
            .services
            .iter()
            .flat_map(|service| {
                let dispatcher = &bound[service.name].dispatcher;
                service
                    .methods
                    .iter()
                    .filter(|method| method.queued)
                    .map(move |method| ((service.name, method.name), (Arc::clone(dispatcher), method.index)))
            })
            .collect();
        let crew = Crew { component: Arc::clone(component), queue: Arc::clone(queue), methods };
        (crew, workers.get(descriptor.name).copied().unwrap_or(descriptor.workers))
    };
    components.iter().filter(|component| component.descriptor().has_queued_methods()).map(crew).collect()
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
