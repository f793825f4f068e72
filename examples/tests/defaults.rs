//! What a proxy does when its user sets nothing: no call waits forever.

use courier::{
    client::{HttpClient, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT},
    prelude::*,
    ErrorCode,
};
use courier_samples::Greeter;
use std::time::Duration;

#[tokio::test]
async fn a_peer_that_accepts_and_never_answers_fails_the_call_within_the_default_timeouts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection); // accepted, read from never, answered never
        }
    });
    let registry = LocalRegistry::new();
    registry.add_peer("greeter-component", &url);
    // Multiplexed, the connection is not made (its upgrade is never answered) within the
    // connect timeout; over HTTP/1.1 the request goes out and its answer never comes.
    for (multiplex, code) in [(true, ErrorCode::Unavailable), (false, ErrorCode::Timeout)] {
        let client = HttpClient::builder().multiplex(multiplex).build();
        let services = ServiceManager::builder().registry(registry.clone()).http_client(client).build();
        let greeter = services.get::<dyn Greeter>().unwrap();
        let bound = DEFAULT_TIMEOUT.max(DEFAULT_CONNECT_TIMEOUT) + Duration::from_secs(5);
        let call = tokio::time::timeout(bound, greeter.hello("anyone".into()));
        let error = call.await.expect("the call ends by itself").unwrap_err();
        assert_eq!(error.code, code, "multiplex {multiplex}: {error}");
        assert!(error.message.contains(if multiplex { "connect timed out" } else { "deadline" }), "{error}");
    }
}
