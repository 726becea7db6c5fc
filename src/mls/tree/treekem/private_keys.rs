//! [`TreePrivateKeys`]: the HPKE private keys a member holds for nodes of the tree (its leaf
//! and the nodes of its direct path it knows), and the leaf keys of KeyPackages it published.

use std::collections::HashMap;

use crate::crypto::{HpkePrivateKey, HpkePublicKey, Suite};
use crate::error::{Error, Result};
use crate::mls::wire::Node;

use super::super::math::{LeafIndex, NodeIndex};
use super::super::ratchet_tree::{RatchetTree, TreeChanges, TreeDiff};
use super::PathSecret;

/// The HPKE private keys a member holds in the tree: its leaf and the nodes above it whose
/// path secrets it received.
#[derive(Debug)]
pub(crate) struct TreePrivateKeys {
    own_leaf: LeafIndex,
    keys: HashMap<NodeIndex, HpkePrivateKey>,
    /// Leaf key pairs of our Update proposals not yet committed (public key, private key).
    pending: Vec<(Vec<u8>, HpkePrivateKey)>,
}

impl TreePrivateKeys {
    /// The keys of a member at `own_leaf` holding only its leaf key.
    #[must_use]
    pub(crate) fn new(own_leaf: LeafIndex, leaf_key: HpkePrivateKey) -> Self {
        let mut keys = HashMap::new();
        keys.insert(own_leaf.node(), leaf_key);
        Self {
            own_leaf,
            keys,
            pending: Vec::new(),
        }
    }

    /// The keys of a member that just committed a path from `own_leaf` (e.g. an external
    /// joiner): the leaf key and the path keys, as [`PreparedPath::into_keys`] returns them.
    ///
    /// # Errors
    /// `Internal` if `keys` lacks the leaf key.
    pub(crate) fn from_path(
        own_leaf: LeafIndex,
        changes: &TreeChanges,
        keys: Vec<(NodeIndex, HpkePrivateKey)>,
    ) -> Result<Self> {
        let mut map: HashMap<NodeIndex, HpkePrivateKey> = keys.into_iter().collect();
        map.retain(|n, _| changes.size().contains(*n));
        if !map.contains_key(&own_leaf.node()) {
            return Err(Error::Internal("path keys without the leaf key"));
        }
        Ok(Self {
            own_leaf,
            keys: map,
            pending: Vec::new(),
        })
    }

    /// The held keys, ordered by node (for saving a group's state).
    #[must_use]
    pub(crate) fn nodes(&self) -> Vec<(NodeIndex, &HpkePrivateKey)> {
        let mut v: Vec<_> = self.keys.iter().map(|(n, k)| (*n, k)).collect();
        v.sort_by_key(|(n, _)| *n);
        v
    }

    /// Keys restored from a saved state.
    #[must_use]
    pub(crate) fn from_nodes(
        own_leaf: LeafIndex,
        keys: Vec<(NodeIndex, HpkePrivateKey)>,
        pending: Vec<(Vec<u8>, HpkePrivateKey)>,
    ) -> Self {
        Self {
            own_leaf,
            keys: keys.into_iter().collect(),
            pending,
        }
    }

    /// The leaf key pairs of our uncommitted Update proposals.
    #[must_use]
    pub(crate) fn pending(&self) -> &[(Vec<u8>, HpkePrivateKey)] {
        &self.pending
    }

    /// Keeps the key pair of an Update proposal of ours until a commit applies it (then our
    /// leaf carries `public`, and path secrets are encrypted to it).
    pub(crate) fn add_pending_leaf_key(&mut self, public: Vec<u8>, key: HpkePrivateKey) {
        self.pending.push((public, key));
    }

    /// The private key for node `n` of the tree seen through `diff`: for our leaf, the key
    /// matching the leaf's current public key (which an Update of ours may have replaced).
    pub(super) fn key_for(&self, diff: &TreeDiff<'_>, n: NodeIndex) -> Option<&HpkePrivateKey> {
        if n == self.own_leaf.node() {
            if let Some(leaf) = diff.leaf(self.own_leaf) {
                if let Some((_, sk)) = self
                    .pending
                    .iter()
                    .find(|(pk, _)| *pk == leaf.encryption_key)
                {
                    return Some(sk);
                }
            }
        }
        self.keys.get(&n)
    }

    /// The member's leaf.
    #[must_use]
    pub(crate) const fn own_leaf(&self) -> LeafIndex {
        self.own_leaf
    }

    /// The private key of node `n`, if held.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn key(&self, n: NodeIndex) -> Option<&HpkePrivateKey> {
        self.keys.get(&n)
    }

    /// How many node keys are held.
    #[must_use]
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Installs the key of node `n` derived from its path secret (e.g. from a Welcome), and
    /// returns its public key so the caller can check it against the tree.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn insert_path_secret(
        &mut self,
        suite: &Suite,
        n: NodeIndex,
        secret: &PathSecret,
    ) -> Result<HpkePublicKey> {
        let (sk, pk) = secret.key_pair(suite)?;
        self.keys.insert(n, sk);
        Ok(pk)
    }

    /// Before `changes` are merged into `base`: drops the keys of nodes whose key pair the
    /// changes replace or blank (not those that only gain unmerged leaves), and of nodes
    /// beyond a truncation, then installs `new` keys (from an UpdatePath just applied).
    pub(crate) fn apply(
        &mut self,
        base: &RatchetTree,
        changes: &TreeChanges,
        new: Vec<(NodeIndex, HpkePrivateKey)>,
    ) {
        let key = |n: Option<&Node>| -> Option<Vec<u8>> {
            match n {
                Some(Node::Leaf(l)) => Some(l.encryption_key.clone()),
                Some(Node::Parent(p)) => Some(p.encryption_key.clone()),
                None => None,
            }
        };
        for n in changes.changed_nodes() {
            let after = changes.node(n).flatten();
            if after.is_none() || key(after) != key(base.node(n)) {
                self.keys.remove(&n);
            }
        }
        self.keys.retain(|n, _| changes.size().contains(*n));
        // An Update of ours was committed: its key becomes our leaf key.
        if let Some(Some(Node::Leaf(leaf))) = changes.node(self.own_leaf.node()) {
            if let Some(pos) = self
                .pending
                .iter()
                .position(|(pk, _)| *pk == leaf.encryption_key)
            {
                let (_, sk) = self.pending.swap_remove(pos);
                self.keys.insert(self.own_leaf.node(), sk);
            }
        }
        self.pending.clear();
        self.keys.extend(new);
    }
}
