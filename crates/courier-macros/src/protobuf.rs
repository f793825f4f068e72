//! Protobuf messages: `#[derive(ProtoMessage)]` on user structs, and the request and
//! reply messages `#[service(protobuf)]` generates per method. Both are prost
//! `Message`s whose fields are numbered from 1 in declaration order, unless a field pins
//! its number with `#[proto(tag = N)]`; `#[proto(reserved = [..])]` retires numbers.

use crate::naming::doc_text;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// One field on the wire.
pub(crate) struct WireField<'a> {
    pub(crate) name: &'a Ident,
    pub(crate) ty: &'a Type,
    /// Its field number.
    pub(crate) tag: u32,
}

/// The largest protobuf field number.
const MAX_TAG: u32 = (1 << 29) - 1;

/// Field numbers protobuf keeps for itself.
const IMPLEMENTATION_RESERVED: std::ops::RangeInclusive<u32> = 19_000..=19_999;

/// The numbers in a `#[proto(...)]` attribute: `tag = N` on a field, `reserved = [..]` on
/// the struct.
fn proto_numbers(attrs: &[syn::Attribute], key: &str) -> syn::Result<Vec<(u32, proc_macro2::Span)>> {
    let mut numbers = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("proto")) {
        attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident(key) {
                let expected =
                    if key == "tag" { "`tag = N` on a field" } else { "`reserved = [N, ...]` on the struct" };
                return Err(meta.error(format!("unknown protobuf option: expected {expected}")));
            }
            let value = meta.value()?;
            let literals: Vec<syn::LitInt> = match key {
                "tag" => vec![value.parse()?],
                _ => {
                    let list: syn::ExprArray = value.parse()?;
                    list.elems
                        .iter()
                        .map(|element| match element {
                            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(number), .. }) => Ok(number.clone()),
                            other => Err(syn::Error::new_spanned(other, "a field number")),
                        })
                        .collect::<syn::Result<_>>()?
                }
            };
            for literal in literals {
                let number: u32 = literal.base10_parse()?;
                if number == 0 || number > MAX_TAG || IMPLEMENTATION_RESERVED.contains(&number) {
                    return Err(syn::Error::new_spanned(
                        &literal,
                        "protobuf field numbers run from 1 to 536870911, without 19000 to 19999",
                    ));
                }
                numbers.push((number, literal.span()));
            }
            Ok(())
        })?;
    }
    Ok(numbers)
}

/// Whether a type is `()`, which has no protobuf form and is left off the wire.
pub(crate) fn is_unit(ty: &Type) -> bool {
    matches!(ty, Type::Tuple(tuple) if tuple.elems.is_empty())
}

pub(crate) fn expand_derive(input: TokenStream) -> syn::Result<TokenStream> {
    let input: DeriveInput = syn::parse2(input)?;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(&input.generics, "a protobuf message cannot be generic"));
    }
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => named.named.iter().collect::<Vec<_>>(),
            Fields::Unit => Vec::new(),
            Fields::Unnamed(_) => {
                return Err(syn::Error::new_spanned(
                    &input.ident,
                    "protobuf fields need names: use a struct with named fields",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "only structs derive `ProtoMessage`: protobuf has no form for Rust enums with data",
            ))
        }
    };
    let reserved: Vec<u32> = proto_numbers(&input.attrs, "reserved")?.into_iter().map(|(number, _)| number).collect();
    let mut wire: Vec<WireField<'_>> = Vec::new();
    let mut next = 1;
    for field in fields.iter().filter(|field| !is_unit(&field.ty)) {
        let Some(name) = field.ident.as_ref() else { continue };
        let pinned = proto_numbers(&field.attrs, "tag")?;
        let (tag, span) = match pinned.as_slice() {
            [] => (next, name.span()),
            [(tag, span)] => (*tag, *span),
            [_, (_, span), ..] => return Err(syn::Error::new(*span, "a field has one number")),
        };
        if reserved.contains(&tag) {
            return Err(syn::Error::new(
                span,
                format!("field number {tag} is reserved: retired fields keep their numbers"),
            ));
        }
        if let Some(taken) = wire.iter().find(|known| known.tag == tag) {
            return Err(syn::Error::new(span, format!("field number {tag} is taken by `{}`", taken.name)));
        }
        wire.push(WireField { name, ty: &field.ty, tag });
        next = tag + 1;
    }
    let ident = &input.ident;
    let private = crate::krate::private(None);
    Ok(message(&private, ident, &ident.to_string(), &doc_text(&input.attrs), &wire, &reserved))
}

/// prost's `Message` and courier's field traits for a struct.
pub(crate) fn message(
    private: &TokenStream,
    ident: &Ident,
    proto_name: &str,
    doc: &str,
    fields: &[WireField<'_>],
    reserved: &[u32],
) -> TokenStream {
    let names: Vec<_> = fields.iter().map(|field| field.name).collect();
    let field_names: Vec<_> = fields.iter().map(|field| field.name.to_string()).collect();
    let types: Vec<_> = fields.iter().map(|field| field.ty).collect();
    let tags: Vec<u32> = fields.iter().map(|field| field.tag).collect();
    quote! {
        const _: () = {
            use #private as __courier;
            use __courier::prost::{
                bytes::{Buf, BufMut},
                encoding::{DecodeContext, WireType},
                DecodeError,
            };

            impl __courier::prost::Message for #ident {
                fn encode_raw(&self, buf: &mut impl BufMut) {
                    #( __courier::ProtoField::encode_field(&self.#names, #tags, buf); )*
                }

                fn merge_field(
                    &mut self,
                    tag: u32,
                    wire_type: WireType,
                    buf: &mut impl Buf,
                    ctx: DecodeContext,
                ) -> ::core::result::Result<(), DecodeError> {
                    match tag {
                        #( #tags => __courier::ProtoField::merge_field(&mut self.#names, wire_type, buf, ctx), )*
                        _ => __courier::prost::encoding::skip_field(wire_type, tag, buf, ctx),
                    }
                }

                fn encoded_len(&self) -> usize {
                    0 #( + __courier::ProtoField::encoded_field_len(&self.#names, #tags) )*
                }

                fn clear(&mut self) {
                    #( self.#names = ::core::default::Default::default(); )*
                }
            }

            impl __courier::ProtoElement for #ident {
                const IS_MESSAGE: bool = true;

                fn type_name(schema: &mut __courier::Schema) -> ::std::string::String {
                    schema.message(#proto_name, #doc, &[#(#reserved),*], |schema| {
                        ::std::vec![
                            #( (<#types as __courier::ProtoField>::declaration(schema), #field_names, #tags), )*
                        ]
                    });
                    ::std::string::String::from(#proto_name)
                }

                fn encode_one(&self, tag: u32, buf: &mut impl BufMut) {
                    __courier::prost::encoding::message::encode(tag, self, buf);
                }

                fn encoded_len_one(&self, tag: u32) -> usize {
                    __courier::prost::encoding::message::encoded_len(tag, self)
                }

                fn merge_one(
                    &mut self,
                    wire_type: WireType,
                    buf: &mut impl Buf,
                    ctx: DecodeContext,
                ) -> ::core::result::Result<(), DecodeError> {
                    __courier::prost::encoding::message::merge(wire_type, self, buf, ctx)
                }

                fn is_default(&self) -> bool {
                    false
                }
            }

            impl __courier::ProtoField for #ident {
                fn declaration(schema: &mut __courier::Schema) -> ::std::string::String {
                    <Self as __courier::ProtoElement>::type_name(schema)
                }

                fn encode_field(&self, tag: u32, buf: &mut impl BufMut) {
                    __courier::ProtoElement::encode_one(self, tag, buf);
                }

                fn encoded_field_len(&self, tag: u32) -> usize {
                    __courier::ProtoElement::encoded_len_one(self, tag)
                }

                fn merge_field(
                    &mut self,
                    wire_type: WireType,
                    buf: &mut impl Buf,
                    ctx: DecodeContext,
                ) -> ::core::result::Result<(), DecodeError> {
                    __courier::ProtoElement::merge_one(self, wire_type, buf, ctx)
                }
            }

            impl __courier::ProtoMessage for #ident {}
        };
    }
}
