//! Validation of a received ratchet tree (RFC 9420 §7.9.2, §12.4.3.1): parent-hash chains,
//! leaf signatures, unmerged leaves and key uniqueness.
//!
//! ```text
//!  for every non-blank parent P with children (C, S):
//!      ph = Hash(P.encryption_key, P.parent_hash, tree_hash(S with P.unmerged_leaves blanked))
//!      D in resolution(C) is a valid child iff D.parent_hash == ph and
//!          P.unmerged_leaves ∩ subtree(C) == resolution(C) \ {D}
//!  P is parent-hash valid iff exactly one such D exists (over both sides).
//! ```

use std::collections::HashSet;

use crate::crypto::Digest;
use crate::error::{InvalidMessage, PeerMisbehaved, Result};
use crate::mls::wire::{LeafNodeSource, Node, ParentNode};

use super::hashes;
use super::math::{LeafIndex, NodeIndex};
use super::ratchet_tree::{RatchetTree, TreeDiff};

/// The label of a LeafNode signature (RFC 9420 §7.2).
pub(crate) const LEAF_NODE_LABEL: &[u8] = b"LeafNodeTBS";

/// Whether `x` lies in the subtree headed by `head`.
pub(crate) const fn in_subtree(head: NodeIndex, x: NodeIndex) -> bool {
    let span = (1u32 << head.level()) - 1;
    x.0 + span >= head.0 && x.0 <= head.0 + span
}

/// Checks that every non-blank parent node is parent-hash valid (RFC 9420 §7.9.2).
///
/// # Errors
/// [`PeerMisbehaved::ParentHashInvalid`] for the first parent that is not.
pub(crate) fn verify_parent_hashes(tree: &RatchetTree) -> Result<()> {
    let view = TreeDiff::new(tree);
    for x in (1..tree.size().width()).step_by(2) {
        let p = NodeIndex(x);
        let Some(Node::Parent(parent)) = tree.node(p) else {
            continue;
        };
        let (Some(left), Some(right)) = (p.left(), p.right()) else {
            continue;
        };
        let mut valid = 0usize;
        for (c, s) in [(left, right), (right, left)] {
            let unmerged: Vec<NodeIndex> = parent
                .unmerged_leaves
                .iter()
                .map(|&l| LeafIndex(l).node())
                .collect();
            let sibling_hash = original_tree_hash(tree, s, &unmerged)?;
            let ph = hashes::parent_hash(
                tree.suite(),
                &parent.encryption_key,
                &parent.parent_hash,
                sibling_hash.as_bytes(),
            )?;
            let resolution = view.resolution(c)?;
            let unmerged_under_c: HashSet<NodeIndex> = unmerged
                .iter()
                .copied()
                .filter(|&u| in_subtree(c, u))
                .collect();
            for &d in &resolution {
                let d_parent_hash = match tree.node(d) {
                    Some(Node::Parent(dp)) => dp.parent_hash.as_slice(),
                    Some(Node::Leaf(leaf)) => match &leaf.leaf_node_source {
                        LeafNodeSource::Commit { parent_hash } => parent_hash.as_slice(),
                        _ => continue,
                    },
                    None => continue,
                };
                if d_parent_hash != ph.as_bytes() {
                    continue;
                }
                let rest: HashSet<NodeIndex> =
                    resolution.iter().copied().filter(|&r| r != d).collect();
                if rest == unmerged_under_c {
                    valid += 1;
                }
            }
        }
        if valid != 1 {
            return Err(PeerMisbehaved::ParentHashInvalid.into());
        }
    }
    Ok(())
}

/// The tree hash of `head` in the tree with the leaves `removed` blanked and removed from
/// every parent's unmerged leaves (`original_sibling_tree_hash`, RFC 9420 §7.9). Subtrees
/// without a removed leaf reuse the cached hash.
fn original_tree_hash(
    tree: &RatchetTree,
    head: NodeIndex,
    removed: &[NodeIndex],
) -> Result<Digest> {
    if !removed.iter().any(|&r| in_subtree(head, r)) {
        return Ok(tree.hash(head));
    }
    if head.is_leaf() {
        // The leaf itself is removed: hash it as blank.
        return hashes::node_hash(tree.suite(), head, None, None, None);
    }
    let (Some(l), Some(r)) = (head.left(), head.right()) else {
        return Err(crate::error::Error::Internal("parent without children"));
    };
    let lh = original_tree_hash(tree, l, removed)?;
    let rh = original_tree_hash(tree, r, removed)?;
    let node = match tree.node(head) {
        Some(Node::Parent(p)) => {
            let mut p: ParentNode = (**p).clone();
            p.unmerged_leaves
                .retain(|&u| !removed.contains(&LeafIndex(u).node()));
            Some(Node::Parent(Box::new(p)))
        }
        other => other.cloned(),
    };
    hashes::node_hash(tree.suite(), head, node.as_ref(), Some(&lh), Some(&rh))
}

/// Checks the signature of every leaf over its `LeafNodeTBS` (RFC 9420 §7.3), with
/// `group_id` and the leaf index as context for `update` and `commit` leaves.
///
/// # Errors
/// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) for a bad
/// signature; [`InvalidMessage::InvalidKey`] for a malformed signature key.
#[cfg(any(test, fuzzing))]
pub(crate) fn verify_leaf_signatures(tree: &RatchetTree, group_id: &[u8]) -> Result<()> {
    for (l, leaf) in tree.leaves() {
        let key = crate::crypto::SignaturePublicKey::from_bytes(&leaf.signature_key)?;
        let tbs = leaf.to_be_signed(group_id, l.0)?;
        key.verify_with_label(LEAF_NODE_LABEL, &tbs, &leaf.signature)?;
    }
    Ok(())
}

/// The structural checks of RFC 9420 §12.4.3.1 and §7.3 on a received tree: unmerged leaves
/// are sorted, name occupied descendant leaves and appear at every non-blank node between
/// the leaf and the parent; HPKE keys are unique across all nodes; signature keys are unique
/// across leaves.
///
/// # Errors
/// [`PeerMisbehaved::InvalidUnmergedLeaf`] or [`PeerMisbehaved::DuplicateKey`].
pub(crate) fn verify_structure(tree: &RatchetTree) -> Result<()> {
    let size = tree.size();
    let mut encryption_keys: HashSet<&[u8]> = HashSet::new();
    let mut signature_keys: HashSet<&[u8]> = HashSet::new();
    for x in 0..size.width() {
        let n = NodeIndex(x);
        match tree.node(n) {
            None => {}
            Some(Node::Leaf(leaf))
                if !encryption_keys.insert(&leaf.encryption_key)
                    || !signature_keys.insert(&leaf.signature_key) =>
            {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
            Some(Node::Leaf(_)) => {}
            Some(Node::Parent(p)) => {
                if !encryption_keys.insert(&p.encryption_key) {
                    return Err(PeerMisbehaved::DuplicateKey.into());
                }
                if !p
                    .unmerged_leaves
                    .windows(2)
                    .all(|w| matches!(w, [a, b] if a < b))
                {
                    return Err(PeerMisbehaved::InvalidUnmergedLeaf.into());
                }
                for &u in &p.unmerged_leaves {
                    let leaf = LeafIndex(u);
                    if !size.contains_leaf(leaf)
                        || tree.leaf(leaf).is_none()
                        || !in_subtree(n, leaf.node())
                    {
                        return Err(PeerMisbehaved::InvalidUnmergedLeaf.into());
                    }
                    // Every non-blank node between the leaf and `n` lists it too.
                    for between in size.direct_path(leaf.node())? {
                        if between == n {
                            break;
                        }
                        if let Some(Node::Parent(bp)) = tree.node(between) {
                            if bp.unmerged_leaves.binary_search(&u).is_err() {
                                return Err(PeerMisbehaved::InvalidUnmergedLeaf.into());
                            }
                        }
                    }
                }
            }
        }
    }
    if tree.leaves().next().is_none() {
        return Err(InvalidMessage::InvalidValue.into());
    }
    Ok(())
}

/// All checks a joiner runs on a tree (RFC 9420 §12.4.3.1), except the comparison of the
/// root hash with the GroupInfo and the application's credential and capability checks,
/// which need the group's context.
///
/// # Errors
/// As [`verify_structure`], [`verify_parent_hashes`] and [`verify_leaf_signatures`].
#[cfg(any(test, fuzzing))]
pub(crate) fn verify_tree(tree: &RatchetTree, group_id: &[u8]) -> Result<()> {
    verify_structure(tree)?;
    verify_parent_hashes(tree)?;
    verify_leaf_signatures(tree, group_id)
}
