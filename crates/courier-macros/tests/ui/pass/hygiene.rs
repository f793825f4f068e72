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

#[courier::component(services = [Hygienic], channels = ["dispatch-json"])]
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

fn main() {
    let descriptor = <dyn Hygienic as courier::Service>::DESCRIPTOR;
    std::assert_eq!(descriptor.name, "hygienic");
    std::assert_eq!(descriptor.methods[1].arguments, ["a", "b"]);
    std::assert_eq!(HygienicComponent::DESCRIPTOR.name, "hygienic-component");
}
