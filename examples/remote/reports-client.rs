//! Submits a report job and prints its token, or waits for the job with a token and
//! prints the report — from any process that reaches the servers Consul knows (with
//! `CONSUL_HTTP_ADDR` set), or those listed in `COURIER_PEERS`.
//!
//! ```sh
//! reports-client submit "Q3 figures" 10 100   # prints the job's token, and exits
//! reports-client wait 01M8THJ1VRVEP1J1GDZFVRVSHZ
//! ```

use courier::prelude::*;
use courier_samples::{ReportSpec, Reports};

const USAGE: &str = "usage: reports-client submit <title> <pages> <page_ms> | wait <token>";

#[tokio::main]
async fn main() -> Result<(), Report> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reports = ServiceManager::default().get::<dyn Reports>()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["submit", title, pages, page_ms] => {
            let spec = ReportSpec { title: title.to_owned(), pages: pages.parse()?, page_ms: page_ms.parse()? };
            println!("{}", reports.submit_render(spec).await?.id());
        }
        ["wait", token] => {
            let report = reports.attach_render(token)?.wait().await?;
            println!(
                "rendered {} ({} pages) on {}, attempt {}",
                report.title, report.pages, report.worker, report.attempt
            );
        }
        _ => return Err(Report::msg(USAGE)),
    }
    Ok(())
}
