//! `GET /docs` in a real browser: headless Chromium loads the page from the server alone
//! (no internet), lists the REST routes, and a "Try it out" call returns the real result.

use courier::prelude::*;
use courier_samples::GreeterComponent;
use courier_test_support::Browser;
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_api_page_lists_the_routes_and_tries_one_out() {
    let Some(browser) = Browser::start().await else { return };
    let server =
        Server::builder().registry(LocalRegistry::new()).component(GreeterComponent).start().await.expect("starts");
    browser.open(&format!("{}/docs", server.url())).await;

    browser.wait_for(None, ".opblock-summary-path", PATIENCE).await;
    let mut listed = Vec::new();
    for path in browser.find_all(None, ".opblock-summary-path").await {
        listed.push(browser.text(&path).await);
    }
    for route in ["/api/hello/{name}", "/api/greet", "/api/echo", "/api/whoami", "/api/ping", "/api/trees/{id}"] {
        assert!(listed.iter().any(|shown| shown == route), "{route} is not listed: {listed:?}");
    }

    let mut hello = None;
    for operation in browser.find_all(None, ".opblock").await {
        let path = browser.wait_for(Some(&operation), ".opblock-summary-path", PATIENCE).await;
        if browser.text(&path).await == "/api/hello/{name}" {
            hello = Some(operation);
        }
    }
    let hello = hello.expect("the hello route is on the page");
    browser.click(&browser.wait_for(Some(&hello), ".opblock-summary-control", PATIENCE).await).await;
    browser.click(&browser.wait_for(Some(&hello), ".try-out__btn", PATIENCE).await).await;
    browser.type_into(&browser.wait_for(Some(&hello), r#"input[placeholder="name"]"#, PATIENCE).await, "Ada").await;
    browser.click(&browser.wait_for(Some(&hello), ".execute", PATIENCE).await).await;
    // The response Swagger UI shows once the call returns: its body, as the server sent it.
    let response =
        browser.wait_for(Some(&hello), ".live-responses-table tbody .response-col_description", PATIENCE).await;
    let started = std::time::Instant::now();
    loop {
        let shown = browser.text(&response).await;
        if shown.contains("\"Hello, Ada!\"") {
            break;
        }
        assert!(started.elapsed() < PATIENCE, "the page shows no result: {shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn the_page_is_served_from_the_crate_and_can_be_turned_off() {
    let server =
        Server::builder().registry(LocalRegistry::new()).component(GreeterComponent).start().await.expect("starts");
    let http = reqwest::Client::new();
    let page = http.get(format!("{}/docs", server.url())).send().await.expect("the page");
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.expect("html");
    assert!(!page.contains("://"), "the page loads nothing from elsewhere: {page}");
    for (asset, content_type) in
        [("swagger-ui-bundle.js", "text/javascript; charset=utf-8"), ("swagger-ui.css", "text/css; charset=utf-8")]
    {
        assert!(page.contains(&format!("docs/{asset}")), "{page}");
        let served = http.get(format!("{}/docs/{asset}", server.url())).send().await.expect("the asset");
        assert_eq!(
            (served.status().as_u16(), &served.headers()["content-type"]),
            (200, &content_type.parse().unwrap())
        );
        assert!(served.bytes().await.expect("bytes").len() > 100_000, "{asset} is whole");
    }

    let quiet = Server::builder()
        .registry(LocalRegistry::new())
        .component(GreeterComponent)
        .docs(false)
        .start()
        .await
        .expect("starts");
    let answer = http.get(format!("{}/docs", quiet.url())).send().await.expect("an answer");
    assert_eq!(answer.status(), 404);
    let document = http.get(format!("{}/openapi.json", quiet.url())).send().await.expect("the document");
    assert_eq!(document.status(), 200, "the document stays");
}
