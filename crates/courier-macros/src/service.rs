//! `#[service]`: parse the trait, validate every method, then generate the descriptor,
//! the argument structs, the proxy and the dispatcher.

use crate::{
    access, boxed,
    naming::{doc_text, pascal_case, snake_case, type_name},
    protobuf::{self, is_unit, WireField},
    rest,
};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::{
    parse_quote, spanned::Spanned, FnArg, GenericArgument, Ident, ItemTrait, LitStr, Pat, PathArguments, ReturnType,
    Signature, TraitItem, TraitItemFn, Type,
};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let options = Options::parse(attr)?;
    let mut item: ItemTrait = syn::parse2(item)?;
    match Service::parse(&item, options) {
        Ok(service) => Ok(service.into_token_stream()),
        // Keep the trait as written, so code using it reports only the real mistake.
        Err(error) => {
            let error = error.into_compile_error();
            strip_consumed(&mut item);
            Ok(quote!(#item #error))
        }
    }
}

/// Whether `#[service]` consumes an attribute of the trait, a method or an argument.
fn is_consumed(attr: &syn::Attribute) -> bool {
    rest::is_rest_attribute(attr)
        || access::is_access_attribute(attr)
        || attr.path().is_ident("idempotent")
        || attr.path().is_ident("queued")
}

/// Removes the attributes `#[service]` consumes, so the compiler does not look for
/// them as macros.
fn strip_consumed(item: &mut ItemTrait) {
    item.attrs.retain(|attr| !is_consumed(attr));
    for trait_item in &mut item.items {
        if let TraitItem::Fn(function) = trait_item {
            function.attrs.retain(|attr| !is_consumed(attr));
            for input in &mut function.sig.inputs {
                if let FnArg::Typed(typed) = input {
                    typed.attrs.retain(|attr| !is_consumed(attr));
                }
            }
        }
    }
}

#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    description: Option<LitStr>,
    protobuf: bool,
    krate: Option<syn::Path>,
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
            } else if meta.path.is_ident("protobuf") {
                options.protobuf = true;
                Ok(())
            } else if meta.path.is_ident("crate") {
                options.krate = Some(crate::krate::parse(&meta)?);
                Ok(())
            } else {
                Err(meta.error(
                    "unknown `#[service]` option; expected `name = \"...\"`, `description = \"...\"`, `protobuf` or `crate = \"...\"`",
                ))
            }
        });
        syn::parse::Parser::parse2(parser, attr)?;
        Ok(options)
    }
}

struct Service {
    item: ItemTrait,
    /// Whether any method demands a principal, so local calls must be checked too.
    guarded: bool,
    name: String,
    description: String,
    protobuf: bool,
    /// The path to courier's `__private` module, as generated code names it.
    private: TokenStream,
    methods: Vec<Method>,
}

struct Method {
    sig: Signature,
    /// The doc comment, joined.
    doc: String,
    access: TokenStream,
    idempotent: bool,
    queued: bool,
    rest: Option<rest::RestMethod>,
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
        let prefix = rest::prefix(&item.attrs).unwrap_or_else(|error| {
            push(error);
            None
        });
        let default_access = access::parse(&item.attrs)
            .unwrap_or_else(|error| {
                push(error);
                None
            })
            .unwrap_or_else(|| quote!(__courier::Access::Public));
        let mut methods = Vec::new();
        for trait_item in &item.items {
            match trait_item {
                TraitItem::Fn(function) => match Method::parse(function, prefix.as_deref(), &default_access) {
                    Ok(method) => methods.push(method),
                    Err(error) => push(error),
                },
                other => push(syn::Error::new(other.span(), "a service trait holds only `async fn` methods")),
            }
        }
        if let Some(errors) = errors {
            return Err(errors);
        }
        let guarded = item
            .attrs
            .iter()
            .chain(item.items.iter().flat_map(|trait_item| match trait_item {
                TraitItem::Fn(function) => function.attrs.iter(),
                _ => [].iter(),
            }))
            .any(|attr| attr.path().is_ident("authorize"));
        Ok(Self {
            item: item.clone(),
            guarded,
            name: options.name.map(|name| name.value()).unwrap_or_else(|| snake_case(&item.ident.to_string())),
            description: options.description.map(|text| text.value()).unwrap_or_else(|| doc_text(&item.attrs)),
            protobuf: options.protobuf,
            private: crate::krate::private(options.krate.as_ref()),
            methods,
        })
    }
}

impl Method {
    fn parse(function: &TraitItemFn, prefix: Option<&str>, default_access: &TokenStream) -> syn::Result<Self> {
        let sig = &function.sig;
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
        let rest = rest::parse(function, prefix, is_unit(&ok))?;
        let access = access::parse(&function.attrs)?.unwrap_or_else(|| default_access.clone());
        let mut sig = sig.clone();
        for input in &mut sig.inputs {
            if let FnArg::Typed(typed) = input {
                typed.attrs.retain(|attr| !is_consumed(attr));
            }
        }
        let idempotent = function.attrs.iter().any(|attr| attr.path().is_ident("idempotent"));
        let queued = function.attrs.iter().any(|attr| attr.path().is_ident("queued"));
        let doc = doc_text(&function.attrs);
        Ok(Self { sig, doc, access, idempotent, queued, rest, arguments, ok, error })
    }

    /// `submit_<method>` and `attach_<method>`, for a queued method.
    fn job_methods(&self) -> (Ident, Ident) {
        (format_ident!("submit_{}", self.sig.ident), format_ident!("attach_{}", self.sig.ident))
    }

    /// The signatures of `submit_<method>` and `attach_<method>`.
    fn job_signatures(&self, private: &TokenStream) -> (Signature, Signature) {
        let (submit, attach) = self.job_methods();
        let (ok, error) = (&self.ok, &self.error);
        let mut submit_sig = self.sig.clone();
        submit_sig.ident = submit;
        submit_sig.output = parse_quote!(-> ::core::result::Result<#private::Job<#ok, #error>, #error>);
        let attach_sig: Signature = parse_quote! {
            fn #attach(&self, token: &str) -> ::core::result::Result<#private::Job<#ok, #error>, #error>
        };
        (boxed::signature(&submit_sig), attach_sig)
    }

    fn arguments_type(&self) -> Ident {
        format_ident!("__Courier{}Arguments", pascal_case(&self.sig.ident.to_string()))
    }

    fn borrowed_arguments_type(&self) -> Ident {
        format_ident!("__Courier{}ArgumentsRef", pascal_case(&self.sig.ident.to_string()))
    }

    fn reply_type(&self) -> Ident {
        format_ident!("__Courier{}Reply", pascal_case(&self.sig.ident.to_string()))
    }

    fn rest_types(&self) -> (Ident, Ident, Ident) {
        let base = format!("__Courier{}", pascal_case(&self.sig.ident.to_string()));
        (format_ident!("{base}Path"), format_ident!("{base}Query"), format_ident!("{base}QueryRef"))
    }

    fn codec_type(&self) -> Ident {
        format_ident!("__Courier{}Codec", pascal_case(&self.sig.ident.to_string()))
    }

    fn proto_name(&self, suffix: &str) -> String {
        format!("{}{suffix}", pascal_case(&self.sig.ident.to_string()))
    }

    fn wire_arguments(&self) -> Vec<WireField<'_>> {
        self.arguments
            .iter()
            .filter(|(_, ty)| !is_unit(ty))
            .zip(1..)
            .map(|((name, ty), tag)| WireField { name, ty, tag })
            .collect()
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
        let private = &self.private;
        let descriptor = self.descriptor();
        let checks = self.type_checks();
        let arguments = self.argument_structs();
        let codecs = self.codecs();
        let proxy = self.proxy();
        let dispatcher = self.dispatcher();
        let item = self.service_trait();
        let ident = &self.item.ident;
        let (guarded, guard) = self.guarded_proxy();
        let marker = self.marker();
        let vis = &self.item.vis;
        let marker_doc = format!("Marks the implementations of [`{ident}`]: `#[implementation]` adds it.");
        tokens.extend(quote! {
            #item

            #[doc = #marker_doc]
            #[doc(hidden)]
            #vis struct #marker;

            const _: () = {
                use #private as __courier;
                #checks
                #guarded
                #arguments
                #codecs
                #proxy
                #dispatcher

                impl __courier::Service for dyn #ident {
                    const DESCRIPTOR: &'static __courier::ServiceDescriptor = #descriptor;
                    type Marker = #marker;

                    fn proxy(channel: __courier::Arc<dyn __courier::Channel>) -> __courier::Arc<Self> {
                        __courier::Arc::new(__CourierProxy { channel })
                    }

                    fn dispatcher(implementation: __courier::Arc<Self>) -> __courier::Arc<dyn __courier::Dispatch> {
                        __courier::Arc::new(__CourierDispatcher { implementation })
                    }

                    fn health_checks(implementation: &__courier::Arc<Self>) -> __courier::Vec<__courier::HealthCheck> {
                        <dyn #ident as #ident>::__courier_health_checks(::core::clone::Clone::clone(implementation))
                    }

                    #guard
                }
            };
        });
    }
}

impl Service {
    /// The type that marks the service's implementations.
    fn marker(&self) -> syn::Ident {
        quote::format_ident!("__Courier{}Marker", self.item.ident)
    }

    /// The trait itself, object-safe and `Send + Sync`.
    fn service_trait(&self) -> TokenStream {
        let private = &self.private;
        let mut item = self.item.clone();
        let marker = self.marker();
        item.supertraits.push(parse_quote!(#private::Implemented<#marker>));
        item.supertraits.push(parse_quote!(::core::marker::Send));
        item.supertraits.push(parse_quote!(::core::marker::Sync));
        item.supertraits.push(parse_quote!('static));
        strip_consumed(&mut item);
        for trait_item in &mut item.items {
            if let TraitItem::Fn(function) = trait_item {
                if let Some(method) = self.methods.iter().find(|method| method.sig.ident == function.sig.ident) {
                    function.sig = boxed::signature(&method.sig);
                }
            }
        }
        for method in self.methods.iter().filter(|method| method.queued) {
            let name = method.sig.ident.to_string();
            let error = &method.error;
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            let (submit, attach) = method.job_signatures(&self.private);
            let submit_doc = format!(
                "Submits `{name}` as a job and returns at once: the job's token, status, result and cancellation. \
                 Proxies only; an implementation answers `unavailable`."
            );
            let attach_doc = format!("The `{name}` job with this token, submitted from any process.");
            item.items.push(parse_quote! {
                #[doc = #submit_doc]
                #submit {
                    let _ = (#(#names,)*);
                    ::std::boxed::Box::pin(async {
                        ::core::result::Result::Err(<#error as ::core::convert::From<#private::ServiceError>>::from(
                            #private::ServiceError::unavailable("jobs are submitted through a proxy from a ServiceManager, not on an implementation"),
                        ))
                    })
                }
            });
            item.items.push(parse_quote! {
                #[doc = #attach_doc]
                #attach {
                    let _ = token;
                    ::core::result::Result::Err(<#error as ::core::convert::From<#private::ServiceError>>::from(
                        #private::ServiceError::unavailable("jobs are found through a proxy from a ServiceManager, not on an implementation"),
                    ))
                }
            });
        }
        // `#[implementation]` overrides it with the implementing type's health checks.
        item.items.push(parse_quote! {
            #[doc(hidden)]
            fn __courier_health_checks(
                self: ::std::sync::Arc<Self>,
            ) -> ::std::vec::Vec<#private::HealthCheck> {
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
            let rpc = pascal_case(&name);
            let arguments = method.arguments.iter().map(|(ident, _)| ident.to_string());
            let rest = match &method.rest {
                Some(route) => route.descriptor(&method.ok, &method.error),
                None => quote!(::core::option::Option::None),
            };
            let access = &method.access;
            let idempotent = method.idempotent;
            let queued = method.queued;
            let doc = &method.doc;
            let argument_types = method.arguments.iter().map(|(_, ty)| type_name(ty));
            let (returns, error) = (type_name(&method.ok), type_name(&method.error));
            quote! {
                __courier::MethodDescriptor {
                    name: #name,
                    index: #index,
                    rpc: #rpc,
                    description: #doc,
                    arguments: &[#(#arguments),*],
                    argument_types: &[#(#argument_types),*],
                    returns: #returns,
                    error: #error,
                    rest: #rest,
                    access: #access,
                    idempotent: #idempotent,
                    queued: #queued,
                }
            }
        });
        let (protobuf, grpc) = match self.protobuf {
            true => {
                let schema = self.proto_schema();
                let grpc = format!("{}.{}", self.proto_package(), pascal_case(&self.name));
                (quote!(::core::option::Option::Some(#schema)), quote!(::core::option::Option::Some(#grpc)))
            }
            false => (quote!(::core::option::Option::None), quote!(::core::option::Option::None)),
        };
        quote! {
            &__courier::ServiceDescriptor {
                name: #name,
                description: #description,
                methods: &[#(#methods),*],
                protobuf: #protobuf,
                grpc: #grpc,
            }
        }
    }

    /// The `.proto` package of the service: `courier.` and its name.
    fn proto_package(&self) -> String {
        format!("courier.{}", self.name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
    }

    /// The `.proto` file of the service: a request and a reply message per method, the
    /// messages they hold, and the gRPC service with an rpc per method that is not queued.
    fn proto_schema(&self) -> TokenStream {
        let package = self.proto_package();
        let service = pascal_case(&self.name);
        let header = format!(
            "// The `{name}` service. Generated by courier: do not edit.\n\
             //\n\
             // gRPC: the `{service}` service below, at `/{package}.{service}/<Rpc>`. A fault ends the call with\n\
             // its gRPC status, and `grpc-status-details-bin` holds a google.rpc.Status whose detail is a\n\
             // courier.Error (see courier.proto); a method's own error is one with code `method_error`.\n\
             //\n\
             // dispatch-protobuf: each method is `POST /invoke/<component>/{name}/<method>` with the method's\n\
             // Request message as the body (Content-Type: application/x-protobuf). 200 answers its Reply\n\
             // message; any other status answers courier.Error, whose message is the method's own error as\n\
             // JSON when code is `method_error`.\nsyntax = \"proto3\";\n\npackage {package};\n\n",
            name = self.name,
        );
        let mut rpcs = String::new();
        if !self.description.trim().is_empty() {
            rpcs.push_str(&format!("// {}\n", self.description.trim()));
        }
        rpcs.push_str(&format!("service {service} {{\n"));
        for method in self.methods.iter().filter(|method| !method.queued) {
            if !method.doc.is_empty() {
                rpcs.push_str(&format!("  // {}\n", method.doc));
            }
            rpcs.push_str(&format!(
                "  rpc {} ({}) returns ({});\n",
                pascal_case(&method.sig.ident.to_string()),
                method.proto_name("Request"),
                method.proto_name("Reply")
            ));
        }
        for method in self.methods.iter().filter(|method| method.queued) {
            rpcs.push_str(&format!(
                "  // `{}` is queued, so it has no rpc: submit it on dispatch-protobuf, and follow the job at /jobs/<id>.\n",
                method.sig.ident
            ));
        }
        rpcs.push('}');
        let messages = self.methods.iter().map(|method| {
            let arguments = method.arguments_type();
            let reply = method.reply_type();
            quote! {
                <#arguments as __courier::ProtoElement>::type_name(&mut schema);
                <#reply as __courier::ProtoElement>::type_name(&mut schema);
            }
        });
        quote! {
            || {
                let mut schema = __courier::Schema::new();
                #(#messages)*
                ::std::format!("{}{}\n\n{}\n", #header, schema.definitions(), #rpcs)
            }
        }
    }

    /// One assertion per type, spanned on the type, so a misfit is reported where it is.
    fn type_checks(&self) -> TokenStream {
        self.methods
            .iter()
            .flat_map(|method| {
                let arguments = method.arguments.iter().map(|(_, ty)| {
                    quote_spanned! {ty.span()=>
                        const _: () = __courier::assert_argument::<#ty>();
                        const _: fn() = || {
                            #[allow(unused_imports)]
                            use __courier::{EncodeArgument as _, UnfitArgument as _};
                            (&__courier::ArgumentProbe::<#ty>::NEW).check_decodable();
                        };
                    }
                });
                let ok = &method.ok;
                let error = &method.error;
                // A REST route's types are described in the OpenAPI document.
                let documented = method.rest.is_some().then(|| {
                    let types = method.arguments.iter().map(|(_, ty)| ty).chain([ok, error]);
                    types
                        .map(|ty| quote_spanned!(ty.span()=> const _: () = __courier::assert_documented::<#ty>();))
                        .collect::<TokenStream>()
                });
                arguments
                    .chain([
                        quote_spanned!(ok.span()=> const _: () = __courier::assert_result::<#ok>();),
                        quote_spanned!(error.span()=> const _: () = __courier::assert_error::<#error>();),
                    ])
                    .chain(documented)
            })
            .collect()
    }

    /// Per method: a struct of references the proxy encodes, and an owned twin the
    /// dispatcher decodes. Both have the same wire form. With protobuf, the owned one is a
    /// message, and so is a reply wrapping the result.
    fn argument_structs(&self) -> TokenStream {
        self.methods
            .iter()
            .map(|method| {
                let owned = method.arguments_type();
                let borrowed = method.borrowed_arguments_type();
                let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
                let types: Vec<_> = method.arguments.iter().map(|(_, ty)| ty).collect();
                let (derive_default, messages, encode_protobuf) = match self.protobuf {
                    true => {
                        let reply = method.reply_type();
                        let ok = &method.ok;
                        let value = format_ident!("value");
                        let reply_fields: Vec<_> =
                            (!is_unit(ok)).then_some(WireField { name: &value, ty: ok, tag: 1 }).into_iter().collect();
                        let wire = method.wire_arguments();
                        let wire_names: Vec<_> = wire.iter().map(|field| field.name).collect();
                        let tags: Vec<u32> = wire.iter().map(|field| field.tag).collect();
                        let request_message =
                            protobuf::message(&self.private, &owned, &method.proto_name("Request"), "", &wire, &[]);
                        let reply_message = protobuf::message(
                            &self.private,
                            &reply,
                            &method.proto_name("Reply"),
                            "",
                            &reply_fields,
                            &[],
                        );
                        (
                            quote!(#[derive(::core::default::Default)]),
                            quote! {
                                #request_message
                                #[derive(::core::default::Default)]
                                struct #reply {
                                    value: #ok,
                                }
                                #reply_message
                            },
                            quote! {
                                __courier::Format::Protobuf => {
                                    let mut buf = ::std::vec::Vec::with_capacity(
                                        0 #( + __courier::ProtoField::encoded_field_len(self.#wire_names, #tags) )*
                                    );
                                    #( __courier::ProtoField::encode_field(self.#wire_names, #tags, &mut buf); )*
                                    ::core::result::Result::Ok(buf)
                                }
                            },
                        )
                    }
                    false => (TokenStream::new(), TokenStream::new(), TokenStream::new()),
                };
                let (rest_request, rest_structs) = match &method.rest {
                    Some(route) => {
                        let (path, query, borrowed_query) = method.rest_types();
                        (route.request(&borrowed_query), route.parameter_structs(&path, &query, &borrowed_query))
                    }
                    None => (TokenStream::new(), TokenStream::new()),
                };
                // Each argument goes through a probe, so a type that is not serializable
                // gets the one error its assertion gives, and none from serde's derives.
                let method_name = &method.sig.ident;
                let encoders: Vec<_> =
                    names.iter().map(|name| format_ident!("__courier_encode_{method_name}_{name}")).collect();
                let encoder_paths = encoders.iter().map(ToString::to_string);
                // Without protobuf, the owned twin is generic over its argument types, so
                // serde's derive asks for their traits only where it is used, through a probe.
                let owned_struct = match self.protobuf {
                    true => quote! {
                        #[derive(__courier::serde::Deserialize)]
                        #[serde(crate = "__courier::serde")]
                        #derive_default
                        struct #owned {
                            #(#names: #types,)*
                        }
                    },
                    false => {
                        let generic = format_ident!("{owned}Of");
                        let parameters: Vec<_> = (0..names.len()).map(|n| format_ident!("__T{n}")).collect();
                        quote! {
                            #[derive(__courier::serde::Deserialize)]
                            #[serde(crate = "__courier::serde")]
                            struct #generic<#(#parameters),*> {
                                #(#names: #parameters,)*
                            }

                            type #owned = #generic<#(#types),*>;
                        }
                    }
                };
                quote! {
                    #rest_structs

                    #(
                        fn #encoders<S: __courier::serde::Serializer>(
                            value: &&#types,
                            serializer: S,
                        ) -> ::core::result::Result<S::Ok, S::Error> {
                            #[allow(unused_imports)]
                            use __courier::{EncodeArgument as _, UnfitArgument as _};
                            (&__courier::ArgumentProbe::<#types>::NEW).encode_argument(*value, serializer)
                        }

                    )*

                    #[derive(__courier::serde::Serialize)]
                    #[serde(crate = "__courier::serde")]
                    struct #borrowed<'a> {
                        #(#[serde(serialize_with = #encoder_paths)] #names: &'a #types,)*
                        #[serde(skip)]
                        _borrowed: ::core::marker::PhantomData<&'a ()>,
                    }

                    impl __courier::Arguments for #borrowed<'_> {
                        fn encode(
                            &self,
                            format: __courier::Format,
                        ) -> ::core::result::Result<::std::vec::Vec<u8>, __courier::ServiceError> {
                            #[allow(unreachable_patterns)]
                            match format {
                                #encode_protobuf
                                serde => serde.encode(self),
                            }
                        }

                        #rest_request
                    }

                    #owned_struct

                    #messages
                }
            })
            .collect()
    }

    /// Per method, how its results travel in each format.
    fn codecs(&self) -> TokenStream {
        self.methods
            .iter()
            .map(|method| {
                let codec = method.codec_type();
                let reply = method.reply_type();
                let ok = &method.ok;
                let error = &method.error;
                let (value, method_error, outcome) = match self.protobuf {
                    true => (
                        quote! {
                            __courier::Format::Protobuf => {
                                __courier::decode_message::<#reply>(body).map(|reply| reply.value)
                            }
                        },
                        quote!(__courier::Format::Protobuf => __courier::proto_method_error(body),),
                        quote! {
                            __courier::Format::Protobuf => {
                                __courier::proto_outcome(outcome.map(|value| #reply { value }))
                            }
                        },
                    ),
                    false => (TokenStream::new(), TokenStream::new(), TokenStream::new()),
                };
                quote! {
                    struct #codec;

                    impl __courier::MethodCodec for #codec {
                        type Value = #ok;
                        type Error = #error;

                        fn decode_value(
                            format: __courier::Format,
                            body: &[u8],
                        ) -> ::core::result::Result<#ok, __courier::ServiceError> {
                            #[allow(unreachable_patterns)]
                            match format {
                                #value
                                serde => serde.decode(body),
                            }
                        }

                        fn decode_error(
                            format: __courier::Format,
                            body: &[u8],
                        ) -> ::core::result::Result<#error, __courier::ServiceError> {
                            #[allow(unreachable_patterns)]
                            match format {
                                #method_error
                                serde => serde.decode(body),
                            }
                        }

                        fn encode_outcome(
                            format: __courier::Format,
                            outcome: ::core::result::Result<#ok, #error>,
                        ) -> __courier::Dispatched {
                            #[allow(unreachable_patterns)]
                            match format {
                                #outcome
                                serde => __courier::serde_outcome(serde, outcome),
                            }
                        }
                    }
                }
            })
            .collect()
    }

    fn proxy(&self) -> TokenStream {
        let ident = &self.item.ident;
        let marker = self.marker();
        let methods = self.methods.iter().enumerate().map(|(index, method)| {
            let sig = boxed::signature(&method.sig);
            let borrowed = method.borrowed_arguments_type();
            let codec = method.codec_type();
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            let jobs = method.queued.then(|| {
                let (submit, attach) = method.job_signatures(&self.private);
                quote! {
                    #submit {
                        ::std::boxed::Box::pin(async move {
                            let service = <dyn #ident as __courier::Service>::DESCRIPTOR;
                            let arguments = #borrowed { #(#names: &#names,)* _borrowed: ::core::marker::PhantomData };
                            let call = __courier::Call { service, method: &service.methods[#index], arguments: &arguments };
                            __courier::submit::<#codec>(&*self.channel, call).await
                        })
                    }

                    #attach {
                        let service = <dyn #ident as __courier::Service>::DESCRIPTOR;
                        __courier::attach::<#codec>(&*self.channel, service, &service.methods[#index], token)
                    }
                }
            });
            quote! {
                #sig {
                    ::std::boxed::Box::pin(async move {
                        let service = <dyn #ident as __courier::Service>::DESCRIPTOR;
                        let arguments = #borrowed { #(#names: &#names,)* _borrowed: ::core::marker::PhantomData };
                        let call = __courier::Call { service, method: &service.methods[#index], arguments: &arguments };
                        __courier::invoke::<#codec>(&*self.channel, call).await
                    })
                }

                #jobs
            }
        });
        quote! {
            #[derive(Debug)]
            struct __CourierProxy {
                channel: __courier::Arc<dyn __courier::Channel>,
            }

            impl #ident for __CourierProxy {
                #(#methods)*
            }

            impl __courier::Implemented<#marker> for __CourierProxy {}
        }
    }

    /// For services that demand a principal: a wrapper that checks each in-process call
    /// against the caller's principal before the method runs.
    fn guarded_proxy(&self) -> (TokenStream, TokenStream) {
        if !self.guarded {
            return (TokenStream::new(), TokenStream::new());
        }
        let ident = &self.item.ident;
        let marker = self.marker();
        let methods = self.methods.iter().enumerate().map(|(index, method)| {
            let sig = boxed::signature(&method.sig);
            let name = &method.sig.ident;
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            let error = &method.error;
            quote! {
                #sig {
                    ::std::boxed::Box::pin(async move {
                        let service = <dyn #ident as __courier::Service>::DESCRIPTOR;
                        if let ::core::result::Result::Err(error) = __courier::authorize(&service.methods[#index]) {
                            return ::core::result::Result::Err(<#error as ::core::convert::From<__courier::ServiceError>>::from(error));
                        }
                        self.implementation.#name(#(#names),*).await
                    })
                }
            }
        });
        let guarded = quote! {
            struct __CourierGuarded {
                implementation: __courier::Arc<dyn #ident>,
            }

            impl #ident for __CourierGuarded {
                #(#methods)*
            }

            impl __courier::Implemented<#marker> for __CourierGuarded {}
        };
        let guard = quote! {
            fn guarded(implementation: __courier::Arc<Self>) -> __courier::Arc<Self> {
                __courier::Arc::new(__CourierGuarded { implementation })
            }
        };
        (guarded, guard)
    }

    fn dispatcher(&self) -> TokenStream {
        let ident = &self.item.ident;
        let arms = self.methods.iter().enumerate().map(|(index, method)| {
            let owned = method.arguments_type();
            let codec = method.codec_type();
            let name = &method.sig.ident;
            let names: Vec<_> = method.arguments.iter().map(|(ident, _)| ident).collect();
            let decode_protobuf = self
                .protobuf
                .then(|| quote!(__courier::Format::Protobuf => __courier::decode_message::<#owned>(&body),));
            quote! {
                #index => ::std::boxed::Box::pin(async move {
                    #[allow(unreachable_patterns)]
                    let arguments = match format {
                        #decode_protobuf
                        serde => {
                            #[allow(unused_imports)]
                            use __courier::{DecodeArgument as _, UnfitArgument as _};
                            (&__courier::ArgumentProbe::<#owned>::NEW).decode_arguments(serde, &body)
                        }
                    };
                    match arguments {
                        ::core::result::Result::Ok(arguments) => {
                            let outcome = implementation.#name(#(arguments.#names),*).await;
                            <#codec as __courier::MethodCodec>::encode_outcome(format, outcome)
                        }
                        ::core::result::Result::Err(error) => __courier::Dispatched::Failed(error),
                    }
                }),
            }
        });
        let service_name = &self.name;
        let rest_arms = self.methods.iter().enumerate().filter_map(|(index, method)| {
            let route = method.rest.as_ref()?;
            let (path, query, _) = method.rest_types();
            let handler = route.handler(&method.sig.ident, &path, &query);
            Some(quote!(#index => #handler,))
        });
        let argument_arms = self.methods.iter().enumerate().filter_map(|(index, method)| {
            let route = method.rest.as_ref().filter(|_| method.queued)?;
            let (path, query, _) = method.rest_types();
            let encode = route.arguments_json(&path, &query, &method.borrowed_arguments_type());
            Some(quote!(#index => #encode,))
        });
        quote! {
            struct __CourierDispatcher {
                implementation: __courier::Arc<dyn #ident>,
            }

            impl __courier::Dispatch for __CourierDispatcher {
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

                fn rest_arguments(
                    &self,
                    method: usize,
                    request: __courier::RestRequest,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, __courier::ServiceError> {
                    let _ = &request;
                    match method {
                        #(#argument_arms)*
                        _ => ::core::result::Result::Err(__courier::unknown_method(#service_name, method)),
                    }
                }

                fn rest(
                    &self,
                    method: usize,
                    request: __courier::RestRequest,
                ) -> __courier::BoxFuture<'static, __courier::RestResponse> {
                    let implementation = <__courier::Arc<dyn #ident> as ::core::clone::Clone>::clone(&self.implementation);
                    match method {
                        #(#rest_arms)*
                        _ => ::std::boxed::Box::pin(async move {
                            let _ = (request, implementation);
                            __courier::RestResponse::fault(&__courier::unknown_method(#service_name, method))
                        }),
                    }
                }
            }
        }
    }
}
