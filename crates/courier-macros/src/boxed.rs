//! The object-safe form of `async fn`: a method returning a boxed `Send` future that
//! borrows `self`. Service traits, proxies and implementations all get it, so local and
//! remote instances are interchangeable behind `Arc<dyn Service>`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{parse_quote, ImplItemFn, ReturnType, Signature};

/// `async fn m(&self, a: A) -> R` → `fn m<'courier>(&'courier self, a: A) -> BoxFuture<'courier, R>`.
pub(crate) fn signature(sig: &Signature) -> Signature {
    let mut sig = sig.clone();
    sig.asyncness = None;
    sig.generics.params.insert(0, parse_quote!('courier));
    if let Some(syn::FnArg::Receiver(receiver)) = sig.inputs.first_mut() {
        if let Some((_, lifetime)) = &mut receiver.reference {
            *lifetime = Some(parse_quote!('courier));
        }
        receiver.ty = parse_quote!(&'courier Self);
    }
    let output = output_type(&sig.output);
    sig.output = parse_quote! {
        -> ::core::pin::Pin<::std::boxed::Box<
            dyn ::core::future::Future<Output = #output> + ::core::marker::Send + 'courier
        >>
    };
    sig
}

/// The same rewrite for a method with a body; the body runs inside the boxed future.
pub(crate) fn method(function: &mut ImplItemFn) {
    if function.sig.asyncness.is_none() {
        return;
    }
    let output = output_type(&function.sig.output);
    function.sig = signature(&function.sig);
    let body = &function.block;
    // The annotation lets `?` and `return` inside the body infer the method's type.
    function.block = parse_quote!({
        ::std::boxed::Box::pin(async move {
            let __courier_output: #output = #body;
            __courier_output
        })
    });
}

fn output_type(output: &ReturnType) -> TokenStream {
    match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => quote!(#ty),
    }
}
