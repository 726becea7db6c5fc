//! Ratchet tree nodes and the `ratchet_tree` encoding (RFC 9420 §7.1, §12.4.3.3).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{InvalidMessage, Result};

use super::{LeafNode, MAX_VEC_LEN};

/// An interior node of the ratchet tree (RFC 9420 §7.1).
///
/// The RFC requires `unmerged_leaves` to be sorted in increasing order; that is checked by
/// tree validation, not here, so the value is kept exactly as sent.
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     opaque parent_hash<V>;
///     uint32 unmerged_leaves<V>;
/// } ParentNode;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParentNode {
    /// `HPKEPublicKey encryption_key` (`opaque <V>`).
    pub encryption_key: Vec<u8>,
    /// The parent hash of this node's parent (§7.9).
    pub parent_hash: Vec<u8>,
    /// Leaf indices below this node that do not know its private key.
    pub unmerged_leaves: Vec<u32>,
}

impl Decode for ParentNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            encryption_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            parent_hash: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            unmerged_leaves: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for ParentNode {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.encryption_key);
        w.write_opaque(&self.parent_hash);
        w.write_vec(&self.unmerged_leaves);
    }
}

/// A non-blank node of the ratchet tree (RFC 9420 §12.4.3.3).
///
/// Both variants are boxed so a blank entry of a decoded tree costs 16 bytes, not the size
/// of a `LeafNode`: a hostile 1-byte blank cannot make us allocate hundreds.
///
/// ```text
/// enum { reserved(0), leaf(1), parent(2), (255) } NodeType;
///
/// struct {
///     NodeType node_type;
///     select (Node.node_type) {
///         case leaf:   LeafNode leaf_node;
///         case parent: ParentNode parent_node;
///     };
/// } Node;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    /// `leaf(1)`.
    Leaf(Box<LeafNode>),
    /// `parent(2)`.
    Parent(Box<ParentNode>),
}

impl Decode for Node {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::Leaf(Box::new(LeafNode::decode(r)?))),
            2 => Ok(Self::Parent(Box::new(ParentNode::decode(r)?))),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for Node {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Leaf(leaf) => {
                w.write_u8(1);
                leaf.encode(w);
            }
            Self::Parent(parent) => {
                w.write_u8(2);
                parent.encode(w);
            }
        }
    }
}

/// The public ratchet tree as sent in the `ratchet_tree` extension (RFC 9420 §12.4.3.3):
/// the nodes in array order (Appendix C), `None` for a blank node.
///
/// Decoding enforces the shape of the encoding: the RFC says the receiver MUST check that
/// the last node is non-blank (so the vector is non-empty), and in array order even
/// positions are leaves and odd positions are parents. Everything else (hashes, keys,
/// signatures, unmerged leaves) is left to tree validation.
///
/// ```text
/// optional<Node> ratchet_tree<V>;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatchetTree(pub(crate) Vec<Option<Node>>);

impl RatchetTree {
    /// Decodes a whole `ratchet_tree` value of at most `max_nodes` nodes, refusing a longer
    /// one as soon as its node `max_nodes + 1` starts (before it is held in memory: a
    /// blank node is one byte on the wire).
    ///
    /// # Errors
    /// [`PeerMisbehaved::LimitExceeded`](crate::error::PeerMisbehaved::LimitExceeded) for
    /// too many nodes; as [`Decode::decode_exact`] otherwise.
    pub(crate) fn decode_bounded(bytes: &[u8], max_nodes: usize) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let mut body = r.sub(MAX_VEC_LEN)?;
        r.finish()?;
        let mut nodes = Vec::new();
        while !body.is_empty() {
            if nodes.len() >= max_nodes {
                return Err(crate::error::PeerMisbehaved::LimitExceeded.into());
            }
            nodes.push(Option::<Node>::decode(&mut body)?);
        }
        Self::check_shape(nodes)
    }

    fn check_shape(nodes: Vec<Option<Node>>) -> Result<Self> {
        if !matches!(nodes.last(), Some(Some(_))) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let shape_ok = nodes.iter().enumerate().all(|(i, n)| match n {
            None => true,
            Some(Node::Leaf(_)) => i % 2 == 0,
            Some(Node::Parent(_)) => i % 2 == 1,
        });
        if !shape_ok {
            return Err(InvalidMessage::InvalidValue.into());
        }
        Ok(Self(nodes))
    }
}

impl Decode for RatchetTree {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Self::check_shape(r.read_vec(MAX_VEC_LEN)?)
    }
}

impl Encode for RatchetTree {
    fn encode(&self, w: &mut Writer) {
        w.write_vec(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mls::wire::leaf_node::tests::sample as sample_leaf;
    use crate::mls::wire::testing::check_round_trip;
    use crate::mls::wire::LeafNodeSource;

    fn leaf() -> Option<Node> {
        Some(Node::Leaf(Box::new(sample_leaf(LeafNodeSource::Update))))
    }

    fn parent() -> Option<Node> {
        Some(Node::Parent(Box::new(ParentNode {
            encryption_key: vec![9; 32],
            parent_hash: vec![8; 32],
            unmerged_leaves: vec![0, 2],
        })))
    }

    #[test]
    fn trees_round_trip_and_every_truncation_fails() {
        check_round_trip(&RatchetTree(vec![leaf()]));
        check_round_trip(&RatchetTree(vec![leaf(), parent(), None, None, leaf()]));
        check_round_trip(&RatchetTree(vec![None, None, leaf()]));
    }

    #[test]
    fn trailing_blank_and_empty_trees_are_rejected() {
        for nodes in [vec![], vec![leaf(), None], vec![leaf(), parent(), None]] {
            let bytes = RatchetTree(nodes).to_bytes().unwrap();
            assert_eq!(
                RatchetTree::decode_exact(&bytes),
                Err(InvalidMessage::InvalidValue.into())
            );
        }
    }

    #[test]
    fn nodes_in_the_wrong_position_are_rejected() {
        for nodes in [vec![parent()], vec![leaf(), leaf()], vec![None, leaf()]] {
            let bytes = RatchetTree(nodes).to_bytes().unwrap();
            assert_eq!(
                RatchetTree::decode_exact(&bytes),
                Err(InvalidMessage::InvalidValue.into())
            );
        }
    }

    #[test]
    fn bad_node_type_and_presence_are_rejected() {
        let bytes = RatchetTree(vec![leaf()]).to_bytes().unwrap();
        // bytes: vector prefix (2 bytes), presence octet, node type, leaf...
        for (pos, value, err) in [
            (2, 2, InvalidMessage::InvalidOptionalPresence),
            (3, 0, InvalidMessage::InvalidValue),
            (3, 3, InvalidMessage::InvalidValue),
        ] {
            let mut bad = bytes.clone();
            bad[pos] = value;
            assert_eq!(RatchetTree::decode_exact(&bad), Err(err.into()));
        }
    }

    #[test]
    fn a_blank_node_costs_little_memory() {
        // Guards the allocation bound: 1 encoded byte per blank -> 16 bytes in memory.
        assert!(size_of::<Option<Node>>() <= 16);
    }
}
