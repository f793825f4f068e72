//! What a server says about the components it runs, at `GET /describe`: their services,
//! methods and argument types, for tools (the `courier` CLI) that call services they do
//! not link.

use crate::{auth::Access, ComponentDescriptor, MethodDescriptor, ServiceDescriptor};
use serde::{Deserialize, Serialize};

/// Where a server describes its components.
pub const DESCRIBE_PATH: &str = "/describe";

/// The components of one server: the body of `GET /describe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Description {
    /// Every component the server runs.
    pub components: Vec<ComponentDescription>,
}

/// One component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentDescription {
    /// Its name, which registries know it by.
    pub name: String,
    /// The channels it is served on: `dispatch-msgpack`, `rest`, ...
    pub channels: Vec<String>,
    /// The path of its health endpoint.
    pub health: String,
    /// The services it bundles.
    pub services: Vec<ServiceDescription>,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceDescription {
    /// Its name on the wire.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its gRPC service, for services declared for protobuf: `courier.greeter.Greeter`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grpc: Option<String>,
    /// Its methods, in declaration order.
    pub methods: Vec<MethodDescription>,
}

/// One method: `hello(name: String) -> Result<String, ServiceError>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodDescription {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its arguments, in order: the fields of its JSON body on `dispatch-json`.
    pub arguments: Vec<ArgumentDescription>,
    /// The Rust type of its result.
    pub returns: String,
    /// The Rust type of its error.
    pub error: String,
    /// Whether it may safely run twice.
    pub idempotent: bool,
    /// Whether it runs as a job.
    pub queued: bool,
    /// The roles that may call it: `None` for anyone; empty for any authenticated caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Its REST route, `GET /api/hello/{name}`, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// One argument of a method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArgumentDescription {
    /// Its name: its field in the JSON body.
    pub name: String,
    /// Its Rust type, as declared.
    #[serde(rename = "type")]
    pub ty: String,
}

impl ComponentDescription {
    /// The description of `component`, whose health endpoint is at `health`.
    pub fn new(component: &ComponentDescriptor, health: &str) -> Self {
        Self {
            name: component.name.to_owned(),
            channels: component.channels.iter().map(|channel| channel.name().to_owned()).collect(),
            health: health.to_owned(),
            services: component.services.iter().map(|service| ServiceDescription::new(service)).collect(),
        }
    }
}

impl ServiceDescription {
    fn new(service: &ServiceDescriptor) -> Self {
        Self {
            name: service.name.to_owned(),
            description: service.description.to_owned(),
            grpc: service.grpc.map(str::to_owned),
            methods: service.methods.iter().map(MethodDescription::new).collect(),
        }
    }
}

impl MethodDescription {
    fn new(method: &MethodDescriptor) -> Self {
        let arguments = method.arguments.iter().zip(method.argument_types);
        Self {
            name: method.name.to_owned(),
            description: method.description.to_owned(),
            arguments: arguments
                .map(|(name, ty)| ArgumentDescription { name: (*name).to_owned(), ty: (*ty).to_owned() })
                .collect(),
            returns: method.returns.to_owned(),
            error: method.error.to_owned(),
            idempotent: method.idempotent,
            queued: method.queued,
            roles: match method.access {
                Access::Public => None,
                Access::Roles(roles) => Some(roles.iter().map(|role| (*role).to_owned()).collect()),
            },
            route: method.rest.map(|route| format!("{} {}", route.method, route.path)),
        }
    }

    /// The method as Rust declares it: `hello(name: String) -> Result<String, ServiceError>`.
    pub fn signature(&self) -> String {
        let arguments: Vec<String> =
            self.arguments.iter().map(|argument| format!("{}: {}", argument.name, argument.ty)).collect();
        format!("{}({}) -> Result<{}, {}>", self.name, arguments.join(", "), self.returns, self.error)
    }
}
