//! Two versions of one service, as a fleet runs them mid-upgrade: v2 adds a field to an
//! argument, a field to a result and a method. Old callers reach new instances and new
//! callers old ones, on every remote channel; the new method, called on an old instance,
//! is a clear `not_found`.

use courier::{client::HttpClient, prelude::*, server::ServerBuilder, service::Service, ErrorCode};

pub mod v1 {
    use courier::prelude::*;

    /// What is ordered.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
    pub struct Item {
        pub name: String,
        pub price: f64,
    }

    /// What an order answers.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
    pub struct Receipt {
        pub id: u64,
        pub total: f64,
    }

    #[service(name = "shop", protobuf)]
    #[rest("/shop")]
    pub trait Shop {
        #[post("/orders")]
        async fn order(&self, item: Item, quantity: u32) -> Result<Receipt, ServiceError>;
    }

    #[component(name = "shop-component", services = [Shop])]
    #[derive(Debug)]
    pub struct ShopComponent;

    #[derive(Debug, Default)]
    pub struct Till;

    #[implementation(manual)]
    impl Shop for Till {
        async fn order(&self, item: Item, quantity: u32) -> Result<Receipt, ServiceError> {
            Ok(Receipt { id: 1, total: item.price * f64::from(quantity) })
        }
    }
}

pub mod v2 {
    use courier::prelude::*;

    /// What is ordered; `gift_wrap` is new, and defaults when an old caller leaves it out.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
    #[proto(reserved = [7])]
    pub struct Item {
        pub name: String,
        pub price: f64,
        #[serde(default)]
        #[proto(tag = 3)]
        pub gift_wrap: bool,
    }

    /// What an order answers; `note` is new.
    #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
    pub struct Receipt {
        pub id: u64,
        pub total: f64,
        #[serde(default)]
        pub note: Option<String>,
    }

    #[service(name = "shop", protobuf)]
    #[rest("/shop")]
    pub trait Shop {
        #[post("/orders")]
        async fn order(&self, item: Item, quantity: u32) -> Result<Receipt, ServiceError>;

        /// New in v2.
        #[post("/refunds")]
        async fn refund(&self, id: u64) -> Result<f64, ServiceError>;
    }

    #[component(name = "shop-component", services = [Shop])]
    #[derive(Debug)]
    pub struct ShopComponent;

    #[derive(Debug, Default)]
    pub struct Till;

    #[implementation(manual)]
    impl Shop for Till {
        async fn order(&self, item: Item, quantity: u32) -> Result<Receipt, ServiceError> {
            let note = item.gift_wrap.then(|| "gift wrapped".to_owned());
            Ok(Receipt { id: 2, total: item.price * f64::from(quantity), note })
        }

        async fn refund(&self, _id: u64) -> Result<f64, ServiceError> {
            Ok(0.0)
        }
    }
}

/// A server of one version, in a registry of its own, and managers of both transports.
async fn serve(builder: ServerBuilder) -> (Server, [ServiceManager; 2]) {
    let registry = LocalRegistry::new();
    let server = builder.registry(registry.clone()).start().await.expect("server starts");
    let http1 = HttpClient::builder().multiplex(false).build();
    let managers = [
        ServiceManager::new(registry.clone()),
        ServiceManager::builder().registry(registry).http_client(http1).build(),
    ];
    (server, managers)
}

#[tokio::test]
async fn old_callers_reach_new_instances_and_new_callers_old_ones_on_every_channel() {
    let (_new, to_new) =
        serve(Server::builder().component(v2::ShopComponent).service::<dyn v2::Shop>(Arc::new(v2::Till))).await;
    let (_old, to_old) =
        serve(Server::builder().component(v1::ShopComponent).service::<dyn v1::Shop>(Arc::new(v1::Till))).await;
    for &channel in ChannelKind::REMOTE {
        for (old_callers, new_callers) in to_new.iter().zip(&to_old) {
            // v1 → v2: the new field of the argument defaults; the new field of the
            // result is skipped.
            let shop = old_callers.proxy::<dyn v1::Shop>().channel(channel).build().expect("proxy");
            let receipt = shop.order(v1::Item { name: "tea".into(), price: 2.5 }, 4).await.expect("v1 → v2");
            assert_eq!(receipt, v1::Receipt { id: 2, total: 10.0 }, "{channel}");

            // v2 → v1: the new field of the argument is skipped; the new field of the
            // result defaults.
            let shop = new_callers.proxy::<dyn v2::Shop>().channel(channel).build().expect("proxy");
            let item = v2::Item { name: "tea".into(), price: 2.5, gift_wrap: true };
            let receipt = shop.order(item, 4).await.expect("v2 → v1");
            assert_eq!(receipt, v2::Receipt { id: 1, total: 10.0, note: None }, "{channel}");

            // The new method is not there yet.
            let error = shop.refund(1).await.expect_err("v1 has no refunds");
            assert_eq!(error.code, ErrorCode::NotFound, "{channel}: {error}");
        }
    }
    // And v2 to v2 carries the new fields.
    let shop = to_new[0].get::<dyn v2::Shop>().expect("proxy");
    let item = v2::Item { name: "tea".into(), price: 2.5, gift_wrap: true };
    assert_eq!(shop.order(item, 1).await.expect("v2 → v2").note.as_deref(), Some("gift wrapped"));
}

#[test]
fn pinned_and_reserved_field_numbers_show_in_the_schema() {
    let schema = (<dyn v2::Shop as Service>::DESCRIPTOR.protobuf.expect("a protobuf service"))();
    assert!(
        schema.contains(
            "message Item {\n  reserved 7;\n  string name = 1;\n  double price = 2;\n  bool gift_wrap = 3;\n}"
        ),
        "{schema}"
    );
}
