//! The markdown table of results, and the first selector set against the second.

use crate::{
    counters::SERVER_REQUESTS,
    fleet::Spec,
    phase::{Sample, Settings},
};
use std::fmt::Write;

/// A header line with the settings, one row per selector, and the ratios of the first
/// selector's figures to the second's.
pub(crate) fn render(specs: &[Spec], rounds: usize, settings: &Settings, rows: &[(&str, Sample)]) -> String {
    let delays: Vec<String> = specs.iter().map(|spec| format!("{} {} ms", spec.name, spec.delay_ms)).collect();
    let mut out = format!(
        "{} `greeter-server` processes, whose `hello` sleeps {}; one proxy per selector, over dispatch-msgpack. \
         Medians over {rounds} rounds, the selectors taking turns to go first; each round: {} warm-up calls, \
         then {} timed calls from {} concurrent callers. Calls per instance from each server's `{SERVER_REQUESTS}`.\n\n",
        specs.len(),
        delays.join(", "),
        settings.warmup,
        settings.calls,
        settings.callers,
    );

    out.push_str("| selector |");
    for spec in specs {
        let _ = write!(out, " calls to {} ({} ms) |", spec.name, spec.delay_ms);
    }
    out.push_str(" p50 ms | p99 ms | calls/s |\n|---|");
    out.push_str(&"---:|".repeat(specs.len() + 3));
    out.push('\n');
    let total = settings.calls as f64;
    for (selector, sample) in rows {
        let _ = write!(out, "| {selector} |");
        for served in &sample.served {
            let _ = write!(out, " {served:.0} ({:.1} %) |", served / total * 100.0);
        }
        let _ = writeln!(out, " {:.2} | {:.2} | {:.0} |", sample.p50_ms, sample.p99_ms, sample.calls_per_sec);
    }

    let slowest = specs.iter().enumerate().max_by_key(|(_, spec)| spec.delay_ms).map(|(i, _)| i);
    if let ([(first, a), (second, b), ..], Some(slowest)) = (rows, slowest) {
        let _ = writeln!(
            out,
            "\n{first} ÷ {second}: share of calls to {} {}, p99 {}, throughput {}.",
            specs[slowest].name,
            ratio(a.served[slowest], b.served[slowest]),
            ratio(a.p99_ms, b.p99_ms),
            ratio(a.calls_per_sec, b.calls_per_sec),
        );
    }
    out
}

fn ratio(numerator: f64, denominator: f64) -> String {
    match denominator > 0.0 {
        true => format!("{:.2}", numerator / denominator),
        false => "n/a".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_row_per_selector_and_the_ratios() {
        let specs = [Spec { name: "slow", delay_ms: 20 }, Spec { name: "fast", delay_ms: 2 }];
        let settings = Settings { warmup: 10, calls: 100, callers: 4 };
        let sample = |slow, p99_ms, calls_per_sec| Sample {
            served: vec![slow, 100.0 - slow],
            p50_ms: 2.0,
            p99_ms,
            calls_per_sec,
        };
        let rows = [("least-loaded", sample(10.0, 20.0, 900.0)), ("round-robin", sample(50.0, 40.0, 300.0))];
        let table = render(&specs, 3, &settings, &rows);
        assert!(table.contains("| least-loaded | 10 (10.0 %) | 90 (90.0 %) | 2.00 | 20.00 | 900 |"), "{table}");
        assert!(table.contains("| round-robin | 50 (50.0 %) | 50 (50.0 %) | 2.00 | 40.00 | 300 |"), "{table}");
        assert!(table.contains("least-loaded ÷ round-robin: share of calls to slow 0.20, p99 0.50, throughput 3.00."));
    }
}
