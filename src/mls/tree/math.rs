//! Array-based tree arithmetic (RFC 9420 §4.1, Appendix C).
//!
//! ```text
//!                  X (3)
//!            .-----+-----.
//!          X (1)        X (5)
//!         /    \       /    \
//!      L0(0)  L1(2)  L2(4)  L3(6)      leaves at even node indices, parents at odd ones
//! ```
//!
//! MLS trees are always full: the number of leaves is a power of two (RFC 9420 §7.7). All
//! functions take the tree size as a [`TreeSize`] so a node outside the tree is a typed
//! error, never a panic.

use crate::error::{ApiMisuse, Result};

/// The index of a leaf: leaf `i` sits at node `2i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeafIndex(pub u32);

/// The index of a node in the array representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NodeIndex(pub u32);

/// The number of leaves of a full tree: a power of two, at least 1, at most 2^30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TreeSize(u32);

/// The largest tree meetkey handles: 2^30 leaves, so node indices fit in `u32`.
const MAX_LEAVES: u32 = 1 << 30;

impl LeafIndex {
    /// The node that holds this leaf.
    ///
    /// Leaf indices come off the wire (senders, `Remove`, GroupInfo `signer`) as any `u32`.
    /// From 2^31 up, `2 * index` does not fit: it saturates to `NodeIndex(u32::MAX)`, which
    /// lies outside every tree (at most 2^30 leaves), so lookups fail instead of wrapping
    /// onto leaf `index - 2^31`.
    #[must_use]
    pub(crate) const fn node(self) -> NodeIndex {
        NodeIndex(self.0.saturating_mul(2))
    }
}

impl NodeIndex {
    /// Whether this node is a leaf (even index).
    #[must_use]
    pub(crate) const fn is_leaf(self) -> bool {
        self.0 & 1 == 0
    }

    /// The leaf at this node, if it is one.
    #[must_use]
    pub(crate) const fn leaf(self) -> Option<LeafIndex> {
        if self.is_leaf() {
            Some(LeafIndex(self.0 / 2))
        } else {
            None
        }
    }

    /// The level of the node: leaves are 0, their parents 1, and so on.
    #[must_use]
    pub(crate) const fn level(self) -> u32 {
        self.0.trailing_ones()
    }

    /// The left child, or `None` for a leaf.
    #[must_use]
    pub(crate) const fn left(self) -> Option<Self> {
        let k = self.level();
        if k == 0 {
            None
        } else {
            Some(Self(self.0 ^ (1 << (k - 1))))
        }
    }

    /// The right child, or `None` for a leaf.
    #[must_use]
    pub(crate) const fn right(self) -> Option<Self> {
        let k = self.level();
        if k == 0 {
            None
        } else {
            Some(Self(self.0 ^ (3 << (k - 1))))
        }
    }
}

impl TreeSize {
    /// A tree of `n_leaves` leaves.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] unless `n_leaves` is a power of two no larger than 2^30.
    pub(crate) const fn new(n_leaves: u32) -> Result<Self> {
        if n_leaves.is_power_of_two() && n_leaves <= MAX_LEAVES {
            Ok(Self(n_leaves))
        } else {
            Err(crate::error::Error::ApiMisuse(ApiMisuse::InvalidLength))
        }
    }

    /// The smallest full tree with at least `n` leaves (at least one leaf).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] above 2^30 leaves.
    pub(crate) fn at_least(n: u32) -> Result<Self> {
        Self::new(
            n.max(1)
                .checked_next_power_of_two()
                .ok_or(ApiMisuse::InvalidLength)?,
        )
    }

    /// The number of leaves.
    #[must_use]
    pub(crate) const fn leaves(self) -> u32 {
        self.0
    }

    /// The number of nodes in the array: `2n - 1`.
    #[must_use]
    pub(crate) const fn width(self) -> u32 {
        2 * self.0 - 1
    }

    /// The root node.
    #[must_use]
    pub(crate) const fn root(self) -> NodeIndex {
        NodeIndex(self.0 - 1)
    }

    /// Whether `x` lies inside the tree.
    #[must_use]
    pub(crate) const fn contains(self, x: NodeIndex) -> bool {
        x.0 < self.width()
    }

    /// Whether leaf `l` lies inside the tree.
    #[must_use]
    pub(crate) const fn contains_leaf(self, l: LeafIndex) -> bool {
        l.0 < self.0
    }

    fn check(self, x: NodeIndex) -> Result<()> {
        if self.contains(x) {
            Ok(())
        } else {
            Err(ApiMisuse::IndexOutOfRange.into())
        }
    }

    /// The parent of `x`, or `None` for the root.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when `x` is outside the tree.
    pub(crate) fn parent(self, x: NodeIndex) -> Result<Option<NodeIndex>> {
        self.check(x)?;
        if x == self.root() {
            return Ok(None);
        }
        let k = x.level();
        let b = (x.0 >> (k + 1)) & 1;
        Ok(Some(NodeIndex((x.0 | (1 << k)) ^ (b << (k + 1)))))
    }

    /// The other child of the parent of `x`, or `None` for the root.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when `x` is outside the tree.
    pub(crate) fn sibling(self, x: NodeIndex) -> Result<Option<NodeIndex>> {
        Ok(self
            .parent(x)?
            .and_then(|p| if x < p { p.right() } else { p.left() }))
    }

    /// The direct path of `x`, from its parent to the root.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when `x` is outside the tree.
    pub(crate) fn direct_path(self, x: NodeIndex) -> Result<Vec<NodeIndex>> {
        let mut out = Vec::with_capacity(self.0.trailing_zeros() as usize);
        let mut cur = x;
        while let Some(p) = self.parent(cur)? {
            out.push(p);
            cur = p;
        }
        Ok(out)
    }

    /// The copath of `x`: the siblings of `x` and of each node of its direct path but the
    /// root, from the leaf up.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when `x` is outside the tree.
    #[cfg(test)]
    pub(crate) fn copath(self, x: NodeIndex) -> Result<Vec<NodeIndex>> {
        let mut out = Vec::with_capacity(self.0.trailing_zeros() as usize);
        let mut cur = x;
        while let Some(s) = self.sibling(cur)? {
            out.push(s);
            cur = self.parent(cur)?.unwrap_or(cur);
        }
        Ok(out)
    }

    /// The lowest common ancestor of two nodes.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when either node is outside the tree.
    pub(crate) fn common_ancestor(self, x: NodeIndex, y: NodeIndex) -> Result<NodeIndex> {
        self.check(x)?;
        self.check(y)?;
        let (lx, ly) = (x.level() + 1, y.level() + 1);
        if lx <= ly && x.0 >> ly == y.0 >> ly {
            return Ok(y);
        }
        if ly <= lx && x.0 >> lx == y.0 >> lx {
            return Ok(x);
        }
        let (mut xn, mut yn, mut k) = (x.0, y.0, 0u32);
        while xn != yn {
            xn >>= 1;
            yn >>= 1;
            k += 1;
        }
        // k >= 1 here, since x != y.
        Ok(NodeIndex((xn << k) + (1 << (k - 1)) - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (commit_process, external_join): `2 * index` overflowed, which
    /// panicked with overflow checks and otherwise aliased leaf `index - 2^31`.
    #[test]
    fn huge_leaf_indices_map_outside_every_tree() {
        let largest = TreeSize::new(MAX_LEAVES).unwrap();
        for l in [
            1u32 << 31,
            (1 << 31) + 1,
            u32::MAX,
            (1 << 31) - 1,
            MAX_LEAVES,
        ] {
            let n = LeafIndex(l).node();
            assert!(!largest.contains(n), "leaf {l} -> node {}", n.0);
            assert!(largest
                .parent(n)
                .is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::IndexOutOfRange)));
        }
        assert_eq!(LeafIndex(1 << 31).node(), NodeIndex(u32::MAX));
        assert_ne!(LeafIndex((1 << 31) + 1).node(), LeafIndex(1).node());
        assert_eq!(LeafIndex(5).node(), NodeIndex(10));
    }

    #[test]
    fn sizes_must_be_full_trees() {
        assert!(
            TreeSize::new(0).is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::InvalidLength))
        );
        assert!(
            TreeSize::new(3).is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::InvalidLength))
        );
        assert!(TreeSize::new(1 << 31)
            .is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert_eq!(TreeSize::at_least(5).unwrap().leaves(), 8);
        assert_eq!(TreeSize::at_least(0).unwrap().leaves(), 1);
    }

    #[test]
    fn paths_in_an_eight_leaf_tree() {
        let t = TreeSize::new(8).unwrap();
        assert_eq!(t.root(), NodeIndex(7));
        let dp = t.direct_path(LeafIndex(2).node()).unwrap();
        assert_eq!(dp, [NodeIndex(5), NodeIndex(3), NodeIndex(7)]);
        let cp = t.copath(LeafIndex(2).node()).unwrap();
        assert_eq!(cp, [NodeIndex(6), NodeIndex(1), NodeIndex(11)]);
        assert_eq!(
            t.common_ancestor(NodeIndex(4), NodeIndex(6)).unwrap(),
            NodeIndex(5)
        );
        assert_eq!(
            t.common_ancestor(NodeIndex(0), NodeIndex(14)).unwrap(),
            NodeIndex(7)
        );
        assert_eq!(
            t.common_ancestor(NodeIndex(5), NodeIndex(4)).unwrap(),
            NodeIndex(5)
        );
        assert!(t.direct_path(t.root()).unwrap().is_empty());
        assert_eq!(
            t.parent(NodeIndex(15)),
            Err(ApiMisuse::IndexOutOfRange.into())
        );
    }
}
