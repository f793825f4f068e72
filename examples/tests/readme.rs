//! The README's Rust snippets are taken from programs that build and run: each one, line
//! for line (indentation aside), is part of a file under `examples/`. A line `// ...`
//! in a snippet stands for lines left out; the parts around it appear in that order.
//! And the rustdoc examples readers see name items as users do, by `courier::` paths.

use std::path::{Path, PathBuf};

/// The lines of `text` that say something, without their indentation.
fn lines(text: &str) -> Vec<&str> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect()
}

/// The README's ```rust blocks.
fn snippets(readme: &str) -> Vec<String> {
    let mut snippets = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, fence) if fence.starts_with("```rust") => current = Some(String::new()),
            (Some(_), "```") => snippets.extend(current.take()),
            (Some(snippet), _) => {
                snippet.push_str(line);
                snippet.push('\n');
            }
            (None, _) => {}
        }
    }
    assert!(current.is_none(), "a ```rust block is not closed");
    snippets
}

/// Every `.rs` file under `folder`.
fn sources(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).expect("a readable folder").map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
    found
}

/// Whether `parts` appear in `file`, each as consecutive lines, in this order.
fn contains_in_order(file: &[&str], parts: &[Vec<&str>]) -> bool {
    let mut from = 0;
    for part in parts {
        match (from..=file.len().saturating_sub(part.len())).find(|&start| file[start..].starts_with(part)) {
            Some(start) => from = start + part.len(),
            None => return false,
        }
    }
    true
}

#[test]
fn every_rust_snippet_of_the_readme_is_part_of_an_example_that_builds() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(examples.join("../README.md")).expect("the README");
    let files: Vec<(PathBuf, String)> = sources(examples)
        .into_iter()
        .map(|path| (path.clone(), std::fs::read_to_string(path).expect("a source")))
        .collect();
    let snippets = snippets(&readme);
    assert!(snippets.len() >= 5, "the README has {} Rust snippets", snippets.len());
    let missing: Vec<&str> = snippets
        .iter()
        .filter(|snippet| {
            let parts: Vec<Vec<&str>> = snippet.split("// ...\n").map(lines).filter(|part| !part.is_empty()).collect();
            !files.iter().any(|(_, text)| contains_in_order(&lines(text), &parts))
        })
        .map(String::as_str)
        .collect();
    assert!(missing.is_empty(), "README snippets found in no example:\n\n{}", missing.join("\n----\n"));
}

#[test]
fn rustdoc_examples_name_items_by_their_courier_paths() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    let mut offending = Vec::new();
    for path in sources(&crates) {
        let text = std::fs::read_to_string(&path).expect("a source");
        let mut in_example = false;
        for (number, line) in text.lines().enumerate() {
            let Some(doc) = line.trim_start().strip_prefix("///").or_else(|| line.trim_start().strip_prefix("//!"))
            else {
                continue;
            };
            let doc = doc.strip_prefix(' ').unwrap_or(doc);
            if doc.starts_with("```") {
                in_example = !in_example && doc.trim() != "```text";
                continue;
            }
            // Hidden lines (`# ...`) may reach past the facade; what readers see may not.
            if in_example && !doc.starts_with('#') && names_an_inner_crate(doc) {
                offending.push(format!("{}:{}: {doc}", path.display(), number + 1));
            }
        }
    }
    assert!(offending.is_empty(), "examples that name courier's inner crates:\n{}", offending.join("\n"));
}

/// Whether `line` names an item through one of courier's inner crates.
fn names_an_inner_crate(line: &str) -> bool {
    ["core", "server", "client", "consul", "nats", "auth", "macros"]
        .iter()
        .any(|name| line.contains(&format!("courier_{name}::")))
}
