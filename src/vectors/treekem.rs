//! `vectors/mls/treekem.json`: per suite, a ratchet tree, the private state of its members
//! (leaf keys and path secrets) and UpdatePaths from several senders. For each UpdatePath:
//! it merges parent-hash valid; every other member decrypts the expected path secret and
//! commit secret under the provisional GroupContext; the merged tree hashes to
//! `tree_hash_after`. Then the sender makes a fresh UpdatePath from the same tree, and every
//! other member reaches the sender's commit secret. A tampered path is rejected.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::{Decode, Encode};
use crate::crypto::{CipherSuite, HpkePrivateKey, SignaturePrivateKey, Suite};
use crate::mls::key_schedule::CommitSecret;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::{treekem, LeafTemplate, PathSecret, RatchetTree, TreeDiff, TreePrivateKeys};
use crate::mls::wire::{self, GroupContext, ProtocolVersion, UpdatePath};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    group_id: String,
    epoch: u64,
    confirmed_transcript_hash: String,
    ratchet_tree: String,
    leaves_private: Vec<LeafPrivate>,
    update_paths: Vec<PathCase>,
}

#[derive(Deserialize)]
struct LeafPrivate {
    index: u32,
    encryption_priv: String,
    signature_priv: String,
    path_secrets: Vec<NodeSecret>,
}

#[derive(Deserialize)]
struct NodeSecret {
    node: u32,
    path_secret: String,
}

#[derive(Deserialize)]
struct PathCase {
    sender: u32,
    update_path: String,
    path_secrets: Vec<Option<String>>,
    commit_secret: String,
    tree_hash_after: String,
}

/// The provisional GroupContext: the case's fields with the tree hash after the path.
fn context(c: &Case, tree_hash: &[u8]) -> Vec<u8> {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(c.cipher_suite),
        group_id: common::hex(&c.group_id),
        epoch: c.epoch,
        tree_hash: tree_hash.to_vec(),
        confirmed_transcript_hash: common::hex(&c.confirmed_transcript_hash),
        extensions: vec![],
    }
    .to_bytes()
    .unwrap()
}

fn private_state(suite: &Suite, tree: &RatchetTree, lp: &LeafPrivate) -> TreePrivateKeys {
    let h = common::hex;
    let leaf_key = HpkePrivateKey::from_slice(&h(&lp.encryption_priv)).unwrap();
    let leaf = tree.leaf(LeafIndex(lp.index)).unwrap();
    assert_eq!(
        leaf_key.public_key().unwrap().as_bytes().to_vec(),
        leaf.encryption_key
    );
    let mut keys = TreePrivateKeys::new(LeafIndex(lp.index), leaf_key);
    for ps in &lp.path_secrets {
        let secret = PathSecret::from_slice(&h(&ps.path_secret)).unwrap();
        let pk = keys
            .insert_path_secret(suite, NodeIndex(ps.node), &secret)
            .unwrap();
        let Some(wire::Node::Parent(p)) = tree.node(NodeIndex(ps.node)) else {
            panic!("private key for a blank or leaf node {}", ps.node);
        };
        assert_eq!(
            pk.as_bytes().to_vec(),
            p.encryption_key,
            "path secret of node {}",
            ps.node
        );
    }
    keys
}

/// Merges `path` from `sender` and decrypts it as `keys`; returns the decrypted path secret,
/// the commit secret and the root hash after the merge.
fn process(
    c: &Case,
    tree: &RatchetTree,
    keys: &TreePrivateKeys,
    sender: u32,
    path: &UpdatePath,
) -> crate::Result<(PathSecret, CommitSecret, Vec<u8>)> {
    let mut diff = TreeDiff::new(tree);
    let fdp = treekem::merge_path(&mut diff, LeafIndex(sender), path)?;
    let root = diff.root_hash()?;
    let ctx = context(c, root.as_bytes());
    let d = treekem::decrypt_path(&diff, keys, path, &fdp, &ctx, &[])?;
    Ok((d.path_secret, d.commit_secret, root.as_bytes().to_vec()))
}

#[test]
fn treekem_vectors() {
    let cases: Vec<Case> = common::load("mls/treekem.json");
    let mut tally = common::Tally::new("mls/treekem.json");
    let mut mut_rng = common::seeded_rng(9);
    let (mut decrypted, mut fresh_paths) = (0, 0);
    for (i, c) in cases.iter().enumerate() {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let tree = RatchetTree::from_wire(
            suite,
            &wire::RatchetTree::decode_exact(&h(&c.ratchet_tree)).unwrap(),
        )
        .unwrap();
        let states: Vec<(u32, TreePrivateKeys, SignaturePrivateKey)> = c
            .leaves_private
            .iter()
            .map(|lp| {
                let sig = SignaturePrivateKey::from_seed(&h(&lp.signature_priv)).unwrap();
                (lp.index, private_state(&suite, &tree, lp), sig)
            })
            .collect();
        for p in &c.update_paths {
            let path = UpdatePath::decode_exact(&h(&p.update_path)).unwrap();
            let commit_secret = CommitSecret::from_slice(&h(&p.commit_secret)).unwrap();
            for (j, keys, _) in &states {
                if *j == p.sender {
                    continue;
                }
                let expected = p.path_secrets[*j as usize]
                    .as_deref()
                    .expect("path secret for j");
                let (ps, cs, root) = process(c, &tree, keys, p.sender, &path).unwrap_or_else(|e| {
                    panic!("case {i}: leaf {j} processing sender {}: {e}", p.sender)
                });
                assert_eq!(
                    ps,
                    PathSecret::from_slice(&h(expected)).unwrap(),
                    "case {i}: path secret at {j}"
                );
                assert_eq!(cs, commit_secret, "case {i}: commit secret at {j}");
                assert_eq!(root, h(&p.tree_hash_after), "case {i}: tree hash after");
                decrypted += 1;
            }

            // A path with one public key changed no longer matches what the path secret derives
            // (or the parent hash the leaf signed).
            let mut tampered = path.clone();
            if let Some(node) = tampered.nodes.last_mut() {
                node.encryption_key[0] ^= 1;
                for (j, keys, _) in states.iter().filter(|(j, ..)| *j != p.sender).take(1) {
                    assert!(
                        process(c, &tree, keys, p.sender, &tampered).is_err_and(|e| e
                            == crate::Error::PeerMisbehaved(
                                crate::error::PeerMisbehaved::ParentHashInvalid
                            )),
                        "case {i}: tampered path at {j}"
                    );
                }
            }

            // A fresh UpdatePath from the same sender and tree.
            let (_, _, signer) = states
                .iter()
                .find(|(j, ..)| *j == p.sender)
                .expect("sender's private state");
            let mut diff = TreeDiff::new(&tree);
            let template = LeafTemplate {
                leaf: tree.leaf(LeafIndex(p.sender)).unwrap(),
                signer,
                group_id: &h(&c.group_id),
            };
            let prepared =
                treekem::prepare_path(&mut diff, LeafIndex(p.sender), template, &mut mut_rng)
                    .unwrap();
            let ctx = context(c, diff.root_hash().unwrap().as_bytes());
            let new_path = prepared.encrypt(&diff, &ctx, &[], 2, &mut mut_rng).unwrap();
            for (j, keys, _) in &states {
                if *j == p.sender {
                    continue;
                }
                let (_, cs, _) = process(c, &tree, keys, p.sender, &new_path)
                    .unwrap_or_else(|e| panic!("case {i}: leaf {j} processing fresh path: {e}"));
                assert_eq!(
                    &cs,
                    prepared.commit_secret(),
                    "case {i}: fresh commit secret at {j}"
                );
                fresh_paths += 1;
            }
        }
        tally.ran(c.cipher_suite);
    }
    println!(
        "treekem: {decrypted} vector paths and {fresh_paths} fresh paths decrypted by members"
    );
    tally.finish();
}
