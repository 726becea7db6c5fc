//! Tree hashes and parent hashes (RFC 9420 §7.8, §7.9).
//!
//! ```text
//! struct { uint32 leaf_index; optional<LeafNode> leaf_node; } LeafNodeHashInput;
//! struct { optional<ParentNode> parent_node; opaque left_hash<V>; opaque right_hash<V>; }
//!     ParentNodeHashInput;
//! struct { NodeType node_type; select (node_type) { case leaf: LeafNodeHashInput;
//!     case parent: ParentNodeHashInput; }; } TreeHashInput;
//!
//! struct { HPKEPublicKey encryption_key; opaque parent_hash<V>;
//!     opaque original_sibling_tree_hash<V>; } ParentHashInput;
//! ```

use crate::codec::{Encode, Writer};
use crate::crypto::{Digest, Suite};
use crate::error::{Error, Result};
use crate::mls::wire::Node;

use super::math::NodeIndex;

/// `Hash(TreeHashInput)` of node `i`, given its content and its children's tree hashes.
///
/// # Errors
/// `Internal` for a parent node at a leaf position or a leaf without children hashes, which
/// [`super::RatchetTree`] never holds; an encoding overflow for an absurd node.
pub(crate) fn node_hash(
    suite: &Suite,
    i: NodeIndex,
    node: Option<&Node>,
    left: Option<&Digest>,
    right: Option<&Digest>,
) -> Result<Digest> {
    let mut w = Writer::new();
    if let Some(leaf_index) = i.leaf() {
        w.write_u8(1);
        w.write_u32(leaf_index.0);
        match node {
            None => w.write_u8(0),
            Some(Node::Leaf(leaf)) => {
                w.write_u8(1);
                leaf.encode(&mut w);
            }
            Some(Node::Parent(_)) => return Err(Error::Internal("parent node at a leaf position")),
        }
    } else {
        w.write_u8(2);
        match node {
            None => w.write_u8(0),
            Some(Node::Parent(parent)) => {
                w.write_u8(1);
                parent.encode(&mut w);
            }
            Some(Node::Leaf(_)) => return Err(Error::Internal("leaf node at a parent position")),
        }
        let (Some(l), Some(r)) = (left, right) else {
            return Err(Error::Internal("parent hash without children"));
        };
        w.write_opaque(l.as_bytes());
        w.write_opaque(r.as_bytes());
    }
    Ok(suite.hash(&w.into_bytes()?))
}

/// `Hash(ParentHashInput)`: the parent hash of a node with `encryption_key` and
/// `parent_hash`, relative to its copath child whose original tree hash is given.
///
/// # Errors
/// Only on an encoding overflow.
pub(crate) fn parent_hash(
    suite: &Suite,
    encryption_key: &[u8],
    parent_hash: &[u8],
    original_sibling_tree_hash: &[u8],
) -> Result<Digest> {
    let mut w = Writer::with_capacity(
        encryption_key.len() + parent_hash.len() + original_sibling_tree_hash.len() + 6,
    );
    w.write_opaque(encryption_key);
    w.write_opaque(parent_hash);
    w.write_opaque(original_sibling_tree_hash);
    Ok(suite.hash(&w.into_bytes()?))
}
