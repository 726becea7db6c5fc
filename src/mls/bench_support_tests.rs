//! `mls::group::bench_support` (feature `bench-internals`, on for tests through the
//! dev-dependency): `populate` must leave a genuinely populated tree that the measured
//! members agree on, and `act_as_member` must refuse a bundle that is not the leaf's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::crypto::{CipherSuite, SignaturePrivateKey};
use crate::mls::bench_support::populate;
use crate::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::wire::{Add, Credential, Lifetime, MlsMessage, MlsMessageBody, Node, Proposal};
use rand_core::SeedableRng;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

type Rng = rand_chacha::ChaCha20Rng;

fn bundle(suite: u16, i: u32) -> KeyPackageBundle {
    let mut r = Rng::seed_from_u64(1_000 + u64::from(i));
    let s = CipherSuite(suite).suite().unwrap();
    KeyPackageBundle::with_suite(
        &s,
        Credential::Basic {
            identity: format!("member-{i}").into_bytes(),
        },
        SignaturePrivateKey::generate(&mut r),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &[],
        &mut r,
    )
    .unwrap()
}

fn join(welcome: &MlsMessage, i: u32, suite: u16) -> Group {
    let MlsMessageBody::Welcome(w) = &welcome.body else {
        panic!("not a Welcome")
    };
    Group::join_welcome(GroupConfig::default(), w, bundle(suite, i), None, vec![]).unwrap()
}

/// A group of `n` built by one commit of leaf 0; returns (creator, member n-1, actor = member 1).
fn sparse(n: u32, suite: u16, r: &mut Rng) -> (Group, Group, Group) {
    let mut creator =
        Group::create(GroupConfig::default(), bundle(suite, 0), b"g", vec![], r).unwrap();
    let adds = (1..n)
        .map(|i| {
            Proposal::Add(Box::new(Add {
                key_package: bundle(suite, i).key_package,
            }))
        })
        .map(crate::mls::Proposal)
        .collect();
    let out = creator.commit(adds, &CommitOptions::at(NOW), r).unwrap();
    creator.merge_pending_commit().unwrap();
    let welcome = out.welcome.unwrap();
    let last = join(&welcome, n - 1, suite);
    let actor = join(&welcome, 1, suite);
    (creator, last, actor)
}

fn unmerged_and_blank(g: &Group) -> (usize, usize) {
    let tree = g.tree();
    let (mut unmerged, mut blank) = (0, 0);
    for i in (1..tree.size().width()).step_by(2) {
        match tree.node(NodeIndex(i)) {
            Some(Node::Parent(p)) => unmerged += p.unmerged_leaves.len(),
            Some(Node::Leaf(_)) => panic!("leaf at a parent index"),
            None => blank += 1,
        }
    }
    (unmerged, blank)
}

#[test]
fn populate_fills_every_parent_and_members_agree() {
    for (suite, n) in [(1u16, 32u32), (3, 37)] {
        let mut r = Rng::seed_from_u64(u64::from(n));
        let (mut creator, mut last, mut actor) = sparse(n, suite, &mut r);
        // Right after the one-commit build, the tree is sparse: only leaf 0's direct path
        // holds keys, every other parent is blank.
        let (_, blank) = unmerged_and_blank(&creator);
        assert!(blank > n as usize / 2, "not sparse: {blank} blank parents");

        let epoch = creator.epoch();
        populate(
            &mut [&mut creator, &mut last],
            &mut actor,
            |leaf| Ok(bundle(suite, leaf.0)),
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();

        assert_eq!(
            creator.epoch(),
            epoch + u64::from(n),
            "one commit per member"
        );
        assert_eq!(last.epoch(), creator.epoch());
        assert_eq!(actor.epoch(), creator.epoch());
        assert_eq!(creator.tree_hash(), last.tree_hash());
        assert_eq!(creator.tree_hash(), actor.tree_hash());
        assert_eq!(creator.epoch_authenticator(), last.epoch_authenticator());
        let (unmerged, blank) = unmerged_and_blank(&creator);
        assert_eq!(unmerged, 0, "no unmerged leaves after everyone committed");
        if n.is_power_of_two() {
            assert_eq!(blank, 0, "every parent holds a key");
        }
        // Every leaf has committed since joining: none still holds its KeyPackage's key.
        for (leaf, node) in creator.tree().leaves() {
            assert_ne!(
                node.encryption_key,
                bundle(suite, leaf.0).key_package.leaf_node.encryption_key,
                "leaf {} never committed",
                leaf.0
            );
        }
        // The measured members still work: a commit by one is processed by the other.
        let out = creator
            .commit(vec![], &CommitOptions::at(NOW), &mut r)
            .unwrap();
        creator.merge_pending_commit().unwrap();
        match last.process_message(&out.commit).unwrap() {
            ProcessedMessage::Commit(staged) => last.merge_staged_commit(*staged).unwrap(),
            _ => panic!("not a commit"),
        }
        assert_eq!(creator.epoch_authenticator(), last.epoch_authenticator());
    }
}

#[test]
fn act_as_member_refuses_a_bundle_that_is_not_the_leafs() {
    let mut r = Rng::seed_from_u64(5);
    let (_creator, _last, mut actor) = sparse(6, 1, &mut r);
    let before = actor.to_bytes().unwrap();
    // Leaf 3 holds member 3's KeyPackage, not member 4's.
    assert!(actor
        .act_as_member(LeafIndex(3), bundle(1, 4))
        .is_err_and(|e| e == crate::Error::ApiMisuse(crate::error::ApiMisuse::NotAMember)));
    // Leaf 9 is outside the tree.
    assert!(actor
        .act_as_member(LeafIndex(9), bundle(1, 3))
        .is_err_and(|e| e == crate::Error::ApiMisuse(crate::error::ApiMisuse::NotAMember)));
    assert_eq!(
        *actor.to_bytes().unwrap(),
        *before,
        "refused: state unchanged"
    );
    actor.act_as_member(LeafIndex(3), bundle(1, 3)).unwrap();
    assert_eq!(actor.own_leaf(), LeafIndex(3));
}
