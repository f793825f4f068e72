//! What the benchmarks `roundtrip` and `balance` share: their error type, their command
//! lines, the server processes they start, the turns the contenders take, and the
//! statistics they report.

pub mod cli;
pub mod processes;
pub mod rounds;
pub mod stats;

/// An error that ends a benchmark run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// An error with its sources: HTTP clients put the cause (refused, reset, ...) there,
/// not in the message.
pub fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
