//! Multiplexed connections: many calls in flight over one connection each get their own
//! reply, and a peer that sends frames too large or malformed gets an error, not a
//! broken server.

use bytes::{Buf, BytesMut};
use courier::{client::HttpClient, prelude::*};
use courier_samples::{Greeter, GreeterComponent};
use std::collections::HashSet;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const LIMIT: usize = 64 * 1024;

async fn start(registry: &LocalRegistry) -> Server {
    Server::builder()
        .registry(registry.clone())
        .component(GreeterComponent)
        .max_body_bytes(LIMIT)
        .start()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn concurrent_calls_over_one_connection_each_get_their_own_reply() {
    let registry = LocalRegistry::new();
    let _server = start(&registry).await;
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    let mut calls = tokio::task::JoinSet::new();
    for caller in 0..300 {
        let greeter = Arc::clone(&greeter);
        calls.spawn(async move { (caller, greeter.hello(format!("caller {caller}")).await) });
    }
    let mut answered = HashSet::new();
    while let Some(done) = calls.join_next().await {
        let (caller, reply) = done.expect("the call task");
        assert_eq!(reply.expect("a reply"), format!("Hello, caller {caller}!"));
        answered.insert(caller);
    }
    assert_eq!(answered.len(), 300);
}

/// A connection upgraded by hand, to send frames no courier client would.
async fn upgraded(server: &Server) -> TcpStream {
    let address = server.url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).await.expect("connects");
    let upgrade =
        format!("GET /mux HTTP/1.1\r\nhost: {address}\r\nconnection: upgrade\r\nupgrade: courier-mux\r\n\r\n");
    stream.write_all(upgrade.as_bytes()).await.expect("writes");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.expect("a response head"));
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    stream
}

/// The next response frame: its id, status and body.
async fn response(stream: &mut TcpStream) -> (u64, u16, serde_json::Value) {
    let length = stream.read_u32().await.expect("a frame") as usize;
    let mut frame = BytesMut::zeroed(length);
    stream.read_exact(&mut frame).await.expect("the whole frame");
    let (id, kind, status) = (frame.get_u64(), frame.get_u8(), frame.get_u16());
    assert_eq!(kind, 1, "a response frame");
    for _ in 0..frame.get_u16() {
        let name = usize::from(frame.get_u16());
        frame.advance(name);
        let value = usize::from(frame.get_u16());
        frame.advance(value);
    }
    (id, status, serde_json::from_slice(&frame).expect("a JSON body"))
}

#[tokio::test]
async fn a_frame_too_large_gets_413_and_a_malformed_one_closes_only_its_connection() {
    let registry = LocalRegistry::new();
    let server = start(&registry).await;
    let mut stream = upgraded(&server).await;

    // A request frame far over the limit: its id, then a body nobody reads.
    let length = 4 * LIMIT;
    stream.write_u32(length as u32).await.expect("writes");
    stream.write_u64(42).await.expect("writes");
    stream.write_all(&vec![0; length - 8]).await.expect("writes");
    let (id, status, body) = response(&mut stream).await;
    assert_eq!((id, status), (42, 413));
    assert_eq!(body["code"], "payload_too_large", "{body}");

    // Garbage where a frame should be: the server closes this connection.
    stream.write_all(&[0, 0, 0, 3, 1, 2, 3]).await.expect("writes");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(closed.is_ok_and(|read| read.is_ok()), "the connection closes");

    // Everyone else is served as before, over either transport.
    let services = ServiceManager::new(registry.clone());
    assert_eq!(services.get::<dyn Greeter>().expect("proxy").hello("ann".into()).await.expect("hello"), "Hello, ann!");
    let http1 = HttpClient::builder().multiplex(false).build();
    let plain = ServiceManager::builder().registry(registry).http_client(http1).build().get::<dyn Greeter>();
    let plain = plain.expect("proxy");
    assert_eq!(plain.hello("bob".into()).await.expect("hello"), "Hello, bob!");
}

#[tokio::test]
async fn an_instance_that_never_answers_the_upgrade_holds_up_only_its_own_calls() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let silent_url = format!("http://{}", silent.local_addr().expect("address"));
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = Arc::clone(&accepted);
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(stream);
        }
    });
    let (stuck_registry, live_registry) = (LocalRegistry::new(), LocalRegistry::new());
    stuck_registry.add_peer("greeter-component", &silent_url);
    let _server = start(&live_registry).await;
    let client = HttpClient::builder().connect_timeout(std::time::Duration::from_secs(30)).build();
    let manager = |registry| ServiceManager::builder().registry(registry).http_client(client.clone()).build();
    let stuck = manager(stuck_registry).get::<dyn Greeter>().expect("proxy");
    let live = manager(live_registry).get::<dyn Greeter>().expect("proxy");

    let waiting = tokio::spawn(async move { stuck.hello("nobody".into()).await });
    let connected = || async { accepted.load(std::sync::atomic::Ordering::SeqCst) == 1 };
    courier_test_support::wait_until(std::time::Duration::from_secs(5), "the first call is connecting", connected)
        .await;
    assert_eq!(live.hello("ann".into()).await.expect("the live instance answers"), "Hello, ann!");
    assert!(!waiting.is_finished(), "the call to the silent instance is still waiting for its upgrade");
    waiting.abort();
}

#[tokio::test]
async fn a_reply_larger_than_the_client_reads_fails_its_call_and_not_the_connection() {
    let registry = LocalRegistry::new();
    let _server = start(&registry).await;
    let client = HttpClient::builder().max_reply_bytes(2 * 1024).build();
    let greeter = ServiceManager::builder().registry(registry).http_client(client).build().get::<dyn Greeter>();
    let greeter = greeter.expect("proxy");
    let error = greeter.echo(courier_samples::Node::tree(3, 4)).await.expect_err("the reply is too large");
    assert_eq!(error.code, courier::ErrorCode::PayloadTooLarge, "{error}");
    assert_eq!(greeter.hello("ann".into()).await.expect("the connection serves on"), "Hello, ann!");
}

#[tokio::test]
async fn large_and_small_calls_interleaved_on_one_connection_each_get_their_own_reply() {
    let registry = LocalRegistry::new();
    let _server = start(&registry).await;
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    let tree = courier_samples::Node::tree(3, 7);
    let mut calls = tokio::task::JoinSet::new();
    for caller in 0..200 {
        let (greeter, tree) = (Arc::clone(&greeter), tree.clone());
        calls.spawn(async move {
            match caller % 2 {
                0 => assert_eq!(greeter.echo(tree.clone()).await.expect("echo"), tree),
                _ => assert_eq!(greeter.hello(format!("{caller}")).await.expect("hello"), format!("Hello, {caller}!")),
            }
        });
    }
    while let Some(done) = calls.join_next().await {
        done.expect("every call gets its own reply");
    }
}
