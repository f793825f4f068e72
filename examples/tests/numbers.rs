//! Numbers arrive exactly as sent, bit for bit, on every channel; NaN and the infinities,
//! which JSON cannot carry, fail a JSON call with a clear error instead of turning into
//! `null`.

use courier::{client::HttpClient, prelude::*, ErrorCode};
use courier_samples::{Greeter, GreeterComponent, Node, Sample};

/// Doubles at the edges: signed zero, subnormals, the extremes, and values that need
/// all 17 significant digits.
const DOUBLES: [f64; 14] = [
    -0.0,
    0.0,
    5e-324,
    -2.225_073_858_507_201e-308,
    f64::MIN_POSITIVE,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    0.300_000_000_000_000_04,
    1.000_000_000_000_000_2,
    123_456_789.123_456_79,
    9_007_199_254_740_993.0,
    -1.797_693_134_862_315_7e308,
    std::f64::consts::PI,
];

const FLOATS: [f32; 7] = [-0.0, 1e-45, f32::MIN_POSITIVE, f32::MAX, f32::MIN, 0.1, 16_777_217.0];

const LONGS: [i64; 5] = [i64::MIN, i64::MAX, -1, 0, 9_007_199_254_740_993];

const UNSIGNED: [u64; 4] = [u64::MAX, 0, 1 << 53, (1 << 53) + 1];

async fn start(registry: &LocalRegistry) -> Server {
    Server::builder().registry(registry.clone()).component(GreeterComponent).start().await.expect("server starts")
}

#[tokio::test]
async fn every_number_comes_back_bit_for_bit_on_every_channel() {
    let registry = LocalRegistry::new();
    let _server = start(&registry).await;
    let http1 = HttpClient::builder().multiplex(false).build();
    let managers = [
        ServiceManager::new(registry.clone()),
        ServiceManager::builder().registry(registry).http_client(http1).build(),
    ];
    let channels = std::iter::once(ChannelKind::Local).chain(ChannelKind::REMOTE.iter().copied());
    for (channel, services) in channels.flat_map(|channel| managers.iter().map(move |m| (channel, m))) {
        let greeter = services.proxy::<dyn Greeter>().channel(channel).build().expect("proxy");
        for (index, (value, id)) in DOUBLES.iter().zip(UNSIGNED.iter().cycle()).enumerate() {
            let sent = Node { value: *value, id: *id, ..Node::default() };
            let got = greeter.echo(sent.clone()).await.expect("echo");
            assert_eq!(got.value.to_bits(), value.to_bits(), "{channel}: {value:e} came back as {:e}", got.value);
            assert_eq!(got.id, *id, "{channel}: u64 #{index}");
        }
        for (ratio, large) in FLOATS.iter().zip(LONGS.iter().cycle()) {
            let sent = Sample { ratio: *ratio, large: *large, numbers: LONGS.to_vec(), ..Sample::default() };
            let got = greeter.inspect(sent).await.expect("inspect");
            assert_eq!(got.ratio.to_bits(), ratio.to_bits(), "{channel}: {ratio:e} came back as {:e}", got.ratio);
            assert_eq!((got.large, got.numbers.as_slice()), (*large, LONGS.as_slice()), "{channel}");
        }
    }
}

#[tokio::test]
async fn nan_and_infinities_fail_a_json_call_clearly_and_travel_on_the_binary_channels() {
    let registry = LocalRegistry::new();
    let _server = start(&registry).await;
    let services = ServiceManager::new(registry);
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for channel in [ChannelKind::DispatchJson, ChannelKind::Rest] {
            let greeter = services.proxy::<dyn Greeter>().channel(channel).build().expect("proxy");
            let error = greeter.echo(Node { value, ..Node::default() }).await.expect_err("JSON has no form for it");
            assert_eq!(error.code, ErrorCode::BadRequest, "{channel}: {error}");
            assert!(error.message.contains("has no JSON form"), "{channel}: {error}");
        }
        for channel in [ChannelKind::DispatchMsgpack, ChannelKind::DispatchProtobuf] {
            let greeter = services.proxy::<dyn Greeter>().channel(channel).build().expect("proxy");
            let got = greeter.echo(Node { value, ..Node::default() }).await.expect("carried");
            assert_eq!(got.value.to_bits(), value.to_bits(), "{channel}");
        }
    }
}
