use courier_core::{tls::TlsError, ServiceError};

/// Why a server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The bind address could not be parsed or bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address asked for.
        address: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A component bundles a service nothing implements.
    #[error(
        "component `{component}` bundles service `{service}`, but no implementation of it is linked in: \
         put `#[implementation]` on one, or pass one with `.service(...)`"
    )]
    MissingImplementation {
        /// The component.
        component: &'static str,
        /// The service without an implementation.
        service: &'static str,
    },
    /// Two routes of the server would answer the same requests.
    #[error("conflicting routes: {0}")]
    Routes(String),
    /// Two components of one server share a name.
    #[error("component `{0}` is added twice")]
    DuplicateComponent(&'static str),
    /// A component's startup or shutdown hook failed.
    #[error("component `{component}` failed to {stage}: {source}")]
    Hook {
        /// The component.
        component: &'static str,
        /// `start` or `stop`.
        stage: &'static str,
        /// The hook's error.
        source: ServiceError,
    },
    /// The registry the environment names cannot be used: a variable is malformed.
    #[error("{0}")]
    Environment(ServiceError),
    /// The registry refused a registration or deregistration.
    #[error("registry refused component `{component}`: {source}")]
    Registry {
        /// The component.
        component: &'static str,
        /// The registry's error.
        source: ServiceError,
    },
    /// The job queue could not be opened for a component's queued methods.
    #[error("cannot open the job queue of component `{component}`: {source}")]
    Jobs {
        /// The component.
        component: &'static str,
        /// The queue's error.
        source: ServiceError,
    },
    /// The TLS configuration is unusable, or the server has none to renew.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}
