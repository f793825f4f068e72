//! [`BlockingProxy`]: a proxy for programs that are not async.

use crate::{ProxyBuilder, ServiceManager};
use courier_core::{BoxFuture, Service, ServiceError};
use std::{fmt, sync::Arc, sync::OnceLock};
use tokio::runtime::{Builder, Handle, Runtime};

/// The runtime every blocking proxy of the process runs its calls on: one worker thread,
/// which also keeps connections and registry watches alive between calls.
static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime, ServiceError> {
    let runtime = RUNTIME.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("courier-blocking")
            .enable_all()
            .build()
            .map_err(|error| error.to_string())
    });
    runtime
        .as_ref()
        .map_err(|error| ServiceError::internal(format!("cannot start the blocking proxies' runtime: {error}")))
}

/// A proxy for sync code: each [`call`](Self::call) waits for the method's result, on
/// a runtime of courier's own, so a plain `fn main`, a CLI or a sync test needs no
/// runtime of its own. It is the same proxy as [`ServiceManager::get`] gives, so it
/// picks instances, fails over and applies interceptors and timeouts in the same way.
///
/// ```ignore
/// fn main() -> Result<(), Report> {
///     let greeter = ServiceManager::default().blocking::<dyn Greeter>()?;
///     println!("{}", greeter.call(|greeter| greeter.hello("Ada".into()))?);
///     Ok(())
/// }
/// ```
///
/// (The whole program, which the tests run: `examples/remote/blocking-client.rs`.)
///
/// Async code keeps the async proxy: a blocking call made on a runtime's thread fails
/// with `internal` rather than stalling that runtime.
pub struct BlockingProxy<S: ?Sized> {
    proxy: Arc<S>,
    runtime: &'static Runtime,
}

impl<S: ?Sized> fmt::Debug for BlockingProxy<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingProxy").field("service", &std::any::type_name::<S>()).finish_non_exhaustive()
    }
}

impl<S: ?Sized> Clone for BlockingProxy<S> {
    fn clone(&self) -> Self {
        Self { proxy: Arc::clone(&self.proxy), runtime: self.runtime }
    }
}

impl<S: Service + ?Sized> BlockingProxy<S> {
    /// Builds the proxy `builder` describes, on courier's runtime (which registry
    /// watches need).
    fn build(builder: ProxyBuilder<'_, S>) -> Result<Self, ServiceError> {
        let runtime = runtime()?;
        let _entered = runtime.enter();
        Ok(Self { proxy: builder.build()?, runtime })
    }

    /// Calls one method and waits for its result: `greeter.call(|g| g.hello(name))`.
    pub fn call<'a, T, E>(&'a self, method: impl FnOnce(&'a S) -> BoxFuture<'a, Result<T, E>>) -> Result<T, E>
    where
        E: From<ServiceError>,
    {
        if Handle::try_current().is_ok() {
            return Err(E::from(ServiceError::internal(
                "a blocking proxy was called from async code, which it would stall: use the async proxy there",
            )));
        }
        self.runtime.block_on(method(&self.proxy))
    }

    /// The async proxy underneath.
    pub fn proxy(&self) -> &Arc<S> {
        &self.proxy
    }
}

impl ServiceManager {
    /// A [`BlockingProxy`] for `S` with this manager's defaults, for sync code.
    pub fn blocking<S: Service + ?Sized>(&self) -> Result<BlockingProxy<S>, ServiceError> {
        self.proxy::<S>().build_blocking()
    }
}

impl<S: Service + ?Sized> ProxyBuilder<'_, S> {
    /// The proxy, for sync code: see [`BlockingProxy`].
    pub fn build_blocking(self) -> Result<BlockingProxy<S>, ServiceError> {
        BlockingProxy::build(self)
    }
}
