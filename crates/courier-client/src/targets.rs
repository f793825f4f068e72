//! Where a channel's calls go: the URI of each method on each live instance, and the
//! `Host` header to send there, built when the instances change rather than per call.
//!
//! Formatting the URL, parsing it back into a URI and formatting the `Host` header took
//! about 4.5k instructions per call, about 3 % of a small call on both sides.

use courier_core::{ErrorCode, Instance, Instances, ServiceError};
use http::{uri::Scheme, HeaderValue, Uri};
use std::sync::{Arc, PoisonError, RwLock};

/// One method of one instance: where to send its calls.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) uri: Uri,
    pub(crate) host: HeaderValue,
}

/// The targets of every method on every instance of one list of instances.
#[derive(Debug)]
pub(crate) struct Targets {
    /// Per method index, the path below an instance's base URL.
    paths: Box<[String]>,
    resolved: RwLock<Resolved>,
}

#[derive(Debug)]
struct Resolved {
    /// The list the targets were built from, compared by address: the registry
    /// replaces the list whole on every change.
    instances: Instances,
    /// Per instance, per method; or why the instance's URL cannot be called.
    targets: Arc<[Result<Box<[Target]>, String>]>,
}

impl Targets {
    pub(crate) fn new(paths: Box<[String]>) -> Self {
        let resolved = Resolved { instances: Arc::from(Vec::new()), targets: Arc::from(Vec::new()) };
        Self { paths, resolved: RwLock::new(resolved) }
    }

    /// The target of `method` on `instance`, one of `instances`.
    pub(crate) fn get(
        &self,
        instances: &Instances,
        instance: &Instance,
        method: usize,
    ) -> Result<Target, ServiceError> {
        let Some(index) = instances
            .iter()
            .position(|candidate| std::ptr::eq(candidate, instance))
            .or_else(|| instances.iter().position(|candidate| candidate == instance))
        else {
            // A selector of the user's own may pick an instance of its own.
            return self.resolve(instance).map(|methods| methods[method].clone()).map_err(transport);
        };
        let targets = {
            let resolved = self.resolved.read().unwrap_or_else(PoisonError::into_inner);
            match Arc::ptr_eq(&resolved.instances, instances) {
                true => Arc::clone(&resolved.targets),
                false => {
                    drop(resolved);
                    self.rebuild(instances)
                }
            }
        };
        match &targets[index] {
            Ok(methods) => Ok(methods[method].clone()),
            Err(problem) => Err(transport(problem.clone())),
        }
    }

    fn rebuild(&self, instances: &Instances) -> Arc<[Result<Box<[Target]>, String>]> {
        let mut resolved = self.resolved.write().unwrap_or_else(PoisonError::into_inner);
        if !Arc::ptr_eq(&resolved.instances, instances) {
            resolved.targets = instances.iter().map(|instance| self.resolve(instance)).collect();
            resolved.instances = Arc::clone(instances);
        }
        Arc::clone(&resolved.targets)
    }

    fn resolve(&self, instance: &Instance) -> Result<Box<[Target]>, String> {
        let methods = self
            .paths
            .iter()
            .map(|path| {
                let url = format!("{}{path}", instance.url);
                let uri = Uri::try_from(url.as_str()).map_err(|error| format!("cannot call {url}: {error}"))?;
                let host = host_header(&uri).ok_or_else(|| format!("cannot call {url}: it names no host"))?;
                Ok(Target { uri, host })
            })
            .collect::<Result<Box<[Target]>, String>>()?;
        Ok(methods)
    }
}

fn transport(problem: String) -> ServiceError {
    ServiceError::new(ErrorCode::Transport, problem)
}

/// `host[:port]`, the port only when it is not the scheme's default, as hyper's
/// client would write it.
fn host_header(uri: &Uri) -> Option<HeaderValue> {
    let host = uri.host()?;
    let default_port = match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTPS => 443,
        _ => 80,
    };
    let value = match uri.port_u16() {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    HeaderValue::try_from(value).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Targets {
        Targets::new(Box::new(["/invoke/c/s/a".to_owned(), "/invoke/c/s/b".to_owned()]))
    }

    #[test]
    fn each_method_of_each_instance_has_its_uri_and_host() {
        let targets = targets();
        let instances: Instances =
            Arc::from(vec![Instance::new("one", "http://10.0.0.1:8080"), Instance::new("two", "http://peer")]);
        let target = targets.get(&instances, &instances[0], 1).expect("target");
        assert_eq!(target.uri, "http://10.0.0.1:8080/invoke/c/s/b");
        assert_eq!(target.host, "10.0.0.1:8080");
        let target = targets.get(&instances, &instances[1], 0).expect("target");
        assert_eq!(target.uri, "http://peer/invoke/c/s/a");
        assert_eq!(target.host, "peer");
    }

    #[test]
    fn a_new_list_of_instances_is_resolved_again() {
        let targets = targets();
        let first: Instances = Arc::from(vec![Instance::new("one", "http://10.0.0.1:8080")]);
        assert_eq!(targets.get(&first, &first[0], 0).expect("target").host, "10.0.0.1:8080");
        let second: Instances = Arc::from(vec![Instance::new("one", "http://10.0.0.2:8080")]);
        assert_eq!(targets.get(&second, &second[0], 0).expect("target").host, "10.0.0.2:8080");
    }

    #[test]
    fn an_instance_from_elsewhere_is_resolved_on_its_own() {
        let targets = targets();
        let instances: Instances = Arc::from(vec![Instance::new("one", "http://10.0.0.1:8080")]);
        let elsewhere = Instance::new("other", "http://10.0.0.9:9090");
        assert_eq!(targets.get(&instances, &elsewhere, 0).expect("target").host, "10.0.0.9:9090");
    }

    #[test]
    fn an_unusable_url_fails_the_calls_to_its_instance_only() {
        let targets = targets();
        let instances: Instances =
            Arc::from(vec![Instance::new("bad", "not a url"), Instance::new("good", "http://127.0.0.1:1")]);
        let error = targets.get(&instances, &instances[0], 0).expect_err("no URI");
        assert_eq!(error.code, ErrorCode::Transport);
        assert!(error.message.contains("not a url"), "{error}");
        assert!(targets.get(&instances, &instances[1], 0).is_ok());
    }
}
