use courier::prelude::*;

struct Database;

#[health_checks]
impl Database {
    #[health_check(cache = "10 seconds")]
    async fn spelled_out(&self, _result: &mut CheckResult) {}

    #[health_check(fail_if_slower_than = "0s")]
    async fn never_fast_enough(&self) {}

    #[health_check(timeout = "1s")]
    async fn unknown_option(&self) {}

    #[health_check]
    fn not_async(&self, _result: &mut CheckResult) {}

    #[health_check]
    async fn no_self(_result: &mut CheckResult) {}
}

struct Cache;

impl Cache {
    #[health_check]
    async fn outside_a_block(&self) {}
}

fn main() {}
