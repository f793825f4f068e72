//! `#[implementation]`: the object-safe rewrite of the impl, and (unless `manual`) a
//! link-time entry so servers can discover and build it.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemImpl;

pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut manual = false;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("manual") {
            manual = true;
            Ok(())
        } else {
            Err(meta.error("unknown `#[implementation]` option; expected `manual`"))
        }
    });
    syn::parse::Parser::parse2(parser, attr)?;
    let item: ItemImpl = syn::parse2(item)?;
    let Some((_, service, _)) = &item.trait_ else {
        return Err(syn::Error::new_spanned(
            &item.self_ty,
            "`#[implementation]` goes on `impl YourService for YourType`",
        ));
    };
    let self_ty = &item.self_ty;
    let registration = (!manual).then(|| {
        quote! {
            const _: () = {
                use ::courier::__private as __courier;
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
    Ok(quote! {
        #[::courier::__private::async_trait]
        #item
        #registration
    })
}
