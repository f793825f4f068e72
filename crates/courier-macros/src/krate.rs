//! `crate = "..."`: where generated code finds courier. `::courier` by default; crates
//! below the facade name `courier_core`, which holds the same `__private` module.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{meta::ParseNestedMeta, LitStr, Path};

/// The path to courier's `__private` module: `::courier::__private` unless told.
pub(crate) fn private(krate: Option<&Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path::__private),
        None => quote!(::courier::__private),
    }
}

/// Parses `crate = "path"`.
pub(crate) fn parse(meta: &ParseNestedMeta<'_>) -> syn::Result<Path> {
    meta.value()?.parse::<LitStr>()?.parse()
}
