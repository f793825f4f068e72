//! The OpenAPI 3 document of the REST routes a server mounts, from the same descriptors.

use courier_core::rest::{ParameterLocation, RestRoute};
use serde_json::{json, Map, Value};

/// Where the document is served.
pub(crate) const OPENAPI_PATH: &str = "/openapi.json";

/// The document for these routes, each with the service it belongs to.
pub(crate) fn document(routes: &[(&'static str, &'static str, &'static RestRoute)]) -> Value {
    let mut paths = Map::new();
    for (service, method, route) in routes {
        let operation = operation(service, method, route);
        let entry = paths.entry(route.path.to_owned()).or_insert_with(|| json!({}));
        entry[route.method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "courier services", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": { "schemas": { "Error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": { "code": { "type": "string" }, "message": { "type": "string" } }
        } } }
    })
}

fn operation(service: &str, method: &str, route: &RestRoute) -> Value {
    let parameters: Vec<Value> = route
        .parameters
        .iter()
        .filter_map(|parameter| {
            let place = match parameter.location {
                ParameterLocation::Path => "path",
                ParameterLocation::Query => "query",
                ParameterLocation::Body => return None,
            };
            let optional = parameter.rust_type.starts_with("Option<");
            Some(json!({
                "name": parameter.name,
                "in": place,
                "required": place == "path" || !optional,
                "schema": schema(parameter.rust_type),
            }))
        })
        .collect();
    let mut operation = json!({
        "operationId": format!("{service}.{method}"),
        "tags": [service],
        "summary": route.summary,
        "parameters": parameters,
        "responses": {
            "default": {
                "description": "a fault, or the method's own error (with the `courier-error: method` header)",
                "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
            }
        }
    });
    let success = match route.no_content {
        true => ("204", json!({ "description": "done" })),
        false => ("200", json!({ "description": "the result", "content": { "application/json": { "schema": {} } } })),
    };
    operation["responses"][success.0] = success.1;
    if let Some(body) = route.parameters.iter().find(|parameter| parameter.location == ParameterLocation::Body) {
        operation["requestBody"] = json!({
            "required": true,
            "description": format!("`{}`: {}", body.name, body.rust_type),
            "content": { "application/json": { "schema": {} } }
        });
    }
    operation
}

/// The JSON schema of a path or query parameter's Rust type.
fn schema(rust_type: &str) -> Value {
    let inner = rust_type.strip_prefix("Option<").and_then(|rest| rest.strip_suffix('>')).unwrap_or(rust_type);
    match inner {
        "bool" => json!({ "type": "boolean" }),
        "f32" | "f64" => json!({ "type": "number" }),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => {
            json!({ "type": "integer" })
        }
        _ => json!({ "type": "string" }),
    }
}
