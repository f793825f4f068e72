//! [`Report`]: the error `main` returns, printed as people read it.

use std::{error::Error, fmt};

/// Any error, for `fn main() -> Result<(), Report>`: when `main` fails, Rust prints it
/// with `Debug`, and a `Report` prints what the error says (its `Display`) and then each
/// cause it names, one per line — not the error's fields.
///
/// ```
/// # use courier_core as courier;
/// use courier::Report;
///
/// fn main() -> Result<(), Report> {
///     let port: u16 = "8080".parse()?;
///     if port < 1024 {
///         return Err(Report::msg(format!("port {port} needs privileges")));
///     }
///     Ok(())
/// }
/// ```
///
/// `main` failing with it prints, for example:
///
/// ```text
/// Error: cannot listen on 10.0.0.1:80: Cannot assign requested address (os error 99)
/// ```
pub struct Report(Box<dyn Error + Send + Sync + 'static>);

impl Report {
    /// A report that says `message`.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(message.to_string().into())
    }

    /// The error reported.
    pub fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for Report {
    fn from(error: E) -> Self {
        Self(Box::new(error))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Report {
    /// The error's own words, then each cause that adds to them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let said = self.0.to_string();
        f.write_str(&said)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            // Many errors repeat their source's words in their own: say them once.
            if !said.contains(&text) {
                write!(f, "\n  caused by: {text}")?;
            }
            cause = error.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Report;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open the ledger")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn debug_reads_like_display_with_each_cause() {
        let report = Report::from(Outer(std::io::Error::other("disk full")));
        assert_eq!(format!("{report:?}"), "cannot open the ledger\n  caused by: disk full");
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let report = Report::from(std::io::Error::other("disk full"));
        assert_eq!(format!("{report:?}"), "disk full");
        assert_eq!(Report::msg("no port").to_string(), "no port");
    }
}
