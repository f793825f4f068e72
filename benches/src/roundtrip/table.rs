//! The markdown table of results, with each stack set against the floor.

use crate::{clients::Stack, measure::Sample};
use std::fmt::Write;

/// A header line, then one row per stack, set against the floor and against tarpc.
pub(crate) fn render(header: &str, callers: usize, rows: &[(Stack, Sample)]) -> String {
    let find = |wanted: Stack| rows.iter().find(|(stack, _)| *stack == wanted).map(|(_, sample)| *sample);
    let (floor, tarpc) = (find(Stack::Floor), find(Stack::Tarpc));
    let mut out = format!("{header}\n\n");
    let _ = writeln!(
        out,
        "| stack | p50 µs | p99 µs | calls/s at {callers} | throughput ÷ floor | p50 ÷ floor | throughput ÷ tarpc | p50 ÷ tarpc | CPU µs per call (client + server) | allocations per call (client + server) |"
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (stack, sample) in rows {
        let ratios = |to: Option<Sample>| match to {
            Some(to) => {
                (format!("{:.2}", sample.calls_per_sec / to.calls_per_sec), format!("{:.2}", sample.p50_us / to.p50_us))
            }
            None => ("n/a".to_owned(), "n/a".to_owned()),
        };
        let ((floor_throughput, floor_p50), (tarpc_throughput, tarpc_p50)) = (ratios(floor), ratios(tarpc));
        let (cpu, allocations) = (sample.cpu_us, sample.allocations);
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {} | {floor_throughput} | {floor_p50} | {tarpc_throughput} | {tarpc_p50} | {:.1} ({:.1} + {:.1}) | {:.0} ({:.0} + {:.0}) |",
            stack.label(),
            sample.p50_us,
            sample.p99_us,
            thousands(sample.calls_per_sec),
            cpu.client + cpu.server,
            cpu.client,
            cpu.server,
            allocations.client + allocations.server,
            allocations.client,
            allocations.server,
        );
    }
    out
}

/// A rate rounded to a whole number, with thin spaces between groups of three digits.
pub(crate) fn thousands(value: f64) -> String {
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
