use crate::http::Exchange;
use bytes::Bytes;
use courier_core::{grpc, wire::ERROR_HEADER, ErrorCode, Format, Outcome, Reply, ServiceError};
use http::{header, StatusCode};

/// Whether an answer carries the method's own error.
pub(crate) fn is_method_error(response: &Exchange) -> bool {
    response.headers.contains_key(ERROR_HEADER)
}

/// Reads an HTTP answer: a value, the method's own error, or a fault of courier.
pub(crate) fn read(response: Exchange) -> Result<Reply, ServiceError> {
    let status = response.status;
    let method_error = is_method_error(&response);
    let format = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(Format::from_content_type);
    let body = response.body;
    match (status, method_error, format) {
        // A method that returns nothing answers 204 on REST; `()` reads from `null`.
        (StatusCode::NO_CONTENT, _, _) => {
            Ok(Reply { format: Format::Json, outcome: Outcome::Value, body: Bytes::from_static(b"null") })
        }
        (StatusCode::ACCEPTED, _, Some(format)) => Ok(Reply { format, outcome: Outcome::Accepted, body }),
        (status, _, Some(format)) if status.is_success() => Ok(Reply { format, outcome: Outcome::Value, body }),
        (_, true, Some(format)) => Ok(Reply { format, outcome: Outcome::MethodError, body }),
        (_, false, Some(format)) => Err(format.decode_error(&body).unwrap_or_else(|_| from_status(status, &body))),
        _ => Err(from_status(status, &body)),
    }
}

/// Reads a gRPC answer: one message and `grpc-status: 0`, the method's own error, or a
/// fault; an answer that is not gRPC's reads as an HTTP one.
pub(crate) fn read_grpc(response: Exchange) -> Result<Reply, ServiceError> {
    if response.status != StatusCode::OK || !grpc::is_grpc(&response.headers) {
        return match read(response) {
            Ok(_) => Err(ServiceError::new(ErrorCode::Transport, "the server answered a gRPC call without gRPC")),
            fault => fault,
        };
    }
    // A call that ends at once says its status in its headers (Trailers-Only).
    let status = response.trailers.as_ref().filter(|trailers| trailers.contains_key(grpc::STATUS));
    match grpc::ending(status.unwrap_or(&response.headers)) {
        grpc::Ending::Ok => {
            let body = grpc::unframe(&response.body).map_err(|error| {
                ServiceError::new(ErrorCode::Transport, format!("unreadable gRPC reply: {}", error.message))
            })?;
            Ok(Reply { format: Format::Protobuf, outcome: Outcome::Value, body })
        }
        grpc::Ending::MethodError(body) => Ok(Reply { format: Format::Protobuf, outcome: Outcome::MethodError, body }),
        grpc::Ending::Failed(error) => Err(error),
    }
}

/// A fault whose body is not one of ours: a proxy, or a server that is not courier.
fn from_status(status: StatusCode, body: &[u8]) -> ServiceError {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    ServiceError::new(ErrorCode::from_status(status.as_u16()), format!("HTTP {status}: {text}"))
}
