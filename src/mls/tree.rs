//! The ratchet tree (RFC 9420 §4, §7): array arithmetic, the public tree with cached hashes
//! and staged diffs, validation of received trees, and TreeKEM.

mod hashes;
pub mod math;
pub mod ratchet_tree;
pub mod treekem;
pub mod verify;

#[cfg(test)]
pub(crate) mod testing;

pub use ratchet_tree::{RatchetTree, TreeChanges, TreeDiff};
pub use treekem::{DecryptedPath, LeafTemplate, PathSecret, PreparedPath, TreePrivateKeys};
