//! The markdown table of results, with each stack set against the floor.

use crate::{clients::Stack, measure::Sample};
use std::fmt::Write;

/// A header line, then one row per stack.
pub(crate) fn render(header: &str, callers: usize, rows: &[(Stack, Sample)]) -> String {
    let floor = rows.iter().find(|(stack, _)| *stack == Stack::Floor).map(|(_, sample)| *sample);
    let mut out = format!("{header}\n\n");
    let _ = writeln!(
        out,
        "| stack | p50 µs | p99 µs | calls/s at {callers} | p50 ÷ floor p50 | throughput ÷ floor throughput |"
    );
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for (stack, sample) in rows {
        let (latency_ratio, throughput_ratio) = match floor {
            Some(floor) => (
                format!("{:.2}", sample.p50_us / floor.p50_us),
                format!("{:.2}", sample.calls_per_sec / floor.calls_per_sec),
            ),
            None => ("n/a".to_owned(), "n/a".to_owned()),
        };
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {} | {latency_ratio} | {throughput_ratio} |",
            stack.label(),
            sample.p50_us,
            sample.p99_us,
            thousands(sample.calls_per_sec),
        );
    }
    out
}

/// A rate rounded to a whole number, with thin spaces between groups of three digits.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push('\u{202f}');
        }
        grouped.push(digit);
    }
    grouped
}
