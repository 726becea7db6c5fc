//! `vectors/mls/tree-math.json`: for trees of 1 to 512 leaves, the node count, the root and
//! the left child, right child, parent and sibling of every node (`null` where none).

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::mls::tree::math::{NodeIndex, TreeSize};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    n_leaves: u32,
    n_nodes: u32,
    root: u32,
    left: Vec<Option<u32>>,
    right: Vec<Option<u32>>,
    parent: Vec<Option<u32>>,
    sibling: Vec<Option<u32>>,
}

#[test]
fn tree_math_vectors() {
    let cases: Vec<Case> = common::load("mls/tree-math.json");
    let mut tally = common::Tally::new("mls/tree-math.json");
    for c in &cases {
        let t = TreeSize::new(c.n_leaves).unwrap();
        assert_eq!(t.width(), c.n_nodes);
        assert_eq!(t.root(), NodeIndex(c.root));
        for x in 0..c.n_nodes {
            let n = NodeIndex(x);
            let i = x as usize;
            assert_eq!(
                n.left().map(|v| v.0),
                c.left[i],
                "left({x}) of {}",
                c.n_leaves
            );
            assert_eq!(n.right().map(|v| v.0), c.right[i], "right({x})");
            assert_eq!(
                t.parent(n).unwrap().map(|v| v.0),
                c.parent[i],
                "parent({x})"
            );
            assert_eq!(
                t.sibling(n).unwrap().map(|v| v.0),
                c.sibling[i],
                "sibling({x})"
            );
        }
        assert!(
            t.parent(NodeIndex(c.n_nodes)).is_err_and(
                |e| e == crate::Error::ApiMisuse(crate::error::ApiMisuse::IndexOutOfRange)
            ),
            "node past the end"
        );
        tally.ran(0);
    }
    tally.finish();
}
