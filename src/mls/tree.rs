//! The ratchet tree (RFC 9420 §4, §7): array arithmetic, the public tree with cached hashes
//! and staged diffs, validation of received trees, and TreeKEM.

mod hashes;
pub(crate) mod math;
pub(crate) mod ratchet_tree;
pub(crate) mod treekem;
pub(crate) mod verify;

#[cfg(test)]
pub(crate) mod testing;

pub(crate) use ratchet_tree::{RatchetTree, TreeChanges, TreeDiff};
pub(crate) use treekem::{LeafTemplate, PathSecret, TreePrivateKeys};
