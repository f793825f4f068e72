//! Writes the `.proto` schema of every protobuf service linked in to a folder
//! (default: `proto/`). `cargo xtask proto` runs it.

use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let folder = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "proto".into()));
    for descriptor in courier_samples::protobuf_services() {
        if let Some(schema) = descriptor.protobuf {
            let path = folder.join(format!("{}.proto", descriptor.name));
            std::fs::write(&path, schema())?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
