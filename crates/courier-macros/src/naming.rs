/// `TestService` → `test_service`.
pub(crate) fn snake_case(name: &str) -> String {
    separated(name, '_')
}

/// `HelloComponent` → `hello-component`.
pub(crate) fn kebab_case(name: &str) -> String {
    separated(name, '-')
}

/// `hello_world` → `HelloWorld`.
pub(crate) fn pascal_case(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect::<String>()).unwrap_or_default()
        })
        .collect()
}

fn separated(name: &str, separator: char) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_uppercase() {
            if previous_lower {
                out.push(separator);
            }
            out.extend(c.to_lowercase());
            previous_lower = false;
        } else {
            out.push(if c == '_' { separator } else { c });
            previous_lower = c.is_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// The doc comment of an item, joined into one paragraph.
/// A type as people write it, `Vec<String>` (tokens print as `Vec < String >`).
pub(crate) fn type_name(ty: &syn::Type) -> String {
    let glued = [(" :: ", "::"), (" < ", "<"), (" <", "<"), ("< ", "<"), (" >", ">"), (" ,", ","), ("& ", "&")];
    let glued = glued.into_iter().chain([("( ", "("), (" )", ")"), ("[ ", "["), (" ]", "]"), (" ;", ";")]);
    glued.fold(quote::ToTokens::to_token_stream(ty).to_string(), |name, (spaced, tight)| name.replace(spaced, tight))
}

pub(crate) fn doc_text(attrs: &[syn::Attribute]) -> String {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(syn::MetaNameValue {
                value: syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(text), .. }),
                ..
            }) => Some(text.value().trim().to_owned()),
            _ => None,
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn type_names_read_as_written() {
        let name = |text: &str| super::type_name(&syn::parse_str(text).expect("a type"));
        assert_eq!(name("Vec<String>"), "Vec<String>");
        assert_eq!(name("Option<Box<Sample>>"), "Option<Box<Sample>>");
        assert_eq!(name("std::collections::HashMap<String, u64>"), "std::collections::HashMap<String, u64>");
        assert_eq!(name("(u64, &'static str)"), "(u64, &'static str)");
        assert_eq!(name("[u8; 4]"), "[u8; 4]");
    }

    use super::*;

    #[test]
    fn cases() {
        assert_eq!(snake_case("TestService"), "test_service");
        assert_eq!(snake_case("HTTPService"), "httpservice");
        assert_eq!(kebab_case("HelloComponent"), "hello-component");
        assert_eq!(pascal_case("get_user_by_id"), "GetUserById");
    }
}
