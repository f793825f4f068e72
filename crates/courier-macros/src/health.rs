//! `#[health_checks]` on an `impl` block: its `#[health_check]` methods become the
//! type's `HealthChecks`, with cache times and bounds parsed at compile time, so a
//! server runs them for every implementation it serves.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::{spanned::Spanned, Attribute, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut item: ItemImpl = syn::parse2(item)?;
    let mut errors = Errors::default();
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            krate = Some(crate::krate::parse(&meta)?);
            Ok(())
        } else {
            Err(meta.error(
                "`#[health_checks]` takes only `crate = \"...\"`; put a check's options on its `#[health_check(...)]`",
            ))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, attr) {
        errors.push(error);
    }
    let private = crate::krate::private(krate.as_ref());
    if let Some((_, path, _)) = &item.trait_ {
        errors.push(syn::Error::new_spanned(
            path,
            "`#[health_checks]` goes on an inherent `impl YourType { ... }` block, not on a trait impl",
        ));
    }
    let mut checks = Vec::new();
    for impl_item in &mut item.items {
        let ImplItem::Fn(function) = impl_item else { continue };
        let (marks, others): (Vec<Attribute>, Vec<Attribute>) = function
            .attrs
            .drain(..)
            .partition(|attr| attr.path().segments.last().is_some_and(|s| s.ident == "health_check"));
        function.attrs = others;
        let mut marks = marks.into_iter();
        let Some(mark) = marks.next() else { continue };
        marks.for_each(|extra| errors.push(syn::Error::new_spanned(extra, "one `#[health_check]` per method")));
        match Check::parse(&mark, function) {
            Ok(check) => checks.push(check),
            Err(error) => errors.push(error),
        }
    }
    if checks.is_empty() && errors.0.is_none() {
        errors.push(syn::Error::new(
            Span::call_site(),
            "`#[health_checks]` found no check: mark the check methods `#[health_check]`",
        ));
    }
    if let Some(error) = errors.0 {
        // Keep the methods, so code calling them reports only the real mistake.
        let error = error.into_compile_error();
        return Ok(quote!(#item #error));
    }
    let checks = checks.iter().map(Check::to_expression);
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    Ok(quote! {
        #item

        const _: () = {
            use #private as __courier;

            impl #impl_generics __courier::HealthChecks for #self_ty #where_clause {
                fn health_checks(self: &__courier::Arc<Self>) -> __courier::Vec<__courier::HealthCheck> {
                    let mut __courier_checks = __courier::Vec::new();
                    #(__courier_checks.push(#checks);)*
                    __courier_checks
                }
            }
        };
    })
}

/// `#[health_check]` alone: it only means something inside a `#[health_checks]` block,
/// which removes it before it expands.
pub(crate) fn expand_lone(item: TokenStream) -> syn::Result<TokenStream> {
    let function: ImplItemFn = syn::parse2(item)?;
    let error = syn::Error::new(
        function.sig.fn_token.span(),
        "`#[health_check]` marks a method of an `impl` block that has `#[health_checks]`: put that on the block",
    )
    .into_compile_error();
    Ok(quote!(#function #error))
}

#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }
}

struct Check {
    method: Ident,
    name: String,
    /// Nanoseconds.
    cache: Option<u64>,
    /// Nanoseconds.
    bound: Option<u64>,
    takes_result: bool,
    /// Where the return type is, for the error when it is not one a check may return.
    output: Span,
}

impl Check {
    fn parse(mark: &Attribute, function: &ImplItemFn) -> syn::Result<Self> {
        let sig = &function.sig;
        let method = sig.ident.clone();
        let output = match &sig.output {
            syn::ReturnType::Default => sig.ident.span(),
            syn::ReturnType::Type(_, ty) => ty.span(),
        };
        let mut check =
            Self { name: method.to_string(), method, cache: None, bound: None, takes_result: false, output };
        let mut errors = Errors::default();
        if !matches!(mark.meta, syn::Meta::Path(_)) {
            let parsed = mark.parse_nested_meta(|meta| {
                if meta.path.is_ident("name") {
                    check.name = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("cache") {
                    check.cache = Some(duration(&meta.value()?.parse()?)?);
                } else if meta.path.is_ident("fail_if_slower_than") {
                    let literal: LitStr = meta.value()?.parse()?;
                    match duration(&literal)? {
                        0 => {
                            return Err(syn::Error::new(literal.span(), "`fail_if_slower_than` must be more than zero"))
                        }
                        bound => check.bound = Some(bound),
                    }
                } else {
                    return Err(meta
                        .error("unknown `#[health_check]` option; expected `name`, `cache` or `fail_if_slower_than`"));
                }
                Ok(())
            });
            if let Err(error) = parsed {
                errors.push(error);
            }
        }
        let name = &sig.ident;
        if sig.asyncness.is_none() {
            errors.push(syn::Error::new(
                sig.fn_token.span(),
                format!("health checks must be async: write `async fn {name}(&self, result: &mut CheckResult)`"),
            ));
        }
        if !sig.generics.params.is_empty() {
            errors.push(syn::Error::new(sig.generics.span(), "health checks cannot be generic"));
        }
        let mut inputs = sig.inputs.iter();
        match inputs.next() {
            Some(FnArg::Receiver(receiver)) if receiver.reference.is_some() && receiver.mutability.is_none() => {}
            _ => errors.push(syn::Error::new(
                sig.paren_token.span.join(),
                format!("health checks take `&self` first: write `async fn {name}(&self, result: &mut CheckResult)`"),
            )),
        }
        check.takes_result = inputs.next().is_some();
        if let Some(extra) = inputs.next() {
            errors.push(syn::Error::new(
                extra.span(),
                "health checks take at most one argument besides `&self`: the `&mut CheckResult` to set",
            ));
        }
        match errors.0 {
            Some(error) => Err(error),
            None => Ok(check),
        }
    }

    fn to_expression(&self) -> TokenStream {
        let Self { method, name, .. } = self;
        let cache = self.cache.map(|nanos| quote!(.cache(__courier::Duration::from_nanos(#nanos))));
        let bound = self.bound.map(|nanos| quote!(.fail_if_slower_than(__courier::Duration::from_nanos(#nanos))));
        let arguments = self.takes_result.then(|| quote!(&mut __courier_result));
        let record = quote_spanned! {self.output=>
            __courier::CheckOutcome::record(__courier_outcome, &mut __courier_result);
        };
        quote! {{
            let __courier_this: __courier::Arc<Self> = ::core::clone::Clone::clone(self);
            __courier::HealthCheck::new(
                #name,
                __courier::CheckOptions::new() #cache #bound,
                move |mut __courier_result: __courier::CheckResult| {
                    let __courier_this: __courier::Arc<Self> = ::core::clone::Clone::clone(&__courier_this);
                    async move {
                        let __courier_outcome = __courier_this.#method(#arguments).await;
                        #record
                        __courier_result
                    }
                },
            )
        }}
    }
}

/// `"10s"`, `"500ms"`, `"1.5s"`, `"2m"`, `"1h"` → nanoseconds.
fn duration(literal: &LitStr) -> syn::Result<u64> {
    let text = literal.value();
    let invalid = || {
        syn::Error::new(
            literal.span(),
            format!(
                "invalid duration `{text}`: write a number and a unit (ms, s, m or h), such as \"10s\" or \"500ms\""
            ),
        )
    };
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).ok_or_else(invalid)?;
    let (number, unit) = text.split_at(split);
    let unit_nanos: u128 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(invalid()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || fraction.len() > 9 {
        return Err(invalid());
    }
    let whole: u128 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
    let fraction_nanos = match fraction {
        "" => 0,
        digits => {
            let scale = 10u128.pow(u32::try_from(digits.len()).map_err(|_| invalid())?);
            digits.parse::<u128>().map_err(|_| invalid())? * unit_nanos / scale
        }
    };
    whole
        .checked_mul(unit_nanos)
        .and_then(|nanos| nanos.checked_add(fraction_nanos))
        .and_then(|nanos| u64::try_from(nanos).ok())
        .ok_or_else(|| syn::Error::new(literal.span(), format!("duration `{text}` is too long")))
}

#[cfg(test)]
mod tests {
    use super::duration;
    use syn::LitStr;

    fn nanos(text: &str) -> Result<u64, String> {
        duration(&LitStr::new(text, proc_macro2::Span::call_site())).map_err(|error| error.to_string())
    }

    #[test]
    fn durations_parse_with_their_unit() {
        assert_eq!(nanos("10s"), Ok(10_000_000_000));
        assert_eq!(nanos("500ms"), Ok(500_000_000));
        assert_eq!(nanos("1.5s"), Ok(1_500_000_000));
        assert_eq!(nanos("2m"), Ok(120_000_000_000));
        assert_eq!(nanos("1h"), Ok(3_600_000_000_000));
        assert_eq!(nanos("0s"), Ok(0));
        for bad in ["10", "s", "10 s", "ten s", "1.2.3s", "5d", "-1s", ".s", ""] {
            assert!(nanos(bad).is_err_and(|error| error.contains("invalid duration")), "{bad}");
        }
        assert!(nanos("99999999999h").is_err_and(|error| error.contains("too long")));
    }
}
