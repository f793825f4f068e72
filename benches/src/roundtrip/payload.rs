//! What a round sends: a tree of a given number of nodes, or one node carrying a blob.

use courier_samples::Node;

/// How many children a node of a payload tree has, at most.
const FANOUT: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payload {
    /// A balanced tree of this many nodes.
    Nodes(usize),
    /// One node whose name is this many bytes.
    Blob(usize),
}

impl Payload {
    /// The payload of the main table: a tree of 13 nodes, three levels deep.
    pub(crate) const STANDARD: Self = Self::Nodes(13);

    /// The payloads of the growth table, smallest first.
    pub(crate) const GROWTH: [Self; 4] = [Self::Nodes(1), Self::STANDARD, Self::Nodes(1000), Self::Blob(1 << 20)];

    /// The value sent.
    pub(crate) fn node(self) -> Node {
        match self {
            Self::Nodes(count) => tree(count.max(1), 0, &mut 0),
            Self::Blob(bytes) => {
                Node { name: "x".repeat(bytes), id: 1, value: 1.5, tags: Vec::new(), children: Vec::new() }
            }
        }
    }

    pub(crate) fn label(self) -> String {
        match self {
            Self::Nodes(1) => "1 node".to_owned(),
            Self::Nodes(count) => format!("{count} nodes"),
            Self::Blob(bytes) if bytes % (1 << 20) == 0 => format!("{} MiB blob", bytes >> 20),
            Self::Blob(bytes) => format!("{bytes} B blob"),
        }
    }
}

/// A tree of exactly `count` nodes at `level` and below, each with up to [`FANOUT`]
/// children, its nodes shared out among them as evenly as they go.
fn tree(count: usize, level: usize, next_id: &mut u64) -> Node {
    *next_id += 1;
    let id = *next_id;
    let below = count - 1;
    let children = below.min(FANOUT);
    Node {
        name: format!("node-{id}"),
        id,
        value: id as f64 * 1.5,
        tags: vec!["courier".into(), format!("level-{level}")],
        children: (0..children)
            .map(|child| tree(below / children + usize::from(child < below % children), level + 1, next_id))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_has_the_nodes_asked_for_and_a_blob_its_bytes() {
        for count in [1, 2, 13, 1000] {
            assert_eq!(Payload::Nodes(count).node().count(), count);
        }
        assert_eq!(Payload::STANDARD.node().children.len(), 3);
        assert_eq!(Payload::Blob(1 << 20).node().name.len(), 1 << 20);
        assert_eq!(Payload::Blob(1 << 20).label(), "1 MiB blob");
    }
}
