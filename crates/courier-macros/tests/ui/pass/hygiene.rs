//! Generated code names everything by absolute path, so it compiles without the prelude.
#![no_implicit_prelude]

extern crate courier;
extern crate serde;
extern crate std;

#[courier::service(name = "hygienic", description = "compiles without the prelude")]
pub trait Hygienic {
    async fn none(&self) -> std::result::Result<(), courier::ServiceError>;
    async fn some(&self, a: std::string::String, b: std::vec::Vec<u8>) -> std::result::Result<u64, courier::ServiceError>;
}

#[courier::component(services = [Hygienic], channels = ["dispatch-json"], health = "/hygienic/health")]
pub struct HygienicComponent;

#[derive(std::default::Default)]
pub struct Implementation;

#[courier::implementation]
impl Hygienic for Implementation {
    async fn none(&self) -> std::result::Result<(), courier::ServiceError> {
        std::result::Result::Ok(())
    }

    async fn some(&self, a: std::string::String, b: std::vec::Vec<u8>) -> std::result::Result<u64, courier::ServiceError> {
        std::result::Result::Ok((a.len() + b.len()) as u64)
    }
}

#[courier::health_checks]
impl Implementation {
    #[courier::health_check(cache = "1.5s", fail_if_slower_than = "250ms")]
    async fn fine(&self, result: &mut courier::health::CheckResult) {
        result.warning("only a little");
    }

    #[courier::health_check(name = "fallible")]
    async fn may_fail(&self) -> std::result::Result<(), std::string::String> {
        std::result::Result::Ok(())
    }
}

fn main() {
    let descriptor = <dyn Hygienic as courier::service::Service>::DESCRIPTOR;
    std::assert_eq!(descriptor.name, "hygienic");
    std::assert_eq!(descriptor.methods[1].arguments, ["a", "b"]);
    std::assert_eq!(HygienicComponent::DESCRIPTOR.name, "hygienic-component");
    std::assert_eq!(HygienicComponent::DESCRIPTOR.health, std::option::Option::Some("/hygienic/health"));
    let checks = courier::health::HealthChecks::health_checks(&std::sync::Arc::new(Implementation));
    std::assert_eq!(checks.len(), 2);
    std::assert_eq!(checks[0].name(), "fine");
    std::assert_eq!(checks[0].options().cache_time(), std::time::Duration::from_millis(1500));
    std::assert_eq!(checks[0].options().bound(), std::option::Option::Some(std::time::Duration::from_millis(250)));
    std::assert_eq!(checks[1].name(), "fallible");
}
