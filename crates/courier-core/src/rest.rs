//! The `rest` channel's shared parts: how a method maps to an HTTP route, and the
//! helpers generated code uses to build and read requests.

use crate::{ErrorCode, ServiceError};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{de::DeserializeOwned, Serialize};
use std::fmt;

/// The HTTP method of a REST route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`: no body.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`: no body.
    Delete,
}

impl HttpMethod {
    /// The method as HTTP spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a REST route finds an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterLocation {
    /// A `{name}` segment of the path.
    Path,
    /// A `name=value` pair of the query string.
    Query,
    /// The JSON request body.
    Body,
}

/// One argument of a REST route.
#[derive(Debug)]
pub struct RestParameter {
    /// The argument's name.
    pub name: &'static str,
    /// Where it travels.
    pub location: ParameterLocation,
    /// Its Rust type, as written.
    pub rust_type: &'static str,
}

/// A method's REST route, from `#[get("/...")]` and friends under `#[rest("/prefix")]`.
#[derive(Debug)]
pub struct RestRoute {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The full path template, prefix included: `/api/hello/{message}`.
    pub path: &'static str,
    /// The arguments, in declaration order.
    pub parameters: &'static [RestParameter],
    /// Whether a success answers 204 with no body (the method returns `()`).
    pub no_content: bool,
    /// The method's doc comment.
    pub summary: &'static str,
    /// The JSON Schemas of its parameters, result and error.
    pub schemas: fn(&mut schemars::SchemaGenerator) -> RouteSchemas,
}

/// The JSON Schemas of a route's types, as [`RestRoute::schemas`] gives them: each an
/// inline schema or a `$ref` to one of the generator's definitions.
#[derive(Debug)]
pub struct RouteSchemas {
    /// Of each parameter, in the order of [`RestRoute::parameters`].
    pub parameters: Vec<schemars::Schema>,
    /// Of the method's `Ok` value.
    pub result: schemars::Schema,
    /// Of the method's own error (`Error`, courier's `{code, message}`, for
    /// `ServiceError`).
    pub error: schemars::Schema,
}

/// A type the OpenAPI document describes: every argument, result and error of a REST
/// route.
#[diagnostic::on_unimplemented(
    message = "`{Self}` travels on a REST route, so the OpenAPI document needs its JSON Schema",
    label = "does not implement `JsonSchema`",
    note = "add `JsonSchema` to its derives: `#[derive(Serialize, Deserialize, JsonSchema)]`, with `use courier::prelude::*;` in scope"
)]
pub trait Documented: schemars::JsonSchema {}
impl<T: schemars::JsonSchema + ?Sized> Documented for T {}

/// Compile-time check that a REST route's type has a JSON Schema.
pub const fn assert_documented<T: Documented + ?Sized>() {}

/// A REST request as the proxy builds it.
#[derive(Debug, Clone, PartialEq)]
pub struct RestCall {
    /// The HTTP method.
    pub method: HttpMethod,
    /// The path with its parameters filled in and encoded.
    pub path: String,
    /// The encoded query string, without `?`; empty when there is none.
    pub query: String,
    /// The JSON body, for routes that take one.
    pub body: Option<Vec<u8>>,
}

/// A REST request as the server received it.
#[derive(Debug, Default)]
pub struct RestRequest {
    /// The path parameters, decoded.
    pub path: Vec<(String, String)>,
    /// The raw query string.
    pub query: String,
    /// The body.
    pub body: bytes::Bytes,
    /// Whether the body was declared as JSON (or not declared at all, when empty).
    pub json: bool,
}

/// The answer to a [`RestRequest`], JSON unless it is a 204.
#[derive(Debug)]
pub struct RestResponse {
    /// The status.
    pub status: u16,
    /// The JSON body, empty for 204.
    pub body: Vec<u8>,
    /// Whether the body is the method's own error.
    pub method_error: bool,
}

impl RestResponse {
    /// A courier fault: its status and `{code, message}`.
    pub fn fault(error: &ServiceError) -> Self {
        Self { status: error.code.status(), body: crate::Format::Json.encode_error(error), method_error: false }
    }
}

/// What may travel in a path segment: everything but unreserved characters is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// A path parameter's value, encoded for a path segment. Only scalars fit in a path.
pub fn path_segment<T: Serialize + ?Sized>(name: &str, value: &T) -> Result<String, ServiceError> {
    let text = match serde_json::to_value(value) {
        Ok(serde_json::Value::String(text)) => text,
        Ok(serde_json::Value::Number(number)) => number.to_string(),
        Ok(serde_json::Value::Bool(flag)) => flag.to_string(),
        _ => {
            return Err(ServiceError::bad_request(format!("path parameter `{name}` must be a string, number or bool")))
        }
    };
    Ok(utf8_percent_encode(&text, SEGMENT).to_string())
}

/// Encodes query parameters; `None` values are left out.
pub fn query_string<T: Serialize>(query: &T) -> Result<String, ServiceError> {
    serde_urlencoded::to_string(query)
        .map_err(|error| ServiceError::bad_request(format!("cannot encode the query: {error}")))
}

/// Decodes path parameters into their types.
pub fn decode_path<T: DeserializeOwned>(pairs: &[(String, String)]) -> Result<T, ServiceError> {
    let encoded = serde_urlencoded::to_string(pairs).map_err(|error| ServiceError::bad_request(error.to_string()))?;
    serde_urlencoded::from_str(&encoded)
        .map_err(|error| ServiceError::bad_request(format!("invalid path parameter: {error}")))
}

/// Decodes the query string into its types.
pub fn decode_query<T: DeserializeOwned>(query: &str) -> Result<T, ServiceError> {
    serde_urlencoded::from_str(query).map_err(|error| ServiceError::bad_request(format!("invalid query: {error}")))
}

/// Decodes the JSON body.
pub fn decode_body<T: DeserializeOwned>(request: &RestRequest) -> Result<T, ServiceError> {
    if !request.json {
        return Err(ServiceError::new(ErrorCode::UnsupportedMediaType, "the request body must be application/json"));
    }
    <crate::JsonCodec as crate::Codec>::decode(&request.body)
}

/// Encodes what a method returned: 200 with JSON, 204 for `()`, or the method's error
/// with the status its `code` names (500 when it has none).
pub fn respond<T: Serialize, E: Serialize>(result: Result<T, E>, no_content: bool) -> RestResponse {
    match result {
        Ok(_) if no_content => RestResponse { status: 204, body: Vec::new(), method_error: false },
        Ok(value) => match serde_json::to_vec(&value) {
            Ok(body) => RestResponse { status: 200, body, method_error: false },
            Err(error) => RestResponse::fault(&ServiceError::internal(format!("cannot encode the result: {error}"))),
        },
        Err(error) => match serde_json::to_vec(&error) {
            Ok(body) => RestResponse { status: crate::service::method_error_status(&error), body, method_error: true },
            Err(error) => RestResponse::fault(&ServiceError::internal(format!("cannot encode the error: {error}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded_and_decoded_back() {
        let segment = path_segment("name", "a b/c?d").expect("a string");
        assert_eq!(segment, "a%20b%2Fc%3Fd");
        assert_eq!(path_segment("id", &42u64).expect("a number"), "42");
        assert!(path_segment("list", &vec![1, 2]).is_err());
        #[derive(serde::Deserialize)]
        struct Path {
            id: u64,
        }
        let path: Path = decode_path(&[("id".into(), "42".into())]).expect("typed");
        assert_eq!(path.id, 42);
        assert!(decode_path::<Path>(&[("id".into(), "x".into())]).is_err());
    }
}
