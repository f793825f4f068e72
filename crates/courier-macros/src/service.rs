//! `#[service]`: parse the trait, validate every method, then generate the descriptor,
//! the argument structs, the proxy and the dispatcher.

use crate::{
    boxed,
    naming::{doc_text, pascal_case, snake_case},
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{
    parse_quote, spanned::Spanned, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType,
    Signature, TraitItem, Type,
};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = Options::parse(attr)?;
    let item: ItemTrait = syn::parse2(item)?;
    match Service::parse(&item, options) {
        Ok(service) => Ok(service.into_token_stream()),
        // Keep the trait as written, so code using it reports only the real mistake.
        Err(error) => {
            let error = error.into_compile_error();
            Ok(quote!(#item #error))
        }
    }
}

#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    description: Option<LitStr>,
}

impl Options {
    fn parse(attr: TokenStream) -> syn::Result<Self> {
        let mut options = Self::default();
        let parser = syn::meta::parser(|meta| {
            if meta.path.is_ident("name") {
                options.name = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("description") {
                options.description = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown `#[service]` option; expected `name = \"...\"` or `description = \"...\"`"))
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(options)
    }
}

struct Service {
    item: ItemTrait,
    name: String,
    description: String,
    methods: Vec<Method>,
}

struct Method {
    sig: Signature,
    arguments: Vec<(Ident, Type)>,
    ok: Type,
    error: Type,
}

impl Service {
    fn parse(item: &ItemTrait, options: Options) -> Result<Self, syn::Error> {
        let mut errors: Option<syn::Error> = None;
        let mut push = |error: syn::Error| match &mut errors {
            Some(all) => all.combine(error),
            None => errors = Some(error),
        };
        if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
            push(syn::Error::new(
                item.generics.span(),
                "a service trait cannot be generic: its methods must have one wire form",
            ));
        }
        let mut methods = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(function) => match Method::parse(&function.sig) {
                    Ok(method) => methods.push(method),
                    Err(error) => push(error),
                },
                other => push(syn::Error::new(other.span(), "a service trait holds only `async fn` methods")),
            }
        }
        if let Some(errors) = errors {
            return Err(errors);
        }
        Ok(Self {
            item: item.clone(),
            name: options.name.map(|name| name.value()).unwrap_or_else(|| snake_case(&item.ident.to_string())),
            description: options.description.map(|text| text.value()).unwrap_or_else(|| doc_text(&item.attrs)),
            methods,
        })
    }
}

impl Method {
    fn parse(sig: &Signature) -> syn::Result<Self> {
        let name = &sig.ident;
        if sig.asyncness.is_none() {
            return Err(syn::Error::new(
                sig.fn_token.span(),
                format!("service methods must be async: write `async fn {name}(&self, ...)`"),
            ));
        }
        if !sig.generics.params.is_empty() {
            return Err(syn::Error::new(sig.generics.span(), "service methods cannot be generic"));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_none() => {}
            _ => {
                return Err(syn::Error::new(
                    sig.paren_token.span.join(),
                    format!("service methods take `&self` first: write `async fn {name}(&self, ...)`"),
                ))
            }
        }
        let arguments = inputs
            .map(|input| match input {
                FnArg::Typed(typed) => match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        Ok((pat.ident.clone(), (*typed.ty).clone()))
                    }
                    other => {
                        Err(syn::Error::new(other.span(), "service arguments need a plain name: write `name: Type`"))
                    }
                },
                FnArg::Receiver(receiver) => Err(syn::Error::new(receiver.span(), "unexpected receiver")),
            })
            .collect::<syn::Result<Vec<_>>>()?;
        let (ok, error) = result_types(&sig.output).ok_or_else(|| {
            syn::Error::new(
                sig.output.span(),
                "service methods return `Result<T, E>`, where `E` is `courier::ServiceError` or converts from it",
            )
        })?;
        Ok(Self { sig: sig.clone(), arguments, ok, error })
    }

    fn arguments_type(&self) -> Ident {
        format_ident!("{}Arguments", pascal_case(&self.sig.ident.to_string()))
    }

    fn borrowed_arguments_type(&self) -> Ident {
        format_ident!("{}ArgumentsRef", pascal_case(&self.sig.ident.to_string()))
    }
}

/// `T` and `E` of a `Result<T, E>` return type.
fn result_types(output: &ReturnType) -> Option<(Type, Type)> {
    let ReturnType::Type(_, ty) = output else { return None };
    let Type::Path(path) = &**ty else { return None };
    let last = path.path.segments.last().filter(|segment| segment.ident == "Result")?;
    let PathArguments::AngleBracketed(generics) = &last.arguments else { return None };
    let mut types = generics.args.iter().filter_map(|arg| match arg {
        GenericArgument::Type(ty) => Some(ty.clone()),
        _ => None,
    });
    let ok = types.next()?;
    let error = types.next()?;
    types.next().is_none().then_some((ok, error))
}

impl ToTokens for Service {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        let descriptor = self.descriptor();
        let checks = self.type_checks();
        let arguments = self.argument_structs();
        let proxy = self.proxy();
        let dispatcher = self.dispatcher();
        let item = self.service_trait();
        let ident = &self.item.ident;
        tokens.extend(quote! {
            #item

            const _: () = {
                use ::courier::__private as __courier;
                #checks
                #arguments
                #proxy
                #dispatcher

                impl __courier::Service for dyn #ident {
                    const DESCRIPTOR: &'static __courier::ServiceDescriptor = #descriptor;

                    fn proxy(channel: __courier::Arc<dyn __courier::Channel>) -> __courier::Arc<Self> {
                        __courier::Arc::new(Proxy { channel })
                    }

                    fn dispatcher(implementation: __courier::Arc<Self>) -> __courier::Arc<dyn __courier::Dispatch> {
                        __courier::Arc::new(Dispatcher { implementation })
                    }

                    fn health_checks(implementation: &__courier::Arc<Self>) -> __courier::Vec<__courier::HealthCheck> {
                        <dyn #ident as #ident>::__courier_health_checks(::core::clone::Clone::clone(implementation))
                    }
                }
            };
        });
    }
}

impl Service {
    /// The trait itself, object-safe and `Send + Sync`.
    fn service_trait(&self) -> TokenStream {
        let mut item = self.item.clone();
        item.supertraits.push(parse_quote!(::core::marker::Send));
        item.supertraits.push(parse_quote!(::core::marker::Sync));
        item.supertraits.push(parse_quote!('static));
        for trait_item in &mut item.items {
            if let TraitItem::Fn(function) = trait_item {
                function.sig = boxed::signature(&function.sig);
            }
        }
        // `#[implementation]` overrides it with the implementing type's health checks.
        item.items.push(parse_quote! {
            #[doc(hidden)]
            fn __courier_health_checks(
                self: ::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<::courier::__private::HealthCheck> {
                ::std::vec::Vec::new()
            }
        });
        item.into_token_stream()
    }

    fn descriptor(&self) -> TokenStream {
        let name = &self.name;
        let description = &self.description;
        let methods = self.methods.iter().enumerate().map(|(index, method)| {
            let name = method.sig.ident.to_string();
            let arguments = method.arguments.iter().map(|(ident, _)| ident.to_string());
            quote! {
                __courier::MethodDescriptor { name: #name, index: #index, arguments: &[#(#arguments),*] }
            }
        });
        quote! {
            &__courier::ServiceDescriptor { name: #name, description: #description, methods: &[#(#methods),*] }
        }
    }

    /// One assertion per type, spanned on the type, so a misfit is reported where it is.
    fn type_checks(&self) -> TokenStream {
        self.methods
            .iter()
            .flat_map(|method| {
                let arguments = method
                    .arguments
                    .iter()
                    .map(|(_, ty)| quote_spanned!(ty.span()=> const _: () = __courier::assert_argument::<#ty>();));
                let ok = &method.ok;
                let error = &method.error;
                arguments.chain([
                    quote_spanned!(ok.span()=> const _: () = __courier::assert_result::<#ok>();),
                    quote_spanned!(error.span()=> const _: () = __courier::assert_error::<#error>();),
                ])
            })
            .collect()
    }

    /// Per method: a struct of references the proxy encodes, and an owned twin the
    /// dispatcher decodes. Both have the same wire form.
    fn argument_structs(&self) -> TokenStream {
        self.methods
            .iter()
            .map(|method| {
                let owned = method.arguments_type();
                let borrowed = method.borrowed_arguments_type();
                let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
                let types: Vec<_> = method.arguments.iter().map(|(_, ty)| ty).collect();
                quote! {
                    #[derive(__courier::serde::Serialize)]
                    #[serde(crate = "__courier::serde")]
                    struct #borrowed<'a> {
                        #(#names: &'a #types,)*
                        #[serde(skip)]
                        _borrowed: ::core::marker::PhantomData<&'a ()>,
                    }

                    #[derive(__courier::serde::Deserialize)]
                    #[serde(crate = "__courier::serde")]
                    struct #owned {
                        #(#names: #types,)*
                    }
                }
            })
            .collect()
    }

    fn proxy(&self) -> TokenStream {
        let ident = &self.item.ident;
        let methods = self.methods.iter().enumerate().map(|(index, method)| {
            let sig = boxed::signature(&method.sig);
            let borrowed = method.borrowed_arguments_type();
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            let ok = &method.ok;
            let error = &method.error;
            quote! {
                #sig {
                    ::std::boxed::Box::pin(async move {
                        let service = <dyn #ident as __courier::Service>::DESCRIPTOR;
                        let arguments = #borrowed { #(#names: &#names,)* _borrowed: ::core::marker::PhantomData };
                        let call = __courier::Call { service, method: &service.methods[#index], arguments: &arguments };
                        __courier::invoke::<#ok, #error>(&*self.channel, call).await
                    })
                }
            }
        });
        quote! {
            #[derive(Debug)]
            struct Proxy {
                channel: __courier::Arc<dyn __courier::Channel>,
            }

            impl #ident for Proxy {
                #(#methods)*
            }
        }
    }

    fn dispatcher(&self) -> TokenStream {
        let ident = &self.item.ident;
        let arms = self.methods.iter().enumerate().map(|(index, method)| {
            let owned = method.arguments_type();
            let name = &method.sig.ident;
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            quote! {
                #index => ::std::boxed::Box::pin(async move {
                    match format.decode::<#owned>(&body) {
                        ::core::result::Result::Ok(arguments) => {
                            __courier::outcome(format, implementation.#name(#(arguments.#names),*).await)
                        }
                        ::core::result::Result::Err(error) => __courier::Dispatched::Failed(error),
                    }
                }),
            }
        });
        let service_name = &self.name;
        quote! {
            struct Dispatcher {
                implementation: __courier::Arc<dyn #ident>,
            }

            impl __courier::Dispatch for Dispatcher {
                fn dispatch(
                    &self,
                    method: usize,
                    format: __courier::Format,
                    body: __courier::Bytes,
                ) -> __courier::BoxFuture<'static, __courier::Dispatched> {
                    let implementation = <__courier::Arc<dyn #ident> as ::core::clone::Clone>::clone(&self.implementation);
                    match method {
                        #(#arms)*
                        _ => ::std::boxed::Box::pin(async move {
                            let _ = (body, implementation);
                            __courier::Dispatched::Failed(__courier::unknown_method(#service_name, method))
                        }),
                    }
                }
            }
        }
    }
}
