//! How many `hello` calls each server has answered, from its Prometheus `/metrics`.

use crate::Error;

/// The server's request counter: `courier_core::telemetry::SERVER_REQUESTS`, which the
/// `courier` facade does not re-export.
pub(crate) const SERVER_REQUESTS: &str = "courier_server_requests_total";

/// Reads the servers' request counters.
#[derive(Debug)]
pub(crate) struct Counters {
    http: reqwest::Client,
    urls: Vec<String>,
}

impl Counters {
    /// Counters of the servers at `urls`.
    pub(crate) fn new(urls: &[String]) -> Self {
        Self { http: reqwest::Client::new(), urls: urls.iter().map(|url| format!("{url}/metrics")).collect() }
    }

    /// The `hello` calls each server has answered so far, in the order of the URLs.
    pub(crate) async fn hello_calls(&self) -> Result<Vec<u64>, Error> {
        let mut calls = Vec::with_capacity(self.urls.len());
        for url in &self.urls {
            let text = self.http.get(url).send().await?.error_for_status()?.text().await?;
            calls.push(hello_calls(&text).map_err(|error| format!("{url}: {error}"))?);
        }
        Ok(calls)
    }
}

/// The sum of the server's request counters for `greeter.hello`, over every channel and
/// outcome; zero before the first call, when the server has no such counter yet.
fn hello_calls(exposition: &str) -> Result<u64, Error> {
    let mut total = 0;
    for line in exposition.lines() {
        // The `{` tells the counter apart from longer names that begin like it.
        let Some(sample) = line.strip_prefix(SERVER_REQUESTS).and_then(|rest| rest.strip_prefix('{')) else {
            continue;
        };
        let (labels, value) = split_labels(sample).ok_or_else(|| format!("cannot parse the sample `{line}`"))?;
        let label = |name: &str| labels.iter().find(|(label, _)| *label == name).map(|(_, value)| value.as_str());
        if label("service") != Some("greeter") || label("method") != Some("hello") {
            continue;
        }
        // A counter is exposed as a float, though it only ever holds whole numbers.
        let value = value
            .split_whitespace()
            .next()
            .and_then(|value| value.parse::<f64>().ok())
            .filter(|value| value.is_finite() && *value >= 0.0)
            .ok_or_else(|| format!("the sample `{line}` has no count"))?;
        total += value as u64;
    }
    Ok(total)
}

/// The labels of a sample, given the text after its `{`, and the text after the `}`.
fn split_labels(mut rest: &str) -> Option<(Vec<(&str, String)>, &str)> {
    let mut labels = Vec::new();
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (name, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') => break i,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    escaped => value.push(escaped),
                },
                (_, c) => value.push(c),
            }
        };
        labels.push((name.trim(), value));
        rest = &after[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_hello_over_channels_and_outcomes_only() {
        let exposition = r#"# TYPE courier_server_requests_total counter
courier_server_requests_total{service="greeter",method="hello",channel="dispatch-msgpack",outcome="ok"} 1200
courier_server_requests_total{service="greeter",method="hello",channel="rest",outcome="cancelled"} 3
courier_server_requests_total{service="greeter",method="whoami",channel="dispatch-msgpack",outcome="ok"} 7
courier_server_requests_total{service="other \"greeter\"",method="hello",channel="rest",outcome="ok"} 11
courier_server_requests_total_extra{service="greeter",method="hello"} 13
courier_client_requests_total{service="greeter",method="hello",channel="rest",outcome="ok"} 17
"#;
        assert_eq!(hello_calls(exposition).unwrap(), 1203);
    }

    #[test]
    fn no_counter_yet_is_zero_calls() {
        assert_eq!(hello_calls("# no samples\n").unwrap(), 0);
    }

    #[test]
    fn a_garbled_sample_is_an_error() {
        assert!(hello_calls("courier_server_requests_total{service=\"greeter\n").is_err());
        assert!(hello_calls("courier_server_requests_total{service=\"greeter\",method=\"hello\"} many\n").is_err());
    }
}
