//! `#[rest("/prefix")]` under `#[service]`, with `#[get]`, `#[post]`, `#[put]`,
//! `#[patch]`, `#[delete]` on methods and `#[body]`, `#[query]`, `#[path]` on arguments:
//! parsed and validated here, turned into the route's descriptor, the proxy's request
//! builder and the server's handler.

use crate::naming::doc_text;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{Attribute, FnArg, Ident, LitStr, Signature, TraitItemFn, Type};

const VERBS: [(&str, &str); 5] =
    [("get", "Get"), ("post", "Post"), ("put", "Put"), ("patch", "Patch"), ("delete", "Delete")];
const MARKERS: [&str; 3] = ["body", "query", "path"];
const SCALARS: [&str; 17] = [
    "String", "str", "bool", "char", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128",
    "usize", "f64",
];

#[derive(Clone, Copy, PartialEq)]
enum Location {
    Path,
    Query,
    Body,
}

/// One method's route.
pub(crate) struct RestMethod {
    verb: &'static str,
    path: String,
    parameters: Vec<(Ident, Type, Location)>,
    no_content: bool,
    summary: String,
}

/// Whether an attribute is one `#[service]` consumes for REST, on a trait, method or argument.
pub(crate) fn is_rest_attribute(attr: &Attribute) -> bool {
    let path = attr.path();
    path.is_ident("rest")
        || VERBS.iter().any(|(verb, _)| path.is_ident(verb))
        || MARKERS.iter().any(|m| path.is_ident(m))
}

/// The prefix of `#[rest("/prefix")]` (or `#[rest]`), if the trait has it.
pub(crate) fn prefix(attrs: &[Attribute]) -> syn::Result<Option<String>> {
    let Some(attr) = attrs.iter().find(|attr| attr.path().is_ident("rest")) else { return Ok(None) };
    if matches!(attr.meta, syn::Meta::Path(_)) {
        return Ok(Some(String::new()));
    }
    let prefix: LitStr = attr.parse_args()?;
    let value = prefix.value();
    if !value.is_empty() && (!value.starts_with('/') || value.ends_with('/')) {
        return Err(syn::Error::new(prefix.span(), "a REST prefix starts with `/` and does not end with one: `/api`"));
    }
    Ok(Some(value))
}

/// Parses a method's route, when it has one. `prefix` is `None` when the trait has no `#[rest]`.
pub(crate) fn parse(function: &TraitItemFn, prefix: Option<&str>, no_content: bool) -> syn::Result<Option<RestMethod>> {
    let mut routes = function.attrs.iter().filter_map(|attr| {
        VERBS.iter().find(|(verb, _)| attr.path().is_ident(verb)).map(|(_, variant)| (attr, *variant))
    });
    let Some((attr, verb)) = routes.next() else { return Ok(None) };
    if let Some((extra, _)) = routes.next() {
        return Err(syn::Error::new_spanned(extra, "a method has one REST route"));
    }
    let Some(prefix) = prefix else {
        return Err(syn::Error::new_spanned(
            attr,
            "REST routes need `#[rest(\"/prefix\")]` on the trait, below `#[service]`",
        ));
    };
    let template: LitStr = attr.parse_args()?;
    let route = template.value();
    if !route.starts_with('/') {
        return Err(syn::Error::new(template.span(), "a route starts with `/`"));
    }
    let placeholders = placeholders(&route).map_err(|message| syn::Error::new(template.span(), message))?;
    let takes_body = !matches!(verb, "Get" | "Delete");
    let parameters = locate(&function.sig, &placeholders, takes_body, verb, template.span())?;
    Ok(Some(RestMethod {
        verb,
        path: format!("{prefix}{route}"),
        parameters,
        no_content,
        summary: doc_text(&function.attrs),
    }))
}

/// The `{name}`s of a path template, in order.
fn placeholders(route: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = route;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or("unclosed `{` in the route")? + open;
        let name = &rest[open + 1..close];
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("`{{{name}}}` is not a parameter name"));
        }
        names.push(name.to_owned());
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("unopened `}` in the route".into());
    }
    Ok(names)
}

/// Where each argument travels: marked, in the template, the first structured one as the
/// body (on routes that take one), the rest in the query.
fn locate(
    sig: &Signature,
    placeholders: &[String],
    takes_body: bool,
    verb: &str,
    route_span: Span,
) -> syn::Result<Vec<(Ident, Type, Location)>> {
    let mut parameters: Vec<(Ident, Type, Location)> = Vec::new();
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(typed) = input else { continue };
        let syn::Pat::Ident(pat) = &*typed.pat else { continue };
        let name = pat.ident.clone();
        let marked = typed.attrs.iter().find_map(|attr| match () {
            () if attr.path().is_ident("body") => Some(Location::Body),
            () if attr.path().is_ident("query") => Some(Location::Query),
            () if attr.path().is_ident("path") => Some(Location::Path),
            () => None,
        });
        let in_template = placeholders.iter().any(|placeholder| name == placeholder);
        let has_body = parameters.iter().any(|(_, _, location)| *location == Location::Body);
        let location = match marked {
            Some(Location::Path) if !in_template => {
                return Err(syn::Error::new_spanned(&name, format!("`{name}` is marked #[path] but the route has no `{{{name}}}`")))
            }
            Some(Location::Body) if has_body => {
                return Err(syn::Error::new_spanned(&name, "a route has one body: mark the others #[query]"))
            }
            Some(Location::Body) if !takes_body => {
                return Err(syn::Error::new_spanned(&name, format!("a {} route has no body: use #[post], #[put] or #[patch]", verb.to_uppercase())))
            }
            Some(location) => location,
            None if in_template => Location::Path,
            None if !is_scalar(&typed.ty) && takes_body && !has_body => Location::Body,
            None if !is_scalar(&typed.ty) && !takes_body => {
                return Err(syn::Error::new_spanned(
                    &typed.ty,
                    format!(
                        "`{name}` is structured and a {} route has no body: use #[post], #[put] or #[patch], or scalar arguments",
                        verb.to_uppercase()
                    ),
                ))
            }
            None => Location::Query,
        };
        if location != Location::Path && in_template {
            return Err(syn::Error::new_spanned(
                &name,
                format!("`{{{name}}}` is in the route, so `{name}` is a path parameter"),
            ));
        }
        parameters.push((name, (*typed.ty).clone(), location));
    }
    for placeholder in placeholders {
        if !parameters.iter().any(|(name, _, _)| name == placeholder) {
            return Err(syn::Error::new(route_span, format!("the route's `{{{placeholder}}}` names no argument")));
        }
    }
    Ok(parameters)
}

/// Strings, bools, chars, numbers and options of them: what fits in a path or a query.
fn is_scalar(ty: &Type) -> bool {
    match ty {
        Type::Reference(reference) => is_scalar(&reference.elem),
        Type::Path(path) => path.path.segments.last().is_some_and(|last| {
            let name = last.ident.to_string();
            if name == "Option" {
                if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
                    return args
                        .args
                        .iter()
                        .all(|arg| matches!(arg, syn::GenericArgument::Type(inner) if is_scalar(inner)));
                }
            }
            SCALARS.contains(&name.as_str()) || name == "f32"
        }),
        _ => false,
    }
}

impl RestMethod {
    fn in_location(&self, location: Location) -> impl Iterator<Item = &(Ident, Type, Location)> {
        self.parameters.iter().filter(move |(_, _, at)| *at == location)
    }

    /// The `RestRoute` descriptor of a method that returns `Result<ok, error>`.
    pub(crate) fn descriptor(&self, ok: &Type, error: &Type) -> TokenStream {
        let verb = format_ident!("{}", self.verb);
        let path = &self.path;
        let no_content = self.no_content;
        let summary = &self.summary;
        let parameters = self.parameters.iter().map(|(name, ty, location)| {
            let name = name.to_string();
            let location = format_ident!(
                "{}",
                match location {
                    Location::Path => "Path",
                    Location::Query => "Query",
                    Location::Body => "Body",
                }
            );
            let rust_type = quote!(#ty).to_string().replace(' ', "");
            quote!(__courier::RestParameter { name: #name, location: __courier::ParameterLocation::#location, rust_type: #rust_type })
        });
        let types = self.parameters.iter().map(|(_, ty, _)| ty);
        quote! {
            ::core::option::Option::Some(&__courier::RestRoute {
                method: __courier::HttpMethod::#verb,
                path: #path,
                parameters: &[#(#parameters),*],
                no_content: #no_content,
                summary: #summary,
                schemas: |generator| __courier::RouteSchemas {
                    parameters: ::std::vec![#(generator.subschema_for::<#types>()),*],
                    result: generator.subschema_for::<#ok>(),
                    error: generator.subschema_for::<#error>(),
                },
            })
        }
    }

    /// The body of `Arguments::rest` for the method's borrowed arguments.
    pub(crate) fn request(&self, query_type: &Ident) -> TokenStream {
        let verb = format_ident!("{}", self.verb);
        let mut format = String::new();
        let mut segments = Vec::new();
        let mut rest = self.path.as_str();
        while let Some(open) = rest.find('{') {
            let close = rest[open..].find('}').map_or(rest.len(), |close| close + open);
            format.push_str(&rest[..open]);
            format.push_str("{}");
            let name = &rest[open + 1..close];
            let ident = format_ident!("{}", name);
            segments.push(quote!(__courier::path_segment(#name, self.#ident)?));
            rest = rest.get(close + 1..).unwrap_or_default();
        }
        format.push_str(rest);
        let query: Vec<_> = self.in_location(Location::Query).map(|(name, _, _)| name).collect();
        let body = match self.in_location(Location::Body).next() {
            Some((name, _, _)) => quote!(::core::option::Option::Some(__courier::Format::Json.encode(self.#name)?)),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            fn rest(&self) -> ::core::result::Result<__courier::RestCall, __courier::ServiceError> {
                ::core::result::Result::Ok(__courier::RestCall {
                    method: __courier::HttpMethod::#verb,
                    path: ::std::format!(#format, #(#segments),*),
                    query: __courier::query_string(&#query_type { #(#query: self.#query,)* _borrowed: ::core::marker::PhantomData })?,
                    body: #body,
                })
            }
        }
    }

    /// The structs that carry path and query parameters.
    pub(crate) fn parameter_structs(
        &self,
        path_type: &Ident,
        query_type: &Ident,
        borrowed_query: &Ident,
    ) -> TokenStream {
        let (path_names, path_types): (Vec<_>, Vec<_>) =
            self.in_location(Location::Path).map(|(n, t, _)| (n, t)).unzip();
        let (query_names, query_types): (Vec<_>, Vec<_>) =
            self.in_location(Location::Query).map(|(n, t, _)| (n, t)).unzip();
        quote! {
            #[derive(__courier::serde::Deserialize)]
            #[serde(crate = "__courier::serde")]
            struct #path_type { #(#path_names: #path_types,)* }

            #[derive(__courier::serde::Deserialize)]
            #[serde(crate = "__courier::serde")]
            struct #query_type { #(#query_names: #query_types,)* }

            #[derive(__courier::serde::Serialize)]
            #[serde(crate = "__courier::serde")]
            struct #borrowed_query<'a> {
                #(#query_names: &'a #query_types,)*
                #[serde(skip)]
                _borrowed: ::core::marker::PhantomData<&'a ()>,
            }
        }
    }

    /// The server's handler: reads the arguments from where they travel and calls the method.
    pub(crate) fn handler(&self, method: &Ident, path_type: &Ident, query_type: &Ident) -> TokenStream {
        let decode = self.decode(path_type, query_type, &quote!(__courier::RestResponse::fault(&error)));
        let arguments = self.arguments();
        let no_content = self.no_content;
        quote! {
            ::std::boxed::Box::pin(async move {
                #decode
                __courier::respond(implementation.#method(#(#arguments),*).await, #no_content)
            })
        }
    }

    /// For a queued method: reads the arguments from where they travel, and encodes them
    /// as the JSON body of the dispatch endpoint, which the job runs with.
    pub(crate) fn arguments_json(&self, path_type: &Ident, query_type: &Ident, borrowed: &Ident) -> TokenStream {
        let decode = self.decode(path_type, query_type, &quote!(::core::result::Result::Err(error)));
        let names = self.parameters.iter().map(|(name, _, _)| name);
        let arguments = self.arguments();
        quote! {{
            #decode
            __courier::Format::Json.encode(&#borrowed { #(#names: &#arguments,)* _borrowed: ::core::marker::PhantomData })
        }}
    }

    /// Each argument, by where it was decoded.
    fn arguments(&self) -> Vec<TokenStream> {
        self.parameters
            .iter()
            .map(|(name, _, location)| match location {
                Location::Path => quote!(path.#name),
                Location::Query => quote!(query.#name),
                Location::Body => quote!(body),
            })
            .collect()
    }

    /// Decodes `path`, `query` and `body` from `request`; `fail` answers an `error`.
    fn decode(&self, path_type: &Ident, query_type: &Ident, fail: &TokenStream) -> TokenStream {
        let body = match self.in_location(Location::Body).next() {
            Some((_, ty, _)) => quote! {
                let body: #ty = match __courier::decode_body(&request) {
                    ::core::result::Result::Ok(body) => body,
                    ::core::result::Result::Err(error) => return #fail,
                };
            },
            None => TokenStream::new(),
        };
        quote! {
            let path: #path_type = match __courier::decode_path(&request.path) {
                ::core::result::Result::Ok(path) => path,
                ::core::result::Result::Err(error) => return #fail,
            };
            let query: #query_type = match __courier::decode_query(&request.query) {
                ::core::result::Result::Ok(query) => query,
                ::core::result::Result::Err(error) => return #fail,
            };
            #body
        }
    }
}
