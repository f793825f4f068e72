//! Whatever body a peer sends — random bytes, valid payloads with bytes flipped, trees
//! nested far deeper than any caller needs — every codec answers with a status and an
//! error body, never a crash, and the server goes on serving.

mod plain_http;

use courier::{codec::Format, prelude::*};
use courier_samples::Node;
use plain_http::Fixture;
use reqwest::{header::CONTENT_TYPE, Method, StatusCode};

/// The server's default body limit, which the deepest trees stay under.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

const METHODS: [&str; 7] = ["hello", "greet", "echo", "whoami", "inspect", "ping", "rename"];
const FORMATS: [Format; 3] = [Format::Json, Format::MsgPack, Format::Protobuf];

/// How deep the nested trees go: far past every decoder's recursion limit.
const DEPTH: usize = 50_000;

impl Fixture {
    /// Sends `body` to `method` in `format`; the answer must be a success, the method's
    /// own error, or a 4xx with an error body in the caller's codec.
    async fn send(&self, method: &str, format: Format, body: Vec<u8>) -> StatusCode {
        let path = format!("/invoke/greeter-component/greeter/{method}");
        let request = self.request(Method::POST, &path).header(CONTENT_TYPE, format.content_type()).body(body);
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let method_error = response.headers().contains_key("courier-error");
        let body = response.bytes().await.expect("a whole body");
        assert!(
            status.is_success() || status.is_client_error() || method_error,
            "{method} over {format:?}: {status} {}",
            String::from_utf8_lossy(&body)
        );
        if status.is_client_error() {
            let error = format.decode_error(&body).expect("an error body in the caller's codec");
            assert!(!error.message.is_empty(), "{method} over {format:?}: an empty message");
        }
        status
    }
}

/// The arguments of `echo` with a tree of 13 nodes, encoded as a caller would.
fn valid_echo(format: Format) -> Vec<u8> {
    #[derive(Serialize)]
    struct Echo {
        tree: Node,
    }
    let echo = Echo { tree: Node::tree(2, 3) };
    match format {
        Format::Protobuf => nested_protobuf(0),
        _ => format.encode(&echo).expect("encodes"),
    }
}

/// `echo`'s protobuf request with a tree `depth` levels deep: field 1 (the tree) holds
/// a `Node` whose field 5 (children) holds the next, and so on.
fn nested_protobuf(depth: usize) -> Vec<u8> {
    fn wrap(field: u8, inner: Vec<u8>) -> Vec<u8> {
        let mut out = vec![field << 3 | 2];
        let mut length = inner.len();
        while length >= 0x80 {
            out.push((length as u8 & 0x7f) | 0x80);
            length >>= 7;
        }
        out.push(length as u8);
        out.extend(inner);
        out
    }
    let tree = (0..depth).fold(Vec::new(), |inner, _| wrap(5, inner));
    wrap(1, tree)
}

/// `echo`'s arguments with a tree `depth` levels deep, as JSON or MessagePack.
fn nested(format: Format, depth: usize) -> Vec<u8> {
    match format {
        Format::Json => {
            let node = r#"{"name":"","id":0,"value":0.0,"tags":[],"children":["#;
            let mut body = String::from(r#"{"tree":"#);
            (0..depth).for_each(|_| body.push_str(node));
            (0..depth).for_each(|_| body.push_str("]}"));
            body.push('}');
            body.into_bytes()
        }
        // [tree] with tree = [name, id, value, tags, [child]], MessagePack's compact form.
        Format::MsgPack => {
            let mut body = vec![0x91];
            let node = [0x95, 0xa0, 0x00, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x90, 0x91];
            (0..depth).for_each(|_| body.extend(node));
            body.extend([0x95, 0xa0, 0x00, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0x90, 0x90]);
            body
        }
        _ => nested_protobuf(depth),
    }
}

#[tokio::test]
async fn random_and_corrupted_bodies_get_an_error_on_every_codec() {
    let fixture = Fixture::start(BODY_LIMIT).await;
    let mut rng = fastrand::Rng::with_seed(11);
    for format in FORMATS {
        let valid = valid_echo(format);
        assert_eq!(fixture.send("echo", format, valid.clone()).await, StatusCode::OK, "{format:?}");
        for round in 0..150 {
            let method = METHODS[round % METHODS.len()];
            let length = rng.usize(0..300);
            let random: Vec<u8> = (0..length).map(|_| rng.u8(..)).collect();
            fixture.send(method, format, random).await;
            let mut corrupted = valid.clone();
            for _ in 0..rng.usize(1..4) {
                let at = rng.usize(..corrupted.len());
                corrupted[at] = rng.u8(..);
            }
            corrupted.truncate(rng.usize(1..=corrupted.len()));
            fixture.send("echo", format, corrupted).await;
        }
    }
    for format in FORMATS {
        assert_eq!(fixture.send("echo", format, valid_echo(format)).await, StatusCode::OK, "still serving {format:?}");
    }
}

#[tokio::test]
async fn trees_nested_past_the_decoders_limits_are_refused_not_overflowed() {
    let fixture = Fixture::start(BODY_LIMIT).await;
    for format in FORMATS {
        assert_eq!(fixture.send("echo", format, nested(format, 20)).await, StatusCode::OK, "{format:?}, 20 deep");
        let status = fixture.send("echo", format, nested(format, DEPTH)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{format:?}, {DEPTH} deep");
    }
}

/// Random text of up to `max` characters, printable or not.
fn random_text(rng: &mut fastrand::Rng, max: usize) -> String {
    (0..rng.usize(0..max)).map(|_| if rng.bool() { rng.alphanumeric() } else { rng.char(..) }).collect()
}

#[tokio::test]
async fn random_paths_queries_and_bodies_on_rest_routes_get_an_error() {
    let fixture = Fixture::start(BODY_LIMIT).await;
    let mut rng = fastrand::Rng::with_seed(5);
    for _ in 0..200 {
        // Any bytes, invalid UTF-8 included, percent-encoded into one segment.
        let segment: String = (0..rng.usize(1..30)).map(|_| format!("%{:02X}", rng.u8(..))).collect();
        let query = format!("name={}", random_text(&mut rng, 40).replace(['#', '&'], ""));
        let body: Vec<u8> = (0..rng.usize(0..200)).map(|_| rng.u8(..)).collect();
        let json = |method, path: &str| {
            fixture.request(method, path).header(CONTENT_TYPE, "application/json").body(body.clone())
        };
        let requests = [
            fixture.request(Method::GET, &format!("/api/hello/{segment}")),
            json(Method::POST, "/api/greet"),
            json(Method::POST, "/api/echo"),
            fixture.request(Method::PATCH, &format!("/api/trees/{segment}?{query}")).body(body.clone()),
        ];
        for request in requests {
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            let method_error = response.headers().contains_key("courier-error");
            let text = response.text().await.expect("a body");
            assert!(status.is_success() || status.is_client_error() || method_error, "{status} {text}");
            if status.is_client_error() {
                let error: serde_json::Value =
                    serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text:?}"));
                assert!(error["code"].is_string() && error["message"].is_string(), "{text}");
            }
        }
    }
    let hello = fixture.request(Method::GET, "/api/hello/ann").send().await.expect("still serving");
    assert_eq!(hello.status(), StatusCode::OK);
}
