//! The public ratchet tree (RFC 9420 §4, §7): an array of optional nodes with a tree-hash
//! cache, and [`TreeDiff`], the staged changes a proposal list or commit makes to it.
//!
//! ```text
//!  RatchetTree (base: nodes + one cached tree hash per node, always complete)
//!       │  TreeDiff::new(&base) ── add / update / remove / set path nodes ──► overlay of changed nodes
//!       │                           reads see base + overlay; hashes recomputed only on dirty paths
//!       ◄── RatchetTree::merge(TreeChanges) ── only once the whole commit is valid
//! ```
//!
//! Nothing is cloned per commit: the diff holds only the nodes it changed, and a tree hash
//! after a path change costs O(log n) hash computations, because every node off the changed
//! paths keeps its cached hash.

use std::collections::{HashMap, HashSet};

use crate::crypto::{Digest, Suite};
use crate::error::{InvalidMessage, Result};
use crate::mls::wire::{self, LeafNode, Node};

use super::hashes;
use super::math::{LeafIndex, NodeIndex, TreeSize};

mod diff;
pub(crate) use diff::TreeDiff;

/// The public state of a group's ratchet tree.
#[derive(Debug, Clone)]
pub(crate) struct RatchetTree {
    suite: Suite,
    size: TreeSize,
    /// One entry per node of the full tree (`size.width()`); `None` is blank.
    nodes: Vec<Option<Node>>,
    /// The tree hash of every node, kept up to date by [`RatchetTree::merge`].
    hashes: Vec<Digest>,
    /// Where each HPKE encryption key sits (uniqueness checks in O(1), RFC 9420 §7.3).
    encryption_keys: HashMap<Vec<u8>, NodeIndex>,
    /// Which leaf holds each signature key.
    signature_keys: HashMap<Vec<u8>, LeafIndex>,
}

/// The encryption key of a node.
fn encryption_key(n: &Node) -> &[u8] {
    match n {
        Node::Leaf(l) => &l.encryption_key,
        Node::Parent(p) => &p.encryption_key,
    }
}

impl RatchetTree {
    /// A one-member tree holding `leaf` at index 0 (a group's creator).
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd leaf.
    pub(crate) fn new(suite: Suite, leaf: LeafNode) -> Result<Self> {
        Self::from_nodes(suite, vec![Some(Node::Leaf(Box::new(leaf)))])
    }

    /// The tree carried in a `ratchet_tree` extension or Welcome, padded with blanks to a
    /// full tree. Only its shape is checked here; see [`super::verify`] for the rest.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidValue`] for an empty tree or a leaf where a parent belongs.
    pub(crate) fn from_wire(suite: Suite, tree: &wire::RatchetTree) -> Result<Self> {
        Self::from_nodes(suite, tree.0.clone())
    }

    fn from_nodes(suite: Suite, mut nodes: Vec<Option<Node>>) -> Result<Self> {
        // RFC 9420 §12.4.3.3: trailing blank nodes are omitted, so the list ends with a
        // non-blank leaf (an even index). A list ending with a parent would make a tree
        // whose rightmost leaf is blank; extending it would drop that parent unseen.
        if nodes.len() % 2 == 0 || nodes.last().is_some_and(Option::is_none) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let leaves =
            u32::try_from(nodes.len().div_ceil(2)).map_err(|_| InvalidMessage::LengthTooLarge)?;
        if leaves == 0 {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let size = TreeSize::at_least(leaves).map_err(|_| InvalidMessage::LengthTooLarge)?;
        nodes.resize_with(size.width() as usize, || None);
        for (i, n) in nodes.iter().enumerate() {
            let leaf_slot = i % 2 == 0;
            match n {
                Some(Node::Leaf(_)) if !leaf_slot => {
                    return Err(InvalidMessage::InvalidValue.into())
                }
                Some(Node::Parent(_)) if leaf_slot => {
                    return Err(InvalidMessage::InvalidValue.into())
                }
                _ => {}
            }
        }
        let mut tree = Self {
            suite,
            size,
            nodes,
            hashes: Vec::new(),
            encryption_keys: HashMap::new(),
            signature_keys: HashMap::new(),
        };
        tree.hashes = tree.compute_all_hashes()?;
        for x in 0..size.width() {
            tree.index_insert(NodeIndex(x));
        }
        Ok(tree)
    }

    /// The tree as sent on the wire: array order, trailing blank nodes removed.
    #[must_use]
    pub(crate) fn to_wire(&self) -> wire::RatchetTree {
        let end = self
            .nodes
            .iter()
            .rposition(Option::is_some)
            .map_or(0, |i| i + 1);
        wire::RatchetTree(self.nodes.iter().take(end).cloned().collect())
    }

    /// The cipher suite.
    #[must_use]
    pub(crate) const fn suite(&self) -> &Suite {
        &self.suite
    }

    /// The number of leaves (a power of two; some may be blank).
    #[must_use]
    pub(crate) const fn size(&self) -> TreeSize {
        self.size
    }

    /// The node at `i`, or `None` when blank or outside the tree.
    #[must_use]
    pub(crate) fn node(&self, i: NodeIndex) -> Option<&Node> {
        self.nodes.get(i.0 as usize).and_then(Option::as_ref)
    }

    /// The leaf node of leaf `l`, if it is occupied.
    #[must_use]
    pub(crate) fn leaf(&self, l: LeafIndex) -> Option<&LeafNode> {
        match self.node(l.node()) {
            Some(Node::Leaf(leaf)) => Some(leaf),
            _ => None,
        }
    }

    /// The occupied leaves, in order.
    pub(crate) fn leaves(&self) -> impl Iterator<Item = (LeafIndex, &LeafNode)> + '_ {
        (0..self.size.leaves()).filter_map(|i| self.leaf(LeafIndex(i)).map(|l| (LeafIndex(i), l)))
    }

    /// The tree hash of the root.
    #[must_use]
    pub(crate) fn root_hash(&self) -> Digest {
        self.hash(self.size.root())
    }

    /// The cached tree hash of node `i` (a zero-length digest outside the tree).
    #[must_use]
    pub(crate) fn hash(&self, i: NodeIndex) -> Digest {
        self.hashes
            .get(i.0 as usize)
            .copied()
            .unwrap_or_else(empty_digest)
    }

    /// Applies staged changes: the diff's nodes replace the base's, the size changes, and the
    /// tree hashes of the changed paths are recomputed (reusing those the diff computed).
    ///
    /// # Errors
    /// `Internal` if the changes were made against a tree of another shape.
    pub(crate) fn merge(&mut self, changes: TreeChanges) -> Result<()> {
        let TreeChanges {
            size,
            nodes,
            mut computed,
            dirty,
            ..
        } = changes;
        let width = size.width() as usize;
        for x in size.width()..self.size.width() {
            self.index_remove(NodeIndex(x));
        }
        self.nodes.resize_with(width, || None);
        self.hashes.resize_with(width, empty_digest);
        self.size = size;
        for (i, n) in nodes {
            self.index_remove(i);
            if let Some(slot) = self.nodes.get_mut(i.0 as usize) {
                *slot = n;
            }
            self.index_insert(i);
        }
        // Recompute dirty hashes bottom-up (children before parents).
        let mut dirty: Vec<NodeIndex> = dirty.into_iter().filter(|n| size.contains(*n)).collect();
        dirty.sort_by_key(|n| n.level());
        for n in dirty {
            let h = match computed.remove(&n) {
                Some(h) => h,
                None => {
                    let (l, r) = (
                        n.left().map(|c| self.hash(c)),
                        n.right().map(|c| self.hash(c)),
                    );
                    hashes::node_hash(&self.suite, n, self.node(n), l.as_ref(), r.as_ref())?
                }
            };
            if let Some(slot) = self.hashes.get_mut(n.0 as usize) {
                *slot = h;
            }
        }
        Ok(())
    }

    fn index_insert(&mut self, i: NodeIndex) {
        if let Some(n) = self.nodes.get(i.0 as usize).and_then(Option::as_ref) {
            self.encryption_keys.insert(encryption_key(n).to_vec(), i);
            if let (Node::Leaf(l), Some(leaf)) = (n, i.leaf()) {
                self.signature_keys.insert(l.signature_key.clone(), leaf);
            }
        }
    }

    fn index_remove(&mut self, i: NodeIndex) {
        if let Some(n) = self.nodes.get(i.0 as usize).and_then(Option::as_ref) {
            if self.encryption_keys.get(encryption_key(n)) == Some(&i) {
                self.encryption_keys.remove(encryption_key(n));
            }
            if let (Node::Leaf(l), Some(leaf)) = (n, i.leaf()) {
                if self.signature_keys.get(&l.signature_key) == Some(&leaf) {
                    self.signature_keys.remove(&l.signature_key);
                }
            }
        }
    }

    fn compute_all_hashes(&self) -> Result<Vec<Digest>> {
        let mut out = vec![empty_digest(); self.nodes.len()];
        // Level by level: leaves first, then parents whose children are done.
        let max_level = self.size.root().level();
        for level in 0..=max_level {
            let step = 1u32 << (level + 1);
            let mut x = (1u32 << level) - 1;
            while x < self.size.width() {
                let n = NodeIndex(x);
                let child = |c: Option<NodeIndex>| c.and_then(|c| out.get(c.0 as usize).copied());
                let (l, r) = (child(n.left()), child(n.right()));
                let h = hashes::node_hash(&self.suite, n, self.node(n), l.as_ref(), r.as_ref())?;
                if let Some(slot) = out.get_mut(x as usize) {
                    *slot = h;
                }
                x += step;
            }
        }
        Ok(out)
    }
}

const fn empty_digest() -> Digest {
    Digest::empty()
}

/// Staged changes to a [`RatchetTree`], detached from it so a staged commit can outlive the
/// borrow; merged with [`RatchetTree::merge`].
#[derive(Debug, Clone)]
pub(crate) struct TreeChanges {
    size: TreeSize,
    /// No leaf below this one is blank (a hint that keeps n Adds O(n), not O(n^2)).
    first_free_hint: u32,
    nodes: HashMap<NodeIndex, Option<Node>>,
    computed: HashMap<NodeIndex, Digest>,
    dirty: HashSet<NodeIndex>,
}

impl TreeChanges {
    /// The number of leaves after the changes.
    #[must_use]
    pub(crate) const fn size(&self) -> TreeSize {
        self.size
    }

    /// The node the changes set at `n`: `None` if they do not touch it, `Some(None)` if they
    /// blank it.
    #[must_use]
    pub(crate) fn node(&self, n: NodeIndex) -> Option<Option<&Node>> {
        self.nodes.get(&n).map(Option::as_ref)
    }

    /// The nodes the changes set (including blanked ones).
    pub(crate) fn changed_nodes(&self) -> impl Iterator<Item = NodeIndex> + '_ {
        self.nodes.keys().copied()
    }
}
