//! `#[component]`: a descriptor, the `Component` impl with its hooks, and a link-time
//! entry so servers can discover it and clients can find which component serves a
//! service.

use crate::naming::kebab_case;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{punctuated::Punctuated, Expr, ExprArray, Fields, ItemStruct, LitStr, Path, Token};

const CHANNELS: &[(&str, &str)] =
    &[("local", "Local"), ("dispatch-json", "DispatchJson"), ("dispatch-msgpack", "DispatchMsgpack")];

#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    services: Vec<Path>,
    channels: Option<Vec<LitStr>>,
    startup: Option<Path>,
    shutdown: Option<Path>,
    health: Option<LitStr>,
    max_concurrent: Option<syn::LitInt>,
    queue: Option<syn::LitInt>,
    workers: Option<syn::LitInt>,
    ready: Option<Path>,
    krate: Option<Path>,
}

impl Options {
    fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("crate") {
                options.krate = Some(crate::krate::parse(&meta)?);
            } else if meta.path.is_ident("name") {
                options.name = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("services") {
                let list: ExprArray = meta.value()?.parse()?;
                options.services = list.elems.into_iter().map(path_of).collect::<syn::Result<_>>()?;
            } else if meta.path.is_ident("channels") {
                let content;
                let value = meta.value()?;
                syn::bracketed!(content in value);
                let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                options.channels = Some(names.into_iter().collect());
            } else if meta.path.is_ident("startup") {
                options.startup = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("shutdown") {
                options.shutdown = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("health") {
                options.health = Some(health_path(meta.value()?.parse()?)?);
            } else if meta.path.is_ident("max_concurrent") {
                let max: syn::LitInt = meta.value()?.parse()?;
                if max.base10_parse::<usize>()? == 0 {
                    return Err(syn::Error::new(max.span(), "`max_concurrent` must let at least one call run"));
                }
                options.max_concurrent = Some(max);
            } else if meta.path.is_ident("workers") {
                let workers: syn::LitInt = meta.value()?.parse()?;
                workers.base10_parse::<usize>()?;
                options.workers = Some(workers);
            } else if meta.path.is_ident("ready") {
                options.ready = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("queue") {
                let queue: syn::LitInt = meta.value()?.parse()?;
                queue.base10_parse::<usize>()?;
                options.queue = Some(queue);
            } else {
                return Err(meta.error(
                    "unknown `#[component]` option; expected `name`, `services`, `channels`, `startup`, `shutdown`, \
                     `health`, `max_concurrent`, `queue`, `workers`, `ready` or `crate`",
                ));
            }
            Ok(())
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(options)
    }
}

/// A path of its own for the component's health endpoint, clear of courier's routes.
fn health_path(path: LitStr) -> syn::Result<LitStr> {
    let value = path.value();
    let reserved = value == "/metrics" || value == "/invoke" || value.starts_with("/invoke/");
    if !value.starts_with('/') || value.len() < 2 || value.contains(|c: char| c.is_whitespace() || c == '{') || reserved
    {
        return Err(syn::Error::new(
            path.span(),
            "`health` is the path of the component's health endpoint, such as \"/orders/health\"; \
             it starts with `/`, and `/invoke/...` and `/metrics` are courier's own",
        ));
    }
    Ok(path)
}

fn path_of(expr: Expr) -> syn::Result<Path> {
    match expr {
        Expr::Path(path) => Ok(path.path),
        other => Err(syn::Error::new_spanned(other, "expected a service trait, such as `Greeter`")),
    }
}

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = Options::parse(attr)?;
    let item: ItemStruct = syn::parse2(item)?;
    let ident = &item.ident;
    let name = options.name.map(|name| name.value()).unwrap_or_else(|| kebab_case(&ident.to_string()));
    let services = &options.services;
    let channels = match &options.channels {
        Some(names) => {
            let variants = names
                .iter()
                .map(|name| {
                    CHANNELS
                        .iter()
                        .find(|(known, _)| *known == name.value())
                        .map(|(_, variant)| syn::Ident::new(variant, name.span()))
                        .ok_or_else(|| {
                            syn::Error::new(
                                name.span(),
                                "unknown channel; expected \"local\", \"dispatch-json\", \"dispatch-msgpack\", \"dispatch-protobuf\" or \"rest\"",
                            )
                        })
                })
                .collect::<syn::Result<Vec<_>>>()?;
            quote!(&[#(__courier::ChannelKind::#variants),*])
        }
        None => quote!(__courier::ChannelKind::REMOTE),
    };
    let startup = options.startup.map(|hook| {
        quote! {
            fn startup(&self) -> __courier::BoxFuture<'_, ::core::result::Result<(), __courier::ServiceError>> {
                ::std::boxed::Box::pin(#hook(self))
            }
        }
    });
    let shutdown = options.shutdown.map(|hook| {
        quote! {
            fn shutdown(&self) -> __courier::BoxFuture<'_, ::core::result::Result<(), __courier::ServiceError>> {
                ::std::boxed::Box::pin(#hook(self))
            }
        }
    });
    let ready = options.ready.map(|gate| {
        quote! {
            fn ready(&self) -> __courier::BoxFuture<'_, bool> {
                ::std::boxed::Box::pin(#gate(self))
            }
        }
    });
    let workers = options.workers.as_ref().map_or_else(|| quote!(1), |workers| quote!(#workers));
    let max_concurrent = match &options.max_concurrent {
        Some(max) => quote!(::core::option::Option::Some(#max)),
        None => quote!(::core::option::Option::None),
    };
    let queue = options.queue.as_ref().map_or_else(|| quote!(0), |queue| quote!(#queue));
    let health = match &options.health {
        Some(path) => quote!(::core::option::Option::Some(#path)),
        None => quote!(::core::option::Option::None),
    };
    // Only a unit struct can be built without the user's help.
    let create = match item.fields {
        Fields::Unit => quote!(::core::option::Option::Some(|| ::std::boxed::Box::new(#ident))),
        _ => quote!(::core::option::Option::None),
    };
    let (impl_generics, type_generics, where_clause) = item.generics.split_for_impl();
    let private = crate::krate::private(options.krate.as_ref());
    Ok(quote! {
        #item

        const _: () = {
            use #private as __courier;

            impl #impl_generics #ident #type_generics #where_clause {
                /// What this component bundles and where it can be reached.
                pub const DESCRIPTOR: &'static __courier::ComponentDescriptor = &__courier::ComponentDescriptor {
                    name: #name,
                    services: &[#(<dyn #services as __courier::Service>::DESCRIPTOR),*],
                    channels: #channels,
                    health: #health,
                    max_concurrent: #max_concurrent,
                    queue: #queue,
                    workers: #workers,
                };
            }

            impl #impl_generics __courier::Component for #ident #type_generics #where_clause {
                fn descriptor(&self) -> &'static __courier::ComponentDescriptor {
                    Self::DESCRIPTOR
                }
                #startup
                #shutdown
                #ready
            }

            __courier::inventory::submit! {
                __courier::ComponentEntry { descriptor: #ident::DESCRIPTOR, create: #create }
            }
        };
    })
}
