//! Proc-macros of courier; use them through the `courier` crate, which documents them.

#![warn(missing_docs)]

mod access;
mod boxed;
mod component;
mod health;
mod implementation;
mod krate;
mod naming;
mod protobuf;
mod rest;
mod service;

use proc_macro::TokenStream;

/// Turns a trait into a courier service. Documented in the `courier` crate.
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(service::expand(attr.into(), item.into()))
}

/// Declares a component bundling services. Documented in the `courier` crate.
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(component::expand(attr.into(), item.into()))
}

/// Marks an implementation of a service. Documented in the `courier` crate.
#[proc_macro_attribute]
pub fn implementation(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(implementation::expand(attr.into(), item.into()))
}

/// Makes the `#[health_check]` methods of an `impl` block the type's health checks.
/// Documented in the `courier` crate.
#[proc_macro_attribute]
pub fn health_checks(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(health::expand(attr.into(), item.into()))
}

/// Marks a health check method inside a `#[health_checks]` block. Documented in the
/// `courier` crate.
#[proc_macro_attribute]
pub fn health_check(_attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(health::expand_lone(item.into()))
}

fn expand(result: syn::Result<proc_macro2::TokenStream>) -> TokenStream {
    result.unwrap_or_else(syn::Error::into_compile_error).into()
}

/// Makes a struct a protobuf message. Documented in the `courier` crate.
#[proc_macro_derive(ProtoMessage, attributes(proto))]
pub fn proto_message(item: TokenStream) -> TokenStream {
    expand(protobuf::expand_derive(item.into()))
}
