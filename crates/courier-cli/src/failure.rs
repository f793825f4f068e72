//! How a command fails: what it prints, and the exit status.

use courier::ServiceError;
use std::process::ExitCode;

/// Why a command did not succeed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command cannot run as asked: exit status 2.
    Usage(String),
    /// A courier fault of the call, or of reaching an instance: exit status 1.
    Fault(ServiceError),
    /// The method answered with its own error, as JSON: exit status 1.
    MethodError(serde_json::Value),
    /// Something the command checked is not well, and it printed what: exit status 1.
    Unwell,
}

impl From<ServiceError> for Failure {
    fn from(error: ServiceError) -> Self {
        Self::Fault(error)
    }
}

impl Failure {
    /// Prints the failure — on stdout as JSON with `--json`, else in words on stderr —
    /// and gives the exit status.
    pub(crate) fn report(self, json: bool) -> ExitCode {
        let (status, as_json, in_words) = match self {
            Self::Usage(message) => (
                2,
                serde_json::json!({ "error": { "code": "usage", "message": message } }),
                format!("courier: {message}"),
            ),
            Self::Fault(error) => (
                1,
                serde_json::json!({ "error": { "code": error.code, "message": error.message } }),
                format!("error {}: {}", error.code, error.message),
            ),
            Self::MethodError(error) => {
                (1, serde_json::json!({ "method_error": error }), format!("the method failed: {error}"))
            }
            Self::Unwell => return ExitCode::from(1),
        };
        match json {
            true => println!("{as_json}"),
            false => eprintln!("{in_words}"),
        }
        ExitCode::from(status)
    }
}
