//! `courier call <component>.<service>.<method> '<json>'`: one call through a proxy's
//! channel, on `dispatch-json`, with the arguments as given.

use crate::{failure::Failure, servers};
use courier::{
    auth::Access,
    channel::{Arguments, Call, Outcome},
    codec::Format,
    service::{
        description::{MethodDescription, ServiceDescription},
        MethodDescriptor, ServiceDescriptor,
    },
    ChannelKind, ServiceError, ServiceManager,
};

pub(crate) async fn run(target: &str, arguments: &str, json: bool) -> Result<(), Failure> {
    let Some((component, service, method)) = split(target) else {
        return Err(Failure::Usage(format!("`{target}` is not `<component>.<service>.<method>`")));
    };
    let arguments: serde_json::Value = serde_json::from_str(arguments)
        .map_err(|error| Failure::Usage(format!("the arguments are not JSON: {error}")))?;
    if !arguments.is_object() {
        return Err(Failure::Usage("the arguments must be a JSON object of them by name: '{\"name\":\"Ada\"}'".into()));
    }
    let registry = servers::registry()?;
    let instances = servers::instances(&*registry, component).await?;
    let described = servers::describe(&instances, component).await?;
    if !described.channels.iter().any(|channel| channel == ChannelKind::DispatchJson.name()) {
        return Err(Failure::Usage(format!("`{component}` is not served on dispatch-json, which courier calls with")));
    }
    let Some(service) = described.services.iter().find(|described| described.name == service) else {
        let known: Vec<&str> = described.services.iter().map(|service| service.name.as_str()).collect();
        return Err(Failure::Usage(format!("`{component}` has no service `{service}`; it has: {}", known.join(", "))));
    };
    let descriptor = descriptor(service);
    let Some(method) = descriptor.method(method) else {
        let known: Vec<&str> = descriptor.methods.iter().map(|method| method.name).collect();
        let service = descriptor.name;
        return Err(Failure::Usage(format!(
            "service `{service}` has no method `{method}`; it has: {}",
            known.join(", ")
        )));
    };
    let channel = ServiceManager::builder().registry(registry).build().channel(
        component,
        descriptor,
        ChannelKind::DispatchJson,
    )?;
    let body = serde_json::to_vec(&arguments).map_err(|error| Failure::Usage(error.to_string()))?;
    let reply = channel.call(Call { service: descriptor, method, arguments: &Json(body) }).await?;
    let value: serde_json::Value = Format::Json.decode(&reply.body)?;
    match reply.outcome {
        Outcome::MethodError => Err(Failure::MethodError(value)),
        _ if json => {
            println!("{value}");
            Ok(())
        }
        _ => {
            println!("{}", serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string()));
            Ok(())
        }
    }
}

/// `component.service.method`; component names may hold dots, service and method names not.
fn split(target: &str) -> Option<(&str, &str, &str)> {
    let (rest, method) = target.rsplit_once('.')?;
    let (component, service) = rest.rsplit_once('.')?;
    (!component.is_empty() && !service.is_empty() && !method.is_empty()).then_some((component, service, method))
}

/// Arguments already encoded as a JSON object.
struct Json(Vec<u8>);

impl Arguments for Json {
    fn encode(&self, format: Format) -> Result<Vec<u8>, ServiceError> {
        match format {
            Format::Json => Ok(self.0.clone()),
            other => Err(ServiceError::internal(format!("the arguments are JSON, not {other:?}"))),
        }
    }
}

/// The descriptor of a service as its server describes it. A process makes one call,
/// so the descriptor lives as long as it does.
fn descriptor(service: &ServiceDescription) -> &'static ServiceDescriptor {
    let methods: Vec<MethodDescriptor> =
        service.methods.iter().enumerate().map(|(index, method)| method_descriptor(index, method)).collect();
    Box::leak(Box::new(ServiceDescriptor {
        name: leak(&service.name),
        description: leak(&service.description),
        methods: Box::leak(methods.into_boxed_slice()),
        protobuf: None,
        grpc: None,
    }))
}

fn method_descriptor(index: usize, method: &MethodDescription) -> MethodDescriptor {
    let names: Vec<&'static str> = method.arguments.iter().map(|argument| leak(&argument.name)).collect();
    let types: Vec<&'static str> = method.arguments.iter().map(|argument| leak(&argument.ty)).collect();
    MethodDescriptor {
        name: leak(&method.name),
        index,
        rpc: "",
        description: leak(&method.description),
        arguments: Box::leak(names.into_boxed_slice()),
        argument_types: Box::leak(types.into_boxed_slice()),
        returns: leak(&method.returns),
        error: leak(&method.error),
        rest: None,
        // The server checks access; the caller's side needs no rule.
        access: Access::Public,
        idempotent: method.idempotent,
        queued: method.queued,
    }
}

fn leak(text: &str) -> &'static str {
    Box::leak(text.to_owned().into_boxed_str())
}
