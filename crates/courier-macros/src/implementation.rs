//! `#[implementation]`: the object-safe rewrite of the impl, and (unless `manual`) a
//! link-time entry so servers can discover and build it.

use crate::boxed;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, ImplItem, ItemImpl};

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut manual = false;
    let mut krate = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("manual") {
            manual = true;
            Ok(())
        } else if meta.path.is_ident("crate") {
            krate = Some(crate::krate::parse(&meta)?);
            Ok(())
        } else {
            Err(meta.error("unknown `#[implementation]` option; expected `manual` or `crate = \"...\"`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    let mut item: ItemImpl = syn::parse2(item)?;
    let Some(service) = item.trait_.as_ref().map(|(_, service, _)| service.clone()) else {
        return Err(syn::Error::new_spanned(
            &item.self_ty,
            "`#[implementation]` goes on `impl YourService for YourType`",
        ));
    };
    let self_ty = item.self_ty.clone();
    let private = crate::krate::private(krate.as_ref());
    let registration = (!manual).then(|| {
        quote! {
            const _: () = {
                use #private as __courier;
                const _: () = __courier::assert_discoverable::<#self_ty>();
                __courier::inventory::submit! {
                    __courier::Implementation {
                        service: <dyn #service as __courier::Service>::DESCRIPTOR,
                        create: || __courier::bind::<dyn #service>(__courier::Arc::new(<#self_ty as ::core::default::Default>::default())),
                    }
                }
            };
        }
    });
    for impl_item in &mut item.items {
        if let ImplItem::Fn(function) = impl_item {
            boxed::method(function);
        }
    }
    // Hands the server the checks of `#[health_checks]` on the implementing type, if it
    // has any: the trait bound picks the first method when it holds, the second when not.
    item.items.push(parse_quote! {
        fn __courier_health_checks(
            self: ::std::sync::Arc<Self>,
        ) -> ::std::vec::Vec<#private::HealthCheck> {
            #[allow(unused_imports)]
            use #private::{DeclaresChecks as _, DeclaresNoChecks as _};
            (&#private::ChecksOf(self)).declared_checks()
        }
    });
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    Ok(quote! {
        #item
        impl #impl_generics #private::Implemented<<dyn #service as #private::Service>::Marker>
            for #self_ty #where_clause {}
        #registration
    })
}
