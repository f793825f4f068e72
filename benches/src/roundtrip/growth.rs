//! The growth table: how throughput changes with the size of the payload and with the
//! number of callers, for a few stacks, each set against the floor in the same case.

use crate::{
    clients::{Client, Stack},
    measure::{self, Settings},
    payload::Payload,
    table::thousands,
    Error, Fleet,
};
use courier_benches::{rounds::turns, stats::median, with_causes};
use std::{fmt::Write, sync::Arc};

/// One column of the table: what is sent, by how many callers at once.
#[derive(Debug, Clone, Copy)]
struct Case {
    payload: Payload,
    callers: usize,
}

/// Every payload at the usual number of callers, then the standard payload with one
/// caller and with many.
fn cases(callers: usize) -> Vec<Case> {
    let mut cases: Vec<Case> = Payload::GROWTH.iter().map(|&payload| Case { payload, callers }).collect();
    cases.extend(
        [1, 512].into_iter().filter(|&n| n != callers).map(|n| Case { payload: Payload::STANDARD, callers: n }),
    );
    cases
}

/// Measures `stacks` in every case, `rounds` times each, and renders the medians.
pub(crate) async fn table(
    rounds: usize,
    settings: &Settings,
    stacks: &[Stack],
    fleet: &Fleet,
) -> Result<String, Error> {
    let mut rows = Vec::new();
    for case in cases(settings.callers) {
        let node = case.payload.node();
        let bytes = rmp_serde::to_vec(&node)?.len();
        let mut clients = Vec::with_capacity(stacks.len());
        for &stack in stacks {
            clients.push(Arc::new(Client::new(stack, fleet.server(stack)?.1, &node).await?));
        }
        let settings = Settings { callers: case.callers, ..settings.clone() };
        let mut rates = vec![Vec::with_capacity(rounds); stacks.len()];
        for (round, turn) in turns(rounds, stacks.len()) {
            let stack = stacks[turn];
            let rate = measure::rate(&clients[turn], &settings)
                .await
                .map_err(|error| format!("{} with {}: {}", stack.name(), case.payload.label(), with_causes(&*error)))?;
            eprintln!(
                "growth {}/{rounds}  {:<16} {:<14} {:>4} callers  {:>9.0} calls/s",
                round + 1,
                stack.name(),
                case.payload.label(),
                case.callers,
                rate,
            );
            rates[turn].push(rate);
        }
        rows.push((case, bytes, rates.iter().map(|rates| median(rates.iter().copied())).collect::<Vec<_>>()));
    }
    Ok(render(settings.callers, stacks, &rows))
}

fn render(callers: usize, stacks: &[Stack], rows: &[(Case, usize, Vec<f64>)]) -> String {
    let floor = stacks.iter().position(|stack| *stack == Stack::Floor);
    let mut out = format!(
        "How throughput grows, {callers} callers unless the row says otherwise. Each cell: calls/s, \
         the payload's MB/s one way (at its MessagePack size), and the ratio to the floor's calls/s \
         in the same row.\n\n| payload | callers | bytes |"
    );
    for stack in stacks {
        let _ = write!(out, " {} |", stack.label());
    }
    out.push_str("\n|---|---:|---:|");
    out.push_str(&"---:|".repeat(stacks.len()));
    out.push('\n');
    for (case, bytes, rates) in rows {
        let _ = write!(out, "| {} | {} | {bytes} |", case.payload.label(), case.callers);
        for rate in rates {
            let megabytes = rate * *bytes as f64 / 1e6;
            let ratio = floor.map_or_else(|| "n/a".to_owned(), |floor| format!("{:.2}", rate / rates[floor]));
            let _ = write!(out, " {}/s · {megabytes:.1} MB/s · {ratio} |", thousands(*rate));
        }
        out.push('\n');
    }
    out
}
