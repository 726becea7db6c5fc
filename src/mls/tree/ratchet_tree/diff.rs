//! [`TreeDiff`]: a ratchet tree with staged changes on top; reads see the changes, writes
//! go to the overlay, and tree hashes are recomputed only along dirty paths.

use std::collections::{HashMap, HashSet};

use crate::crypto::{Digest, Suite};
use crate::error::{ApiMisuse, Error, Result};
use crate::mls::wire::{self, LeafNode, Node, ParentNode};

use super::super::hashes;
use super::super::math::{LeafIndex, NodeIndex, TreeSize};
use super::{encryption_key, RatchetTree, TreeChanges};

/// A view of a tree with staged changes on top: every read sees the changes, every write
/// goes to the overlay, and the base is untouched until [`RatchetTree::merge`].
#[derive(Debug)]
pub(crate) struct TreeDiff<'a> {
    base: &'a RatchetTree,
    changes: TreeChanges,
}

impl<'a> TreeDiff<'a> {
    /// An empty diff over `base`.
    #[must_use]
    pub(crate) fn new(base: &'a RatchetTree) -> Self {
        Self {
            base,
            changes: TreeChanges {
                size: base.size,
                first_free_hint: 0,
                nodes: HashMap::new(),
                computed: HashMap::new(),
                dirty: HashSet::new(),
            },
        }
    }

    /// The staged changes, to merge later.
    #[must_use]
    pub(crate) fn into_changes(self) -> TreeChanges {
        self.changes
    }

    /// The cipher suite.
    #[must_use]
    pub(crate) const fn suite(&self) -> &'a Suite {
        &self.base.suite
    }

    /// The number of leaves after the staged changes.
    #[must_use]
    pub(crate) const fn size(&self) -> TreeSize {
        self.changes.size
    }

    /// The node at `i` after the staged changes.
    #[must_use]
    pub(crate) fn node(&self, i: NodeIndex) -> Option<&Node> {
        if !self.changes.size.contains(i) {
            return None;
        }
        match self.changes.nodes.get(&i) {
            Some(n) => n.as_ref(),
            None => self.base.node(i),
        }
    }

    /// The leaf node of `l` after the staged changes.
    #[must_use]
    pub(crate) fn leaf(&self, l: LeafIndex) -> Option<&LeafNode> {
        match self.node(l.node()) {
            Some(Node::Leaf(leaf)) => Some(leaf),
            _ => None,
        }
    }

    /// The parent node at `i` after the staged changes.
    #[must_use]
    pub(crate) fn parent(&self, i: NodeIndex) -> Option<&ParentNode> {
        match self.node(i) {
            Some(Node::Parent(p)) => Some(p),
            _ => None,
        }
    }

    /// The tree after the staged changes as sent on the wire (trailing blanks removed).
    #[must_use]
    pub(crate) fn to_wire(&self) -> wire::RatchetTree {
        let width = self.size().width();
        let end = (0..width)
            .rev()
            .find(|&x| self.node(NodeIndex(x)).is_some())
            .map_or(0, |x| x + 1);
        wire::RatchetTree((0..end).map(|x| self.node(NodeIndex(x)).cloned()).collect())
    }

    /// The node whose encryption key is `key` after the staged changes, if any.
    #[must_use]
    pub(crate) fn find_encryption_key(&self, key: &[u8]) -> Option<NodeIndex> {
        if let Some(&n) = self.base.encryption_keys.get(key) {
            if !self.changes.nodes.contains_key(&n) && self.changes.size.contains(n) {
                return Some(n);
            }
        }
        self.changes
            .nodes
            .iter()
            .find(|(n, node)| {
                self.changes.size.contains(**n)
                    && node
                        .as_ref()
                        .is_some_and(|node| encryption_key(node) == key)
            })
            .map(|(n, _)| *n)
    }

    /// The leaf whose signature key is `key` after the staged changes, if any.
    #[must_use]
    pub(crate) fn find_signature_key(&self, key: &[u8]) -> Option<LeafIndex> {
        if let Some(&l) = self.base.signature_keys.get(key) {
            if !self.changes.nodes.contains_key(&l.node()) && self.changes.size.contains_leaf(l) {
                return Some(l);
            }
        }
        self.changes
            .nodes
            .iter()
            .find(|(n, node)| {
                self.changes.size.contains(**n)
                    && matches!(node, Some(Node::Leaf(leaf)) if leaf.signature_key == key)
            })
            .and_then(|(n, _)| n.leaf())
    }

    /// The occupied leaves after the staged changes.
    pub(crate) fn leaves(&self) -> impl Iterator<Item = (LeafIndex, &LeafNode)> + '_ {
        (0..self.size().leaves()).filter_map(|i| self.leaf(LeafIndex(i)).map(|l| (LeafIndex(i), l)))
    }

    /// Sets node `i` (which must be inside the tree) and marks its path dirty.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] outside the tree.
    pub(crate) fn set(&mut self, i: NodeIndex, node: Option<Node>) -> Result<()> {
        let size = self.changes.size;
        if !size.contains(i) {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        self.changes.nodes.insert(i, node);
        self.mark_dirty(i)
    }

    fn mark_dirty(&mut self, i: NodeIndex) -> Result<()> {
        let size = self.changes.size;
        let mut cur = Some(i);
        while let Some(n) = cur {
            self.changes.computed.remove(&n);
            self.changes.dirty.insert(n);
            cur = size.parent(n)?;
        }
        Ok(())
    }

    /// Blanks every node on the direct path of `l` (not the leaf itself).
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] outside the tree.
    pub(crate) fn blank_direct_path(&mut self, l: LeafIndex) -> Result<()> {
        for n in self.size().direct_path(l.node())? {
            if self.node(n).is_some() {
                self.set(n, None)?;
            }
        }
        Ok(())
    }

    /// Adds a member (RFC 9420 §12.1.1): the leftmost blank leaf, or a new leaf after
    /// extending the tree; its index joins the unmerged leaves of every non-blank parent above.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when the tree would exceed 2^30 leaves.
    pub(crate) fn add_leaf(&mut self, leaf: LeafNode) -> Result<LeafIndex> {
        let l = match (0..self.size().leaves())
            .map(LeafIndex)
            .find(|&l| self.leaf(l).is_none())
        {
            Some(l) => l,
            None => {
                let old = self.size().leaves();
                self.extend()?;
                LeafIndex(old)
            }
        };
        for p in self.size().direct_path(l.node())? {
            if let Some(parent) = self.parent(p) {
                let mut parent = parent.clone();
                // Kept sorted (RFC 9420 §7.1 requires increasing order).
                if let Err(pos) = parent.unmerged_leaves.binary_search(&l.0) {
                    parent.unmerged_leaves.insert(pos, l.0);
                }
                self.set(p, Some(Node::Parent(Box::new(parent))))?;
            }
        }
        self.set(l.node(), Some(Node::Leaf(Box::new(leaf))))?;
        self.changes.first_free_hint = l.0 + 1;
        Ok(l)
    }

    /// Replaces the leaf of `l` and blanks its direct path (RFC 9420 §12.1.2).
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for a blank or missing leaf.
    pub(crate) fn update_leaf(&mut self, l: LeafIndex, leaf: LeafNode) -> Result<()> {
        if self.leaf(l).is_none() {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        self.set(l.node(), Some(Node::Leaf(Box::new(leaf))))?;
        self.blank_direct_path(l)
    }

    /// Removes the member at `l` (RFC 9420 §12.1.3): blanks the leaf and its direct path,
    /// then truncates the tree while its right half is empty.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for a blank or missing leaf.
    pub(crate) fn remove_leaf(&mut self, l: LeafIndex) -> Result<()> {
        if self.leaf(l).is_none() {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        self.set(l.node(), None)?;
        self.changes.first_free_hint = self.changes.first_free_hint.min(l.0);
        self.blank_direct_path(l)?;
        self.truncate()
    }

    /// Doubles the tree: a new blank root with the old tree on its left.
    fn extend(&mut self) -> Result<()> {
        let old = self.changes.size;
        let new = TreeSize::new(
            old.leaves()
                .checked_mul(2)
                .ok_or(ApiMisuse::InvalidLength)?,
        )?;
        self.changes.size = new;
        // Every new node is dirty: its hash is not in the base cache.
        for x in old.width()..new.width() {
            self.changes.nodes.insert(NodeIndex(x), None);
            self.changes.computed.remove(&NodeIndex(x));
            self.changes.dirty.insert(NodeIndex(x));
        }
        Ok(())
    }

    /// Halves the tree while the right subtree of the root has no occupied leaf (keeping at
    /// least one leaf).
    fn truncate(&mut self) -> Result<()> {
        loop {
            let size = self.changes.size;
            if size.leaves() == 1 {
                return Ok(());
            }
            let half = size.leaves() / 2;
            if (half..size.leaves()).any(|l| self.leaf(LeafIndex(l)).is_some()) {
                return Ok(());
            }
            let new = TreeSize::new(half)?;
            self.changes.size = new;
            self.changes.nodes.retain(|n, _| new.contains(*n));
            self.changes.computed.retain(|n, _| new.contains(*n));
            self.changes.dirty.retain(|n| new.contains(*n));
        }
    }

    /// The tree hash of node `i` after the staged changes, computing only dirty nodes.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd node.
    pub(crate) fn tree_hash(&mut self, i: NodeIndex) -> Result<Digest> {
        if !self.changes.dirty.contains(&i) && self.base.size.contains(i) {
            return Ok(self.base.hash(i));
        }
        if let Some(h) = self.changes.computed.get(&i) {
            return Ok(*h);
        }
        let l = i.left().map(|c| self.tree_hash(c)).transpose()?;
        let r = i.right().map(|c| self.tree_hash(c)).transpose()?;
        let h = hashes::node_hash(self.suite(), i, self.node(i), l.as_ref(), r.as_ref())?;
        self.changes.computed.insert(i, h);
        Ok(h)
    }

    /// The root tree hash after the staged changes.
    ///
    /// # Errors
    /// As [`TreeDiff::tree_hash`].
    pub(crate) fn root_hash(&mut self) -> Result<Digest> {
        self.tree_hash(self.size().root())
    }

    /// The resolution of node `i` (RFC 9420 §4.1.1): the non-blank nodes covering its
    /// subtree, each parent followed by its unmerged leaves.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] outside the tree.
    pub(crate) fn resolution(&self, i: NodeIndex) -> Result<Vec<NodeIndex>> {
        if !self.size().contains(i) {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        let mut out = Vec::new();
        self.resolve_into(i, &mut out);
        Ok(out)
    }

    fn resolve_into(&self, i: NodeIndex, out: &mut Vec<NodeIndex>) {
        match self.node(i) {
            Some(Node::Parent(p)) => {
                out.push(i);
                out.extend(p.unmerged_leaves.iter().map(|&l| LeafIndex(l).node()));
            }
            Some(Node::Leaf(_)) => out.push(i),
            None => {
                if let (Some(l), Some(r)) = (i.left(), i.right()) {
                    self.resolve_into(l, out);
                    self.resolve_into(r, out);
                }
            }
        }
    }

    /// Whether the resolution of `i` is empty (no occupied node in its subtree).
    fn resolution_is_empty(&self, i: NodeIndex) -> bool {
        match self.node(i) {
            Some(_) => false,
            None => match (i.left(), i.right()) {
                (Some(l), Some(r)) => self.resolution_is_empty(l) && self.resolution_is_empty(r),
                _ => true,
            },
        }
    }

    /// The filtered direct path of leaf `l` (RFC 9420 §4.1.2), each node paired with its
    /// child on the copath of `l`, from the leaf up.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] outside the tree.
    pub(crate) fn filtered_direct_path(&self, l: LeafIndex) -> Result<Vec<(NodeIndex, NodeIndex)>> {
        let size = self.size();
        let mut out = Vec::new();
        let mut child = l.node();
        while let Some(parent) = size.parent(child)? {
            let copath = size
                .sibling(child)?
                .ok_or(Error::Internal("sibling of a non-root"))?;
            if !self.resolution_is_empty(copath) {
                out.push((parent, copath));
            }
            child = parent;
        }
        Ok(out)
    }
}
