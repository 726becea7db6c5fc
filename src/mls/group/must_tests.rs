//! Negative tests of RFC 9420 MUSTs that need a commit no honest client builds: a member
//! signs a modified commit with its real key (`frame_commit_unchecked`), so that exactly
//! one receiver check is left to refuse it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_core::SeedableRng;

use super::{CommitOptions, Group, GroupConfig, KeyPackageBundle};
use crate::crypto::{CipherSuite, SignaturePrivateKey};
use crate::error::{Error, PeerMisbehaved};
use crate::mls::validate::LEAF_NODE_LABEL;
use crate::mls::wire::{
    Add, Commit, Credential, Extension, ExtensionType, FramedContentBody, Lifetime, MlsMessage,
    MlsMessageBody, Node, Proposal,
};

type Rng = rand_chacha::ChaCha20Rng;

/// The clock of these tests (2027-01-15).
const NOW: u64 = 1_800_000_000;

fn bundle(name: &str, extensions: &[ExtensionType], rng: &mut Rng) -> KeyPackageBundle {
    KeyPackageBundle::with_suite(
        &CipherSuite(1).suite().unwrap(),
        Credential::Basic {
            identity: name.as_bytes().to_vec(),
        },
        SignaturePrivateKey::generate(rng),
        Lifetime::starting_at(NOW, 86_400),
        extensions,
        rng,
    )
    .unwrap()
}

fn add(b: &KeyPackageBundle) -> Proposal {
    Proposal::Add(Box::new(Add {
        key_package: b.key_package.clone(),
    }))
}

fn welcome_of(msg: Option<MlsMessage>) -> crate::mls::wire::Welcome {
    match msg.unwrap().body {
        MlsMessageBody::Welcome(w) => w,
        _ => panic!("welcome"),
    }
}

/// Alice, Bob and Carol after Alice's full commit (so the tree has parent keys).
fn three(rng: &mut Rng) -> [Group; 3] {
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle("alice", &[], rng),
        b"g",
        vec![],
        rng,
    )
    .unwrap();
    let (b, c) = (bundle("bob", &[], rng), bundle("carol", &[], rng));
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b)), crate::mls::Proposal(add(&c))],
            &CommitOptions::at(NOW),
            rng,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(out.welcome);
    let bob = Group::join_welcome(GroupConfig::default(), &w, b, None, vec![]).unwrap();
    let carol = Group::join_welcome(GroupConfig::default(), &w, c, None, vec![]).unwrap();
    [alice, bob, carol]
}

/// The commit inside a message of ours.
fn commit_of(msg: &MlsMessage) -> Commit {
    match &msg.body {
        MlsMessageBody::PublicMessage(pm) => match &pm.content.body {
            FramedContentBody::Commit(c) => (**c).clone(),
            _ => panic!("commit"),
        },
        _ => panic!("public message"),
    }
}

/// `g`'s next commit (a full one), modified by `f` and signed as `g`.
fn tampered(g: &mut Group, rng: &mut Rng, f: impl FnOnce(&mut Commit, &Group)) -> MlsMessage {
    let out = g.commit(vec![], &CommitOptions::at(NOW), rng).unwrap();
    g.discard_pending_commit();
    let mut commit = commit_of(&out.commit);
    f(&mut commit, g);
    g.frame_commit_unchecked(commit, rng).unwrap()
}

fn refused(g: &mut Group, msg: &MlsMessage, want: Error) {
    let before = g.to_bytes().unwrap();
    assert_eq!(g.process_message(msg).map(|_| ()), Err(want));
    assert!(*before == *g.to_bytes().unwrap());
}

/// RFC 9420 §12.4.2: "none of the public keys in the UpdatePath appear in any node of the
/// new ratchet tree" — not even the current key of a node on the committer's own direct
/// path (the old check exempted the whole direct path).
#[test]
fn path_reusing_a_key_of_its_own_direct_path_is_refused() {
    let mut rng = Rng::seed_from_u64(60);
    let [alice, mut bob, mut carol] = three(&mut rng);
    let root_key = match alice.tree.node(alice.tree.size().root()) {
        Some(Node::Parent(p)) => p.encryption_key.clone(),
        _ => panic!("root"),
    };
    let msg = tampered(&mut bob, &mut rng, |c, _| {
        let path = c.path.as_mut().unwrap();
        path.nodes.last_mut().unwrap().encryption_key = root_key;
    });
    refused(&mut carol, &msg, PeerMisbehaved::DuplicateKey.into());
}

/// RFC 9420 §7.3: the signature key of the committer's new leaf is unique in the tree: Bob
/// may not take Carol's (even with a leaf signed by Carol's key).
#[test]
fn path_leaf_with_another_members_signature_key_is_refused() {
    let mut rng = Rng::seed_from_u64(61);
    let [mut alice, mut bob, carol] = three(&mut rng);
    let msg = tampered(&mut bob, &mut rng, |c, bob| {
        let leaf = &mut c.path.as_mut().unwrap().leaf_node;
        leaf.signature_key = carol.signer.public_key().to_bytes().to_vec();
        let tbs = leaf.to_be_signed(bob.group_id(), bob.own_leaf.0).unwrap();
        leaf.signature = carol
            .signer
            .sign_with_label(LEAF_NODE_LABEL, &tbs)
            .unwrap()
            .to_vec();
    });
    refused(&mut alice, &msg, PeerMisbehaved::DuplicateKey.into());
}

/// RFC 9420 §7.3, §11.1: the committer's new leaf supports the group's required
/// capabilities (it used to be checked only for Adds and Updates).
#[test]
fn path_leaf_without_a_required_capability_is_refused() {
    let mut rng = Rng::seed_from_u64(62);
    let ext = ExtensionType(0xF0F0);
    let required = {
        let mut w = crate::codec::Writer::new();
        w.write_prefixed(|w| w.write_u16(ext.0));
        w.write_prefixed(|_| {});
        w.write_prefixed(|_| {});
        Extension {
            extension_type: ExtensionType::REQUIRED_CAPABILITIES,
            extension_data: w.as_bytes().to_vec(),
        }
    };
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle("alice", &[ext], &mut rng),
        b"g",
        vec![required],
        &mut rng,
    )
    .unwrap();
    let b = bundle("bob", &[ext], &mut rng);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b))],
            &CommitOptions::at(NOW),
            &mut rng,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let mut bob = Group::join_welcome(
        GroupConfig::default(),
        &welcome_of(out.welcome),
        b,
        None,
        vec![],
    )
    .unwrap();
    let msg = tampered(&mut bob, &mut rng, |c, bob| {
        let leaf = &mut c.path.as_mut().unwrap().leaf_node;
        leaf.capabilities.extensions.clear();
        let tbs = leaf.to_be_signed(bob.group_id(), bob.own_leaf.0).unwrap();
        leaf.signature = bob
            .signer
            .sign_with_label(LEAF_NODE_LABEL, &tbs)
            .unwrap()
            .to_vec();
    });
    refused(
        &mut alice,
        &msg,
        PeerMisbehaved::UnsupportedCapability.into(),
    );
}

/// RFC 9420 §12.4.3: "A client joining a group MUST verify that it supports every extension
/// in the GroupContext" — here one the group does not require, so the Add went through.
#[test]
fn joiner_refuses_a_group_with_an_extension_it_does_not_support() {
    let mut rng = Rng::seed_from_u64(63);
    let unknown = Extension {
        extension_type: ExtensionType(0xF0F1),
        extension_data: vec![1, 2, 3],
    };
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle("alice", &[ExtensionType(0xF0F1)], &mut rng),
        b"g",
        vec![unknown],
        &mut rng,
    )
    .unwrap();
    let b = bundle("bob", &[], &mut rng);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b))],
            &CommitOptions::at(NOW),
            &mut rng,
        )
        .unwrap();
    assert_eq!(
        Group::join_welcome(
            GroupConfig::default(),
            &welcome_of(out.welcome),
            b,
            None,
            vec![]
        )
        .map(|_| ()),
        Err(PeerMisbehaved::UnsupportedCapability.into())
    );
}

/// RFC 9420 §7.3: a leaf's credential type is supported by all members, and the leaf
/// supports all types in use.
#[test]
fn credential_types_must_be_supported_both_ways() {
    use crate::mls::validate::CredentialTypes;
    use crate::mls::wire::CredentialType;
    let mut rng = Rng::seed_from_u64(64);
    let basic = bundle("basic", &[], &mut rng).key_package.leaf_node;
    let mut x509 = basic.clone();
    x509.credential = Credential::X509 {
        certificates: vec![vec![1]],
    };
    x509.capabilities.credentials = vec![CredentialType::X509, CredentialType::BASIC];
    // Members using basic, supporting only basic: an X.509 leaf is not supported by them.
    assert_eq!(
        CredentialTypes::of([&basic]).check(&x509),
        Err(PeerMisbehaved::UnsupportedCapability.into())
    );
    // An X.509 member: a new leaf must support X.509 too.
    let mut only_basic = basic.clone();
    only_basic.capabilities.credentials = vec![CredentialType::BASIC];
    assert_eq!(
        CredentialTypes::of([&x509]).check(&only_basic),
        Err(PeerMisbehaved::UnsupportedCapability.into())
    );
    let mut both = basic;
    both.capabilities.credentials = vec![CredentialType::BASIC, CredentialType::X509];
    assert!(CredentialTypes::of([&x509, &both]).check(&both).is_ok());
}

/// RFC 9420 §12.4.2: the confirmation tag must verify with the new epoch's confirmation
/// key. A commit that is valid in every other respect but carries the wrong tag (here the
/// previous epoch's) is refused, unchanged.
#[test]
fn commit_with_a_wrong_confirmation_tag_is_refused() {
    let mut rng = Rng::seed_from_u64(65);
    let [mut alice, mut bob, _carol] = three(&mut rng);
    let msg = tampered(&mut bob, &mut rng, |_, _| {});
    refused(&mut alice, &msg, Error::AuthenticationFailed);
}
