//! The sample services: what courier's examples run, and its tests and benchmarks call.

mod ledger;
mod reports;

pub use ledger::{Auditor, Ledger, LedgerComponent};
pub use reports::{RenderCounts, Renderer, Report, ReportError, ReportSpec, Reports, ReportsComponent};

use courier::prelude::*;

/// The examples' services that are declared for protobuf, whose `.proto` files are
/// committed in `proto/`.
pub fn protobuf_services() -> [&'static courier::service::ServiceDescriptor; 3] {
    use courier::service::Service;
    [<dyn Greeter as Service>::DESCRIPTOR, <dyn Reports as Service>::DESCRIPTOR, <dyn Ledger as Service>::DESCRIPTOR]
}

/// A tree of named values: the payload the channels are tested and measured with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
pub struct Node {
    /// A label.
    pub name: String,
    /// An identifier.
    pub id: u64,
    /// A measurement.
    pub value: f64,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// The subtrees.
    pub children: Vec<Node>,
}

impl Node {
    /// A full tree `depth` levels below the root, with `fanout` children per node.
    pub fn tree(depth: u32, fanout: usize) -> Self {
        Self::grow(depth, fanout, &mut 0)
    }

    fn grow(depth: u32, fanout: usize, next_id: &mut u64) -> Self {
        *next_id += 1;
        let id = *next_id;
        Self {
            name: format!("node-{id}"),
            id,
            value: id as f64 * 1.5,
            tags: vec!["courier".into(), format!("depth-{depth}")],
            children: match depth {
                0 => Vec::new(),
                _ => (0..fanout).map(|_| Self::grow(depth - 1, fanout, next_id)).collect(),
            },
        }
    }

    /// How many nodes the tree holds.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Node::count).sum::<usize>()
    }
}

/// Every kind of field the channels carry: scalars, optionals, bytes, repeats, and a
/// recursive optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ProtoMessage)]
pub struct Sample {
    /// A flag.
    pub flag: bool,
    /// A small signed number.
    pub small: i32,
    /// A large signed number.
    pub large: i64,
    /// An unsigned number.
    pub unsigned: u32,
    /// A single-precision ratio.
    pub ratio: f32,
    /// A name that may be missing.
    pub nickname: Option<String>,
    /// A score that may be missing, and is distinct from zero when present.
    pub score: Option<i64>,
    /// Raw bytes.
    pub blob: Vec<u8>,
    /// A repeated number.
    pub numbers: Vec<i64>,
    /// The sample this one was derived from.
    pub parent: Option<Box<Sample>>,
}

impl Sample {
    /// A sample with every field set, one level of parent deep.
    pub fn full() -> Self {
        let parent = Self { nickname: Some(String::new()), score: Some(0), ..Self::default() };
        Self {
            flag: true,
            small: -7,
            large: i64::MIN,
            unsigned: u32::MAX,
            ratio: 0.25,
            nickname: Some("sam".into()),
            score: Some(-3),
            blob: vec![0, 1, 2, 255],
            numbers: vec![1, -1, i64::MAX],
            parent: Some(Box::new(parent)),
        }
    }
}

/// A domain error that crosses the wire as itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
pub enum GreetingError {
    /// The name was refused, with the reason.
    #[error("refused to greet {name}: {reason}")]
    Refused {
        /// Who was refused.
        name: String,
        /// Why.
        reason: String,
    },
    /// courier could not deliver the call.
    #[error(transparent)]
    Courier(#[from] ServiceError),
}

/// Greets people and echoes trees.
#[service(name = "greeter", protobuf)]
#[rest("/api")]
pub trait Greeter {
    /// A greeting for `name`.
    #[idempotent]
    #[get("/hello/{name}")]
    async fn hello(&self, name: String) -> Result<String, ServiceError>;

    /// A greeting, unless the name is on the list of the refused.
    #[post("/greet")]
    async fn greet(&self, name: String, excited: bool) -> Result<String, GreetingError>;

    /// The tree, unchanged.
    #[idempotent]
    #[post("/echo")]
    async fn echo(&self, tree: Node) -> Result<Node, ServiceError>;

    /// Which instance answered: tells load spreading apart in tests.
    #[idempotent]
    #[get("/whoami")]
    async fn whoami(&self) -> Result<String, ServiceError>;

    /// The sample, unchanged.
    #[post("/inspect")]
    async fn inspect(&self, sample: Sample) -> Result<Sample, ServiceError>;

    /// Nothing, successfully.
    #[delete("/ping")]
    async fn ping(&self) -> Result<(), ServiceError>;

    /// The tree, with the id given and, if one is given, a new name.
    #[patch("/trees/{id}")]
    async fn rename(&self, id: u64, #[query] name: Option<String>, #[body] tree: Node) -> Result<Node, ServiceError>;
}

/// The component that runs [`Greeter`].
#[component(name = "greeter-component", services = [Greeter])]
#[derive(Debug)]
pub struct GreeterComponent;

/// How long `hello` takes, from `COURIER_HELLO_DELAY_MS`: lets benchmarks and tests run
/// a slow instance beside fast ones.
static HELLO_DELAY: std::sync::LazyLock<Option<std::time::Duration>> = std::sync::LazyLock::new(|| {
    std::env::var("COURIER_HELLO_DELAY_MS").ok()?.parse().ok().map(std::time::Duration::from_millis)
});

/// The implementation of [`Greeter`].
#[derive(Debug, Default)]
pub struct Polite {
    name: Option<String>,
}

impl Polite {
    /// An implementation that answers `whoami` with `name`; by default it answers with
    /// `COURIER_INSTANCE`, or its process id.
    pub fn named(name: impl Into<String>) -> Arc<Self> {
        Arc::new(Self { name: Some(name.into()) })
    }
}

#[implementation]
impl Greeter for Polite {
    async fn hello(&self, name: String) -> Result<String, ServiceError> {
        if let Some(delay) = *HELLO_DELAY {
            tokio::time::sleep(delay).await;
        }
        Ok(format!("Hello, {name}!"))
    }

    async fn greet(&self, name: String, excited: bool) -> Result<String, GreetingError> {
        if name.eq_ignore_ascii_case("mallory") {
            return Err(GreetingError::Refused { name, reason: "on the list".into() });
        }
        Ok(format!("Hello, {name}{}", if excited { "!" } else { "." }))
    }

    async fn echo(&self, tree: Node) -> Result<Node, ServiceError> {
        Ok(tree)
    }

    async fn whoami(&self) -> Result<String, ServiceError> {
        if let Some(name) = &self.name {
            return Ok(name.clone());
        }
        Ok(std::env::var("COURIER_INSTANCE").unwrap_or_else(|_| format!("pid-{}", std::process::id())))
    }

    async fn inspect(&self, sample: Sample) -> Result<Sample, ServiceError> {
        Ok(sample)
    }

    async fn ping(&self) -> Result<(), ServiceError> {
        Ok(())
    }

    async fn rename(&self, id: u64, name: Option<String>, tree: Node) -> Result<Node, ServiceError> {
        Ok(Node { id, name: name.unwrap_or(tree.name), ..tree })
    }
}
