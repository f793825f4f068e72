//! Reads a password from stdin (one line) and prints its argon2id hash, for a
//! `BasicAuthenticator` users file. `cargo xtask hash-password` runs it.

use std::io::BufRead;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut password = String::new();
    std::io::stdin().lock().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err("no password on stdin".into());
    }
    println!("{}", courier_auth::hash_password(password)?);
    Ok(())
}
