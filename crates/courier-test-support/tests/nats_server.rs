//! `NatsServer` spoken to in the NATS wire protocol itself, so that no client
//! crate is needed: INFO on connect, then JetStream's API as request/reply.

use std::time::Duration;

use courier_test_support::NatsServer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
const INBOX: &str = "_INBOX.courier-test";

/// One raw protocol connection.
struct Connection {
    stream: BufReader<TcpStream>,
}

impl Connection {
    /// Connects and returns the connection with the INFO line the server sent first.
    async fn open(server: &NatsServer) -> (Self, String) {
        let stream = TcpStream::connect(("127.0.0.1", server.port())).await.expect("connect to nats-server");
        let mut connection = Self { stream: BufReader::new(stream) };
        let info = connection.line().await;
        assert!(info.starts_with("INFO {"), "first line is not INFO: {info:?}");
        connection
            .send(&format!("CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nSUB {INBOX} 1\r\nPING\r\n"))
            .await;
        assert_eq!(connection.line().await, "PONG", "no PONG after CONNECT");
        (connection, info)
    }

    async fn send(&mut self, data: &str) {
        self.stream.get_mut().write_all(data.as_bytes()).await.expect("write to nats-server");
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let read = timeout(REPLY_TIMEOUT, self.stream.read_line(&mut line)).await.expect("nats-server is silent");
        assert!(read.expect("read from nats-server") > 0, "nats-server closed the connection");
        line.trim_end().to_owned()
    }

    /// Publishes `payload` to `subject` and returns the reply's payload.
    async fn request(&mut self, subject: &str, payload: &str) -> String {
        self.send(&format!("PUB {subject} {INBOX} {}\r\n{payload}\r\n", payload.len())).await;
        loop {
            let line = self.line().await;
            if line == "PING" {
                self.send("PONG\r\n").await;
                continue;
            }
            assert!(!line.starts_with("-ERR"), "nats-server: {line}");
            let size: usize = match line.strip_prefix("MSG ") {
                Some(rest) => rest.rsplit(' ').next().and_then(|n| n.parse().ok()).expect("MSG has a size"),
                None => continue,
            };
            let mut payload = vec![0; size + 2];
            self.stream.read_exact(&mut payload).await.expect("read MSG payload");
            payload.truncate(size);
            return String::from_utf8(payload).expect("reply is UTF-8");
        }
    }
}

/// The replies of JetStream's API and its publish acks are JSON without spaces.
fn assert_contains(reply: &str, expected: &str) {
    assert!(reply.contains(expected), "expected {expected} in {reply}");
}

async fn create_stream_with_one_message(server: &NatsServer) {
    let (mut nats, _) = Connection::open(server).await;
    let created = nats
        .request("$JS.API.STREAM.CREATE.ORDERS", r#"{"name":"ORDERS","subjects":["orders.>"],"storage":"file"}"#)
        .await;
    assert_contains(&created, r#""type":"io.nats.jetstream.api.v1.stream_create_response""#);
    assert!(!created.contains(r#""error""#), "stream not created: {created}");
    let ack = nats.request("orders.1", "first order").await;
    assert_contains(&ack, r#""stream":"ORDERS""#);
    assert_contains(&ack, r#""seq":1"#);
}

async fn assert_stream_has_one_message(server: &NatsServer) {
    let (mut nats, _) = Connection::open(server).await;
    let info = nats.request("$JS.API.STREAM.INFO.ORDERS", "").await;
    assert_contains(&info, r#""messages":1,"#);
}

#[tokio::test]
async fn server_has_jetstream_and_comes_back_on_the_same_port_with_its_streams() {
    let Some(mut server) = NatsServer::start().await else {
        return;
    };
    let port = server.port();
    assert_eq!(server.url(), format!("nats://127.0.0.1:{port}"));

    let (_, info) = Connection::open(&server).await;
    assert_contains(&info, r#""jetstream":true"#);
    assert_contains(&info, &format!(r#""port":{port}"#));
    create_stream_with_one_message(&server).await;

    server.stop();
    assert!(!server.is_running());
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err(), "server still accepts after stop");

    server.restart().await;
    assert_eq!(server.port(), port);
    let (_, info) = Connection::open(&server).await;
    assert_contains(&info, r#""jetstream":true"#);
    assert_stream_has_one_message(&server).await;
}

#[tokio::test]
async fn acknowledged_messages_survive_a_kill() {
    let Some(mut server) = NatsServer::start().await else {
        return;
    };
    create_stream_with_one_message(&server).await;

    server.kill();
    server.restart().await;
    assert_stream_has_one_message(&server).await;

    // A restart of a running server stops it first.
    server.restart().await;
    assert_stream_has_one_message(&server).await;
}

#[tokio::test]
async fn servers_do_not_share_ports_or_storage_and_drop_removes_the_storage() {
    let Some(first) = NatsServer::start().await else {
        return;
    };
    let second = NatsServer::start().await.expect("a second server, as the first was found");
    assert_ne!(first.port(), second.port());
    assert_ne!(first.store_dir(), second.store_dir());
    create_stream_with_one_message(&first).await;
    let (mut nats, _) = Connection::open(&second).await;
    assert_contains(&nats.request("$JS.API.STREAM.INFO.ORDERS", "").await, r#""code":404"#);

    let store_dir = first.store_dir().to_owned();
    assert!(store_dir.join("jetstream").is_dir(), "no JetStream files in {}", store_dir.display());
    drop(first);
    assert!(!store_dir.exists(), "{} left behind", store_dir.display());
}

#[tokio::test]
async fn monitoring_reports_jetstream_healthy() {
    let Some(server) = NatsServer::start().await else {
        return;
    };
    let health = reqwest::get(format!("{}/healthz", server.monitor_url())).await.expect("GET /healthz");
    assert_eq!(health.status(), 200);
}
