//! `GET /docs`: Swagger UI on the server's OpenAPI document, with its assets shipped in
//! the crate, so the page works where there is no internet.

use axum::{response::IntoResponse, routing::get, Router};
use http::header;

/// Where the page is served.
pub(crate) const DOCS_PATH: &str = "/docs";

/// Every path the page serves: itself and its assets.
pub(crate) const PATHS: [&str; 3] = [DOCS_PATH, SCRIPT_PATH, STYLE_PATH];
const SCRIPT_PATH: &str = "/docs/swagger-ui-bundle.js";
const STYLE_PATH: &str = "/docs/swagger-ui.css";

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true });
  </script>
</body>
</html>
"##;

const SCRIPT: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js");
const STYLE: &[u8] = include_bytes!("../assets/swagger-ui/swagger-ui.css");

/// Assets change only with the crate: browsers may keep them a day.
const CACHED: &str = "public, max-age=86400";

/// The page and its assets.
pub(crate) fn routes() -> Router {
    Router::new()
        .route(DOCS_PATH, get(|| async { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE) }))
        .route(SCRIPT_PATH, get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }))
        .route(STYLE_PATH, get(|| async { asset("text/css; charset=utf-8", STYLE) }))
}

fn asset(content_type: &'static str, body: &'static [u8]) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, CACHED)], body)
}
