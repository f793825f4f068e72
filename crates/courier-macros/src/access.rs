//! `#[authorize(roles = ["admin"])]` on a service trait or a method, and `#[public]` on
//! a method: who may call, checked before the method runs.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{punctuated::Punctuated, Attribute, LitStr, Token};

/// Whether an attribute is one `#[service]` consumes for access control.
pub(crate) fn is_access_attribute(attr: &Attribute) -> bool {
    attr.path().is_ident("authorize") || attr.path().is_ident("public")
}

/// What the attributes demand: `None` when they say nothing.
pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Option<TokenStream>> {
    let mut access = None;
    for attr in attrs.iter().filter(|attr| is_access_attribute(attr)) {
        if access.is_some() {
            return Err(syn::Error::new_spanned(attr, "use one of #[authorize] and #[public]"));
        }
        access = Some(match &attr.meta {
            syn::Meta::Path(path) if path.is_ident("public") => quote!(__courier::Access::Public),
            syn::Meta::Path(_) => quote!(__courier::Access::Roles(&[])),
            _ if attr.path().is_ident("public") => {
                return Err(syn::Error::new_spanned(attr, "#[public] takes no options"))
            }
            _ => {
                let mut roles = Vec::new();
                attr.parse_nested_meta(|meta| {
                    if !meta.path.is_ident("roles") {
                        return Err(meta.error("expected `roles = [\"...\"]`"));
                    }
                    let content;
                    let value = meta.value()?;
                    syn::bracketed!(content in value);
                    roles.extend(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?);
                    Ok(())
                })?;
                quote!(__courier::Access::Roles(&[#(#roles),*]))
            }
        });
    }
    Ok(access)
}
