//! `vectors/mls/tree-operations.json` (suite 1): a tree, an Add, Update or Remove proposal and
//! its sender. The tree hash before matches; applying the proposal gives exactly `tree_after`
//! (as encoded) and its tree hash.

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
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::{RatchetTree, TreeDiff};
use crate::mls::wire::{self, Proposal};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    tree_before: String,
    proposal: String,
    proposal_sender: u32,
    tree_hash_before: String,
    tree_after: String,
    tree_hash_after: String,
}

#[test]
fn tree_operations_vectors() {
    let cases: Vec<Case> = common::load("mls/tree-operations.json");
    let mut tally = common::Tally::new("mls/tree-operations.json");
    let mut kinds = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let before = wire::RatchetTree::decode_exact(&h(&c.tree_before)).unwrap();
        let mut tree = RatchetTree::from_wire(suite, &before).unwrap();
        assert_eq!(
            tree.root_hash().as_bytes(),
            h(&c.tree_hash_before),
            "case {i}: hash before"
        );
        let mut diff = TreeDiff::new(&tree);
        match Proposal::decode_exact(&h(&c.proposal)).unwrap() {
            Proposal::Add(add) => {
                diff.add_leaf(add.key_package.leaf_node.clone()).unwrap();
                kinds.push("add");
            }
            Proposal::Update(update) => {
                diff.update_leaf(LeafIndex(c.proposal_sender), update.leaf_node.clone())
                    .unwrap();
                kinds.push("update");
            }
            Proposal::Remove(remove) => {
                diff.remove_leaf(LeafIndex(remove.removed)).unwrap();
                kinds.push("remove");
            }
            other => panic!("case {i}: unexpected proposal {other:?}"),
        }
        // The diff's own hash (computed on dirty paths only) and the merged tree's agree.
        let diff_hash = diff.root_hash().unwrap();
        let changes = diff.into_changes();
        tree.merge(changes).unwrap();
        assert_eq!(
            diff_hash,
            tree.root_hash(),
            "case {i}: diff and merged hash"
        );
        assert_eq!(
            tree.to_wire(),
            wire::RatchetTree::decode_exact(&h(&c.tree_after)).unwrap(),
            "case {i}"
        );
        assert_eq!(
            tree.root_hash().as_bytes(),
            h(&c.tree_hash_after),
            "case {i}: hash after"
        );
        // And a tree built afresh from the result hashes the same (the cache is right).
        let fresh = RatchetTree::from_wire(suite, &tree.to_wire()).unwrap();
        assert_eq!(fresh.root_hash(), tree.root_hash());
        tally.ran(c.cipher_suite);
    }
    println!("tree-operations: proposals applied: {kinds:?}");
    tally.finish();
}
