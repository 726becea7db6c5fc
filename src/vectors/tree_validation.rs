//! `vectors/mls/tree-validation.json`: per suite, ratchet trees of growing complexity (full
//! trees, internal and trailing blanks, unmerged leaves, parent-hash links that skip blanks).
//! For each: the resolution and tree hash of every node match; the tree passes the joiner's
//! checks (parent hashes, leaf signatures with `group_id`, unmerged leaves, unique keys); and
//! a tree with one byte of one leaf signature flipped is rejected.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::Decode;
use crate::crypto::CipherSuite;
use crate::mls::tree::math::NodeIndex;
use crate::mls::tree::{verify, RatchetTree, TreeDiff};
use crate::mls::wire::{self, Node};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    tree: String,
    group_id: String,
    resolutions: Vec<Vec<u32>>,
    tree_hashes: Vec<String>,
}

#[test]
fn tree_validation_vectors() {
    let cases: Vec<Case> = common::load("mls/tree-validation.json");
    let mut tally = common::Tally::new("mls/tree-validation.json");
    let mut nodes_checked = 0;
    for (i, c) in cases.iter().enumerate() {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let wire_tree = wire::RatchetTree::decode_exact(&h(&c.tree)).unwrap();
        let tree = RatchetTree::from_wire(suite, &wire_tree).unwrap();
        assert_eq!(tree.to_wire(), wire_tree, "case {i}: re-encoding");
        let view = TreeDiff::new(&tree);
        for (x, (res, th)) in c.resolutions.iter().zip(&c.tree_hashes).enumerate() {
            let n = NodeIndex(u32::try_from(x).unwrap());
            let got: Vec<u32> = view.resolution(n).unwrap().iter().map(|n| n.0).collect();
            assert_eq!(&got, res, "case {i}: resolution of node {x}");
            assert_eq!(
                tree.hash(n).as_bytes(),
                h(th),
                "case {i}: tree hash of node {x}"
            );
            nodes_checked += 1;
        }
        let group_id = h(&c.group_id);
        verify::verify_tree(&tree, &group_id).unwrap_or_else(|e| panic!("case {i}: {e}"));

        // Negative: a flipped signature bit on the last leaf.
        let mut bad = wire_tree.clone();
        if let Some(Some(Node::Leaf(leaf))) = bad.0.last_mut() {
            leaf.signature[0] ^= 1;
        }
        let bad = RatchetTree::from_wire(suite, &bad).unwrap();
        assert_eq!(
            verify::verify_leaf_signatures(&bad, &group_id),
            Err(crate::Error::AuthenticationFailed)
        );
        // (The whole-tree check may fail earlier: the leaf's tree hash feeds parent hashes.)
        assert!(verify::verify_tree(&bad, &group_id)
            .is_err_and(|e| e
                == crate::Error::PeerMisbehaved(crate::error::PeerMisbehaved::ParentHashInvalid)));
        // Negative: the wrong group id.
        assert!(
            verify::verify_leaf_signatures(&tree, b"another group")
                .is_err_and(|e| e == crate::Error::AuthenticationFailed)
                || all_key_package(&tree)
        );
        tally.ran(c.cipher_suite);
    }
    println!("tree-validation: {nodes_checked} nodes' resolutions and tree hashes checked");
    tally.finish();
}

/// Leaves from KeyPackages do not bind the group id, so a tree of only those verifies anywhere.
fn all_key_package(tree: &RatchetTree) -> bool {
    tree.leaves()
        .all(|(_, l)| matches!(l.leaf_node_source, wire::LeafNodeSource::KeyPackage(_)))
}
