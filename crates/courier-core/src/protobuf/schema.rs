use std::fmt::Write;

/// The messages of a `.proto` file, gathered as types describe themselves.
#[derive(Debug, Default)]
pub struct Schema {
    /// Message names in the order they were first met, with their definitions
    /// (`None` while a recursive message is being described).
    messages: Vec<(String, Option<String>)>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a message unless it is known: `fields` lists each field's declaration, name
    /// and number, `reserved` the numbers of retired fields. A message met again while it
    /// is described (a recursive type) is only named.
    pub fn message(
        &mut self,
        name: &str,
        doc: &str,
        reserved: &[u32],
        fields: impl FnOnce(&mut Self) -> Vec<(String, &'static str, u32)>,
    ) {
        if self.messages.iter().any(|(known, _)| known == name) {
            return;
        }
        self.messages.push((name.to_owned(), None));
        let fields = fields(self);
        let mut text = String::new();
        for line in doc.lines().filter(|line| !line.trim().is_empty()) {
            let _ = writeln!(text, "// {}", line.trim());
        }
        let _ = writeln!(text, "message {name} {{");
        if !reserved.is_empty() {
            let numbers: Vec<String> = reserved.iter().map(u32::to_string).collect();
            let _ = writeln!(text, "  reserved {};", numbers.join(", "));
        }
        for (declaration, field, number) in fields {
            let _ = writeln!(text, "  {declaration} {field} = {number};");
        }
        text.push('}');
        if let Some(entry) = self.messages.iter_mut().find(|(known, _)| known == name) {
            entry.1 = Some(text);
        }
    }

    /// The definitions, in the order met, separated by blank lines.
    pub fn definitions(&self) -> String {
        self.messages.iter().filter_map(|(_, text)| text.as_deref()).collect::<Vec<_>>().join("\n\n")
    }
}
