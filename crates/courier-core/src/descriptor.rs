use crate::ChannelKind;

/// What `#[service]` knows about a service trait, available at compile time.
#[derive(Debug)]
pub struct ServiceDescriptor {
    /// The service's name on the wire; by default the trait name in snake_case.
    pub name: &'static str,
    /// What the service does, from `description = "..."` or the trait's doc comment.
    pub description: &'static str,
    /// The methods, in declaration order.
    pub methods: &'static [MethodDescriptor],
    /// For services declared with `#[service(protobuf)]`, their `.proto` schema.
    pub protobuf: Option<fn() -> String>,
    /// For services declared with `#[service(protobuf)]`, the full name of their gRPC
    /// service: `courier.<name>.<Name>`, the `.proto` package and the service name in
    /// PascalCase (`courier.greeter.Greeter`).
    pub grpc: Option<&'static str>,
}

impl ServiceDescriptor {
    /// The method with this name.
    pub fn method(&self, name: &str) -> Option<&'static MethodDescriptor> {
        self.methods.iter().find(|method| method.name == name)
    }

    /// The gRPC path of one of its methods, `/courier.greeter.Greeter/SayHello`; `None`
    /// unless the service is declared for protobuf.
    pub fn grpc_path(&self, method: &MethodDescriptor) -> Option<String> {
        Some(format!("/{}/{}", self.grpc?, method.rpc))
    }
}

/// One method of a service.
#[derive(Debug)]
pub struct MethodDescriptor {
    /// The method's name, as declared.
    pub name: &'static str,
    /// Its position in [`ServiceDescriptor::methods`].
    pub index: usize,
    /// Its name as a gRPC method: the name in PascalCase (`say_hello` is `SayHello`).
    pub rpc: &'static str,
    /// What it does: its doc comment.
    pub description: &'static str,
    /// The argument names, in order, as they appear on the wire.
    pub arguments: &'static [&'static str],
    /// The arguments' Rust types, as declared: `Vec<String>`.
    pub argument_types: &'static [&'static str],
    /// The Rust type of its `Ok` value.
    pub returns: &'static str,
    /// The Rust type of its `Err` value.
    pub error: &'static str,
    /// The method's REST route, if it has one.
    pub rest: Option<&'static crate::rest::RestRoute>,
    /// Who may call it.
    pub access: crate::auth::Access,
    /// Whether running it twice does no more than running it once (`#[idempotent]`), so
    /// a call that failed mid-way may be sent again.
    pub idempotent: bool,
    /// Whether it runs as a job on a worker that pulls it (`#[queued]`), the caller
    /// holding a token instead of a connection.
    pub queued: bool,
}

/// What `#[component]` knows about a component.
#[derive(Debug)]
pub struct ComponentDescriptor {
    /// The component's name, which is what registries know it by.
    pub name: &'static str,
    /// The services it bundles.
    pub services: &'static [&'static ServiceDescriptor],
    /// The channels it can be reached on.
    pub channels: &'static [ChannelKind],
    /// At most this many calls run at once (`max_concurrent = N`); `None`: no cap.
    pub max_concurrent: Option<usize>,
    /// Calls past the cap that wait for a place (`queue = N`); the rest get 503.
    pub queue: usize,
    /// How many of its queued jobs each server runs at once (`workers = N`; default 1).
    pub workers: usize,
    /// Its own health endpoint, reporting the checks of its services and the server's;
    /// `None` for the server's `/health`, which reports every check.
    pub health: Option<&'static str>,
}

impl ComponentDescriptor {
    /// Whether any of its services has a `#[queued]` method.
    pub fn has_queued_methods(&self) -> bool {
        self.services.iter().any(|service| service.methods.iter().any(|method| method.queued))
    }

    /// Whether the component bundles the service with this name.
    pub fn serves(&self, service: &str) -> bool {
        self.services.iter().any(|descriptor| descriptor.name == service)
    }
}
