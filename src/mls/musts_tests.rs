//! Negative tests of RFC 9420 MUSTs (§7.3, §8.4, §10.1, §12.2, §12.4.2, §12.4.3.1), one per
//! rule, through the public API. Each test shows the typed error and, where a group receives
//! the bad input, that the receiver's saved state is byte for byte what it was.
//!
//! Two sides of each §12.2 list rule are shown:
//! - the committer: an honest `Group::commit` refuses the list itself (typed error, no
//!   pending commit, state unchanged);
//! - the receivers: a *rogue member* sends the commit anyway. The rogue is built from the
//!   member's own saved state (`Group::to_bytes`, whose layout the `persist` module
//!   documents): it reads its signing key and this epoch's `membership_key` from it, then
//!   signs and tags the commit with the public `framing::sign_content` and
//!   `framing::protect_public`. The rogue commit carries the confirmation tag of an honest
//!   empty commit, which cannot match the changed content: each rule tested here is checked
//!   before the tag, so the error it gives is specific. The test
//!   `rogue_member_framing_reproduces_honest_messages` shows that the framing itself
//!   authenticates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::codec::{Decode, Reader};
use crate::crypto::{CipherSuite, Secret, SignaturePrivateKey, Suite};
use crate::error::PeerMisbehaved;
use crate::mls::framing;
use crate::mls::group::{
    CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage, StagedCommit,
    STATE_VERSION,
};
use crate::mls::key_schedule::MembershipKey;
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{
    Add, Commit, Credential, ExternalInit, FramedContent, FramedContentBody, GroupContext,
    GroupContextExtensions, GroupInfo, KeyPackage, LeafNode, LeafNodeSource, Lifetime, MlsMessage,
    MlsMessageBody, PreSharedKey, PreSharedKeyId, Proposal, ProposalOrRef, ProtocolVersion, Psk,
    RatchetTree, ReInit, Remove, Sender, Update, Welcome, WireFormat,
};
use crate::Error;

use crate::test_support as common;
use common::{assert_agree, rng, Rng};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

/// Seeds of the members' signing keys (a KeyPackage of the same client reuses its key).
const ALICE: u8 = 1;
const BOB: u8 = 2;
const CAROL: u8 = 3;
const DAVE: u8 = 4;
const ERIN: u8 = 5;

/// Bob's and Carol's leaves in [`three`].
const BOB_LEAF: u32 = 1;
const CAROL_LEAF: u32 = 2;

/// The bound for opaque fields read from a saved state.
const MAX_FIELD: usize = 1 << 16;

fn invalid_list() -> Error {
    PeerMisbehaved::InvalidProposalList.into()
}

fn suite(id: u16) -> Suite {
    CipherSuite(id).suite().unwrap()
}

fn signer(seed: u8) -> SignaturePrivateKey {
    SignaturePrivateKey::from_seed(&[seed; 32]).unwrap()
}

fn basic(name: &str) -> Credential {
    Credential::Basic {
        identity: name.as_bytes().to_vec(),
    }
}

/// A KeyPackage bundle of `suite_id` for `name`, signed by the key of `key_seed`.
fn bundle_of(suite_id: u16, name: &str, key_seed: u8, r: &mut Rng) -> KeyPackageBundle {
    KeyPackageBundle::with_suite(
        &suite(suite_id),
        basic(name),
        signer(key_seed),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &[],
        r,
    )
    .unwrap()
}

fn bundle(name: &str, key_seed: u8, r: &mut Rng) -> KeyPackageBundle {
    bundle_of(1, name, key_seed, r)
}

/// Two identical bundles (same KeyPackage, same private keys): one to fail a join with, one
/// to show the same join succeeds with the right input.
fn twins(name: &str, key_seed: u8, r: &mut Rng) -> (KeyPackageBundle, KeyPackageBundle) {
    let mut copy = r.clone();
    let a = bundle(name, key_seed, r);
    let b = bundle(name, key_seed, &mut copy);
    assert_eq!(a.key_package, b.key_package);
    (a, b)
}

fn add(kp: &KeyPackage) -> Proposal {
    Proposal::Add(Box::new(Add {
        key_package: kp.clone(),
    }))
}

fn remove(leaf: u32) -> Proposal {
    Proposal::Remove(Remove { removed: leaf })
}

fn psk(id: &[u8], nonce: u8) -> Proposal {
    Proposal::PreSharedKey(Box::new(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: id.to_vec(),
            },
            psk_nonce: vec![nonce; 32],
        },
    }))
}

fn gce() -> Proposal {
    Proposal::GroupContextExtensions(GroupContextExtensions { extensions: vec![] })
}

fn by_value(proposals: Vec<Proposal>) -> Vec<ProposalOrRef> {
    proposals.into_iter().map(ProposalOrRef::Proposal).collect()
}

fn welcome_of(m: &MlsMessage) -> Welcome {
    match &m.body {
        MlsMessageBody::Welcome(w) => w.clone(),
        _ => panic!("not a welcome"),
    }
}

fn group_info_of(g: &Group, with_tree: bool) -> GroupInfo {
    match g.group_info(with_tree).unwrap().body {
        MlsMessageBody::GroupInfo(gi) => *gi,
        _ => panic!("not a GroupInfo"),
    }
}

/// The commit in an honest commit message, and its confirmation tag.
fn commit_parts(m: &MlsMessage) -> (Commit, Vec<u8>) {
    let MlsMessageBody::PublicMessage(pm) = &m.body else {
        panic!("not a PublicMessage")
    };
    let FramedContentBody::Commit(c) = &pm.content.body else {
        panic!("not a commit")
    };
    ((**c).clone(), pm.auth.confirmation_tag.clone().unwrap())
}

/// The proposal in a proposal message.
fn proposal_of(m: &MlsMessage) -> Proposal {
    let MlsMessageBody::PublicMessage(pm) = &m.body else {
        panic!("not a PublicMessage")
    };
    let FramedContentBody::Proposal(p) = &pm.content.body else {
        panic!("not a proposal")
    };
    p.clone()
}

fn update_leaf(p: &Proposal) -> LeafNode {
    match p {
        Proposal::Update(u) => u.leaf_node.clone(),
        _ => panic!("not an update"),
    }
}

/// Re-signs a LeafNode of member `leaf_index` (RFC 9420 §7.2, `LeafNodeTBS`).
fn resign_leaf(leaf: &mut LeafNode, key: &SignaturePrivateKey, group_id: &[u8], leaf_index: u32) {
    let tbs = leaf.to_be_signed(group_id, leaf_index).unwrap();
    leaf.signature = key.sign_with_label(b"LeafNodeTBS", &tbs).unwrap().to_vec();
}

/// Re-signs a KeyPackage (RFC 9420 §10, `KeyPackageTBS`).
fn resign_key_package(kp: &mut KeyPackage, key: &SignaturePrivateKey) {
    let tbs = kp.to_be_signed().unwrap();
    kp.signature = key
        .sign_with_label(b"KeyPackageTBS", &tbs)
        .unwrap()
        .to_vec();
}

/// Alice (leaf 0), Bob (leaf 1) and Carol (leaf 2) of suite 1, after Alice's commit that
/// added Bob and Carol (so the tree has parent keys), all in epoch 1.
fn three(seed: u64) -> (Group, Group, Group, Rng) {
    let mut r = rng(seed);
    let config = GroupConfig::default();
    let mut alice = Group::create(
        config.clone(),
        bundle("alice", ALICE, &mut r),
        b"meeting",
        vec![],
        &mut r,
    )
    .unwrap();
    let (b, c) = (bundle("bob", BOB, &mut r), bundle("carol", CAROL, &mut r));
    let out = alice
        .commit(
            vec![
                crate::mls::Proposal(add(&b.key_package)),
                crate::mls::Proposal(add(&c.key_package)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    let bob = Group::join_welcome(config.clone(), &w, b, None, vec![]).unwrap();
    let carol = Group::join_welcome(config, &w, c, None, vec![]).unwrap();
    assert_eq!(bob.own_leaf(), LeafIndex(BOB_LEAF));
    assert_eq!(carol.own_leaf(), LeafIndex(CAROL_LEAF));
    (alice, bob, carol, r)
}

/// What a member's client holds that a rogue build of it can sign and tag with: its
/// signing key and the current epoch's `membership_key`, read from its saved state
/// ("MKGS" | version | GroupContext | RatchetTree | own_leaf | active | signer seed |
/// tree private keys | pending leaf keys | sender_data, exporter, external,
/// confirmation_key, membership_key, …).
struct Insider {
    signer: SignaturePrivateKey,
    membership: MembershipKey,
}

fn insider(g: &Group) -> Insider {
    let state = g.to_bytes().unwrap();
    let mut r = Reader::new(state.as_slice());
    assert_eq!(r.take(4).unwrap(), b"MKGS");
    assert_eq!(r.read_u16().unwrap(), STATE_VERSION);
    GroupContext::decode(&mut r).unwrap();
    RatchetTree::decode(&mut r).unwrap();
    r.read_u32().unwrap();
    r.read_u8().unwrap();
    let signer = SignaturePrivateKey::from_seed(r.read_opaque(MAX_FIELD).unwrap()).unwrap();
    for _ in 0..r.read_u32().unwrap() {
        r.read_u32().unwrap();
        r.read_opaque(MAX_FIELD).unwrap();
    }
    for _ in 0..r.read_u32().unwrap() {
        r.read_opaque(MAX_FIELD).unwrap();
        r.read_opaque(MAX_FIELD).unwrap();
    }
    for _ in 0..4 {
        r.read_opaque(MAX_FIELD).unwrap();
    }
    let membership = MembershipKey::from_slice(r.read_opaque(MAX_FIELD).unwrap()).unwrap();
    let own = g.tree().leaf(g.own_leaf()).unwrap();
    assert_eq!(own.signature_key, signer.public_key().to_bytes().to_vec());
    Insider { signer, membership }
}

/// `body` as a PublicMessage from member `g` in its current epoch, signed with its key and
/// tagged with its membership key, without any of `g`'s own checks.
fn frame_as(g: &Group, body: FramedContentBody, confirmation_tag: Option<Vec<u8>>) -> MlsMessage {
    let keys = insider(g);
    let content = FramedContent {
        group_id: g.group_id().to_vec(),
        epoch: g.epoch(),
        sender: Sender::Member(g.own_leaf().0),
        authenticated_data: Vec::new(),
        body,
    };
    let mut auth = framing::sign_content(
        g.suite(),
        &keys.signer,
        WireFormat::MLS_PUBLIC_MESSAGE,
        content,
        g.context(),
    )
    .unwrap();
    auth.auth.confirmation_tag = confirmation_tag;
    let pm = framing::protect_public(g.suite(), auth, Some(&keys.membership), g.context()).unwrap();
    MlsMessage {
        version: ProtocolVersion::MLS10,
        body: MlsMessageBody::PublicMessage(Box::new(pm)),
    }
}

/// An honest empty full commit of `g` (nothing included by reference), not kept pending.
fn honest_empty_commit(g: &mut Group, r: &mut Rng) -> (Commit, Vec<u8>) {
    let options = CommitOptions {
        include_received: false,
        ..CommitOptions::at(NOW)
    };
    let out = g.commit(vec![], &options, r).unwrap();
    g.discard_pending_commit();
    commit_parts(&out.commit)
}

/// A commit of `proposals` from rogue member `g`, with the UpdatePath of an honest empty
/// commit (`with_path`) or none.
fn rogue_commit(
    g: &mut Group,
    proposals: Vec<ProposalOrRef>,
    with_path: bool,
    r: &mut Rng,
) -> MlsMessage {
    let (honest, tag) = honest_empty_commit(g, r);
    let commit = Commit {
        proposals,
        path: if with_path { honest.path } else { None },
    };
    frame_as(g, FramedContentBody::Commit(Box::new(commit)), Some(tag))
}

/// `g` refuses `msg` with `want` and its saved state does not change.
fn refused(g: &mut Group, msg: &MlsMessage, want: Error) {
    let before = g.to_bytes().unwrap();
    assert_eq!(g.process_message(msg).map(|_| ()), Err(want));
    assert!(
        *before == *g.to_bytes().unwrap(),
        "a refused message changed the group"
    );
}

/// `g`'s own commit of `proposals` is refused with `want`: nothing pending, state unchanged.
fn commit_refused(g: &mut Group, proposals: Vec<Proposal>, want: Error, r: &mut Rng) {
    let before = g.to_bytes().unwrap();
    assert_eq!(
        g.commit(
            proposals.into_iter().map(crate::mls::Proposal).collect(),
            &CommitOptions::at(NOW),
            r
        )
        .map(|_| ()),
        Err(want)
    );
    assert!(!g.has_pending_commit());
    assert!(
        *before == *g.to_bytes().unwrap(),
        "a refused commit changed the group"
    );
}

/// The §12.2 rule broken by `proposals`, both ways: `committer` refuses to commit them, and
/// `receiver` refuses them from a rogue `committer`.
fn refused_both_ways(
    committer: &mut Group,
    receiver: &mut Group,
    proposals: Vec<Proposal>,
    want: Error,
    r: &mut Rng,
) {
    commit_refused(committer, proposals.clone(), want, r);
    let msg = rogue_commit(committer, by_value(proposals), true, r);
    refused(receiver, &msg, want);
}

/// The commit `g` stages from `msg` (processing it changes nothing yet).
fn staged(g: &mut Group, msg: &MlsMessage) -> StagedCommit {
    match g.process_message(msg).unwrap() {
        ProcessedMessage::Commit(s) => *s,
        other => panic!("expected a commit, got {other:?}"),
    }
}

/// Stores the proposal in `msg` at `g` and returns its reference.
fn stored(g: &mut Group, msg: &MlsMessage) -> Vec<u8> {
    match g.process_message(msg).unwrap() {
        ProcessedMessage::Proposal { reference, .. } => reference,
        other => panic!("expected a proposal, got {other:?}"),
    }
}

/// Not a MUST: the rogue-member framing of these tests is sound. Re-framing an honest
/// commit or proposal with the keys read from the saved state gives the very same message,
/// which the other members accept.
#[test]
fn rogue_member_framing_reproduces_honest_messages() {
    let (mut alice, mut bob, mut carol, mut r) = three(1);
    let update = carol.propose_update(&mut r).unwrap();
    let reframed = frame_as(
        &carol,
        FramedContentBody::Proposal(proposal_of(&update)),
        None,
    );
    assert_eq!(reframed, update);
    stored(&mut alice, &reframed);
    stored(&mut bob, &reframed);
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    let (commit, tag) = commit_parts(&out.commit);
    let reframed = frame_as(&bob, FramedContentBody::Commit(Box::new(commit)), Some(tag));
    assert_eq!(reframed, out.commit);
    let s = staged(&mut alice, &reframed);
    assert_eq!(s.updated(), [LeafIndex(CAROL_LEAF)]);
    alice.merge_staged_commit(s).unwrap();
    let s = staged(&mut carol, &reframed);
    carol.merge_staged_commit(s).unwrap();
    bob.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob, &carol]);
}

/// RFC 9420 §12.2: a commit is invalid if it "contains any Update proposals generated by
/// the committer" (by value or by reference).
#[test]
fn committer_must_not_commit_its_own_update() {
    let (mut alice, mut bob, _carol, mut r) = three(2);
    let msg = bob.propose_update(&mut r).unwrap();
    let update = proposal_of(&msg);
    let reference = stored(&mut alice, &msg);
    // Bob's own client refuses it by value, and leaves its stored Update out.
    commit_refused(&mut bob, vec![update.clone()], invalid_list(), &mut r);
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    assert!(commit_parts(&out.commit).0.proposals.is_empty());
    bob.discard_pending_commit();
    for proposals in [
        vec![ProposalOrRef::Reference(reference)],
        by_value(vec![update]),
    ] {
        let m = rogue_commit(&mut bob, proposals, true, &mut r);
        refused(&mut alice, &m, invalid_list());
    }
}

/// RFC 9420 §12.2: a commit is invalid if it "contains any Remove proposals that remove
/// the committer" (by value, or its own leave request by reference).
#[test]
fn committer_must_not_remove_itself() {
    let (mut alice, mut bob, _carol, mut r) = three(3);
    let leave = bob.propose_leave(&mut r).unwrap();
    let reference = stored(&mut alice, &leave);
    commit_refused(&mut bob, vec![remove(BOB_LEAF)], invalid_list(), &mut r);
    // Its own stored leave request is left out of Bob's commits.
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    assert!(commit_parts(&out.commit).0.proposals.is_empty());
    bob.discard_pending_commit();
    for proposals in [
        vec![ProposalOrRef::Reference(reference)],
        by_value(vec![remove(BOB_LEAF)]),
    ] {
        let m = rogue_commit(&mut bob, proposals, true, &mut r);
        refused(&mut alice, &m, invalid_list());
    }
}

/// RFC 9420 §12.2: a commit is invalid if it "contains multiple Update and/or Remove
/// proposals that apply to the same leaf" — here two Removes, and an Update with a Remove.
#[test]
fn no_two_removes_or_update_and_remove_for_one_leaf() {
    let (mut alice, mut bob, mut carol, mut r) = three(4);
    refused_both_ways(
        &mut bob,
        &mut alice,
        vec![remove(CAROL_LEAF), remove(CAROL_LEAF)],
        invalid_list(),
        &mut r,
    );
    // Carol's Update is stored everywhere; a Remove of Carol by value pushes it out of an
    // honest commit, and a rogue commit with both is refused.
    let update = carol.propose_update(&mut r).unwrap();
    let reference = stored(&mut alice, &update);
    stored(&mut bob, &update);
    let out = bob
        .commit(
            vec![crate::mls::Proposal(remove(CAROL_LEAF))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    assert_eq!(
        commit_parts(&out.commit).0.proposals,
        by_value(vec![remove(CAROL_LEAF)])
    );
    let rogue = rogue_commit(
        &mut bob,
        vec![
            ProposalOrRef::Reference(reference),
            ProposalOrRef::Proposal(remove(CAROL_LEAF)),
        ],
        true,
        &mut r,
    );
    refused(&mut alice, &rogue, invalid_list());
    // One Remove of Carol is fine.
    assert_eq!(
        staged(&mut alice, &out.commit).removed(),
        [LeafIndex(CAROL_LEAF)]
    );
}

/// RFC 9420 §12.2: a commit is invalid if it "contains multiple Update and/or Remove
/// proposals that apply to the same leaf" — here two Updates of one member. (An Update by
/// value is the committer's own, so only the receiver side exists.)
#[test]
fn no_two_updates_for_one_leaf() {
    let (mut alice, mut bob, mut carol, mut r) = three(5);
    let first = carol.propose_update(&mut r).unwrap();
    let second = carol.propose_update(&mut r).unwrap();
    let refs = [stored(&mut alice, &first), stored(&mut alice, &second)];
    stored(&mut bob, &first);
    stored(&mut bob, &second);
    // An honest committer includes one of them.
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    assert_eq!(
        commit_parts(&out.commit).0.proposals,
        vec![ProposalOrRef::Reference(refs[0].clone())]
    );
    let rogue = rogue_commit(
        &mut bob,
        refs.iter().cloned().map(ProposalOrRef::Reference).collect(),
        true,
        &mut r,
    );
    refused(&mut alice, &rogue, invalid_list());
    assert_eq!(
        staged(&mut alice, &out.commit).updated(),
        [LeafIndex(CAROL_LEAF)]
    );
}

/// RFC 9420 §12.2: a commit is invalid if it "contains multiple PreSharedKey proposals that
/// reference the same PreSharedKeyID".
#[test]
fn no_two_psk_proposals_with_the_same_id() {
    let (mut alice, mut bob, mut carol, mut r) = three(6);
    for g in [&mut alice, &mut bob, &mut carol] {
        g.add_external_psk(b"psk", Secret::from_slice(&[9; 32]).unwrap());
    }
    refused_both_ways(
        &mut bob,
        &mut alice,
        vec![psk(b"psk", 1), psk(b"psk", 1)],
        invalid_list(),
        &mut r,
    );
    // The same psk_id with another nonce is another PreSharedKeyID: accepted.
    let out = bob
        .commit(
            vec![
                crate::mls::Proposal(psk(b"psk", 1)),
                crate::mls::Proposal(psk(b"psk", 2)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    staged(&mut alice, &out.commit);
}

/// RFC 9420 §12.2: a commit is invalid if it "contains multiple GroupContextExtensions
/// proposals".
#[test]
fn at_most_one_group_context_extensions_proposal() {
    let (mut alice, mut bob, _carol, mut r) = three(7);
    refused_both_ways(
        &mut bob,
        &mut alice,
        vec![gce(), gce()],
        invalid_list(),
        &mut r,
    );
    let out = bob
        .commit(
            vec![crate::mls::Proposal(gce())],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    staged(&mut alice, &out.commit);
}

/// RFC 9420 §12.2: a commit is invalid if it "contains a ReInit proposal together with any
/// other proposal".
#[test]
fn reinit_must_be_the_only_proposal() {
    let (mut alice, mut bob, _carol, mut r) = three(8);
    let reinit = Proposal::ReInit(Box::new(ReInit {
        group_id: b"meeting-2".to_vec(),
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(1),
        extensions: vec![],
    }));
    for other in [remove(CAROL_LEAF), gce()] {
        refused_both_ways(
            &mut bob,
            &mut alice,
            vec![reinit.clone(), other],
            invalid_list(),
            &mut r,
        );
    }
    let out = bob
        .commit(
            vec![crate::mls::Proposal(reinit)],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    assert!(staged(&mut alice, &out.commit).reinit().is_some());
}

/// RFC 9420 §12.2: a regular (member) commit is invalid if it "contains an ExternalInit
/// proposal" (only a `new_member_commit` carries one).
#[test]
fn external_init_only_in_external_commits() {
    let (mut alice, mut bob, _carol, mut r) = three(9);
    let external_init = Proposal::ExternalInit(ExternalInit {
        kem_output: vec![7; 32],
    });
    refused_both_ways(
        &mut bob,
        &mut alice,
        vec![external_init],
        invalid_list(),
        &mut r,
    );
}

/// RFC 9420 §12.2: a commit is invalid if it "contains an Add proposal for a client already
/// in the group" (the same signature key), unless a Remove in it removes that client.
#[test]
fn add_of_a_current_member_is_refused() {
    let (mut alice, mut bob, _carol, mut r) = three(10);
    // A new KeyPackage of Carol's client: her signature key, fresh HPKE keys.
    let carol_again = bundle("carol", CAROL, &mut r);
    refused_both_ways(
        &mut bob,
        &mut alice,
        vec![add(&carol_again.key_package)],
        invalid_list(),
        &mut r,
    );
    let out = bob
        .commit(
            vec![
                crate::mls::Proposal(remove(CAROL_LEAF)),
                crate::mls::Proposal(add(&carol_again.key_package)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let s = staged(&mut alice, &out.commit);
    assert_eq!(s.removed(), [LeafIndex(CAROL_LEAF)]);
    assert_eq!(s.added().len(), 1);
}

/// RFC 9420 §12.4.2: "Verify that the path value is populated if the proposals vector
/// contains any Update or Remove proposals, or if it's empty" (and for
/// GroupContextExtensions, whose type requires a path, §17.4).
#[test]
fn commit_that_needs_a_path_must_have_one() {
    let (mut alice, mut bob, mut carol, mut r) = three(11);
    let update = carol.propose_update(&mut r).unwrap();
    let reference = stored(&mut alice, &update);
    for proposals in [
        vec![],
        by_value(vec![remove(CAROL_LEAF)]),
        vec![ProposalOrRef::Reference(reference)],
        by_value(vec![gce()]),
    ] {
        let m = rogue_commit(&mut bob, proposals, false, &mut r);
        refused(&mut alice, &m, PeerMisbehaved::MissingPath.into());
    }
    // An honest committer adds the path even when asked not to; a PSK-only commit may go
    // without one.
    let no_path = CommitOptions {
        force_path: false,
        include_received: false,
        ..CommitOptions::at(NOW)
    };
    let out = bob
        .commit(
            vec![crate::mls::Proposal(remove(CAROL_LEAF))],
            &no_path,
            &mut r,
        )
        .unwrap();
    assert!(commit_parts(&out.commit).0.path.is_some());
    bob.discard_pending_commit();
    for g in [&mut alice, &mut bob] {
        g.add_external_psk(b"psk", Secret::from_slice(&[9; 32]).unwrap());
    }
    let out = bob
        .commit(vec![crate::mls::Proposal(psk(b"psk", 1))], &no_path, &mut r)
        .unwrap();
    assert!(commit_parts(&out.commit).0.path.is_none());
    staged(&mut alice, &out.commit);
}

/// RFC 9420 §12.4.2 and §8.4: every PSK a commit names must be available; one that is not
/// makes the commit fail (at the committer and at each receiver).
#[test]
fn commit_psk_must_be_available() {
    let (mut alice, mut bob, mut carol, mut r) = three(12);
    for g in [&mut bob, &mut carol] {
        g.add_external_psk(b"room", Secret::from_slice(&[5; 32]).unwrap());
    }
    let out = bob
        .commit(
            vec![crate::mls::Proposal(psk(b"room", 1))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    refused(&mut alice, &out.commit, PeerMisbehaved::PskNotFound.into());
    commit_refused(
        &mut alice,
        vec![psk(b"room", 2)],
        PeerMisbehaved::PskNotFound.into(),
        &mut r,
    );
    // Carol holds the PSK and accepts the same commit.
    staged(&mut carol, &out.commit);
}

/// RFC 9420 §12.4.2: "Validate the LeafNode as specified in Section 7.3. The
/// leaf_node_source field MUST be set to commit."
#[test]
fn path_leaf_source_must_be_commit() {
    let (mut alice, mut bob, _carol, mut r) = three(13);
    let key = signer(BOB);
    let (honest, tag) = honest_empty_commit(&mut bob, &mut r);
    for source in [
        LeafNodeSource::Update,
        LeafNodeSource::KeyPackage(Lifetime::starting_at(NOW, KP_LIFETIME)),
    ] {
        let mut commit = honest.clone();
        let leaf = &mut commit.path.as_mut().unwrap().leaf_node;
        leaf.leaf_node_source = source;
        resign_leaf(leaf, &key, bob.group_id(), BOB_LEAF);
        let m = frame_as(
            &bob,
            FramedContentBody::Commit(Box::new(commit)),
            Some(tag.clone()),
        );
        refused(&mut alice, &m, PeerMisbehaved::UnexpectedLeafSource.into());
    }
}

/// RFC 9420 §12.4.2: the path's LeafNode "encryption_key [...] MUST be different from the
/// encryption_key of the committer's current leaf" (here: kept, and re-signed).
#[test]
fn path_leaf_must_have_a_new_encryption_key() {
    let (mut alice, mut bob, _carol, mut r) = three(14);
    let old_key = bob
        .tree()
        .leaf(LeafIndex(BOB_LEAF))
        .unwrap()
        .encryption_key
        .clone();
    let (mut commit, tag) = honest_empty_commit(&mut bob, &mut r);
    let leaf = &mut commit.path.as_mut().unwrap().leaf_node;
    leaf.encryption_key = old_key;
    // Without a new signature the leaf fails §7.3 first.
    let unsigned = frame_as(
        &bob,
        FramedContentBody::Commit(Box::new(commit.clone())),
        Some(tag.clone()),
    );
    refused(&mut alice, &unsigned, Error::AuthenticationFailed);
    let leaf = &mut commit.path.as_mut().unwrap().leaf_node;
    resign_leaf(leaf, &signer(BOB), bob.group_id(), BOB_LEAF);
    let m = frame_as(&bob, FramedContentBody::Commit(Box::new(commit)), Some(tag));
    refused(&mut alice, &m, PeerMisbehaved::DuplicateKey.into());
}

/// RFC 9420 §12.4.3.1: "Verify that the tree hash of the ratchet tree matches the
/// tree_hash field in GroupInfo" — for a Welcome and for an external join, each given a
/// tree (out of band) of an earlier epoch.
#[test]
fn joiner_tree_must_match_the_tree_hash() {
    let mut r = rng(15);
    let config = GroupConfig {
        ratchet_tree_extension: false,
        ..GroupConfig::default()
    };
    let mut alice = Group::create(
        config.clone(),
        bundle("alice", ALICE, &mut r),
        b"meeting",
        vec![],
        &mut r,
    )
    .unwrap();
    // Alice's leaf in the epoch-0 tree has the same signature key: the GroupInfo
    // signature still verifies against it.
    let stale_tree = alice.tree().to_wire();
    let (b, b_twin) = twins("bob", BOB, &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b.key_package))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    assert_eq!(
        Group::join_welcome(config.clone(), &w, b, Some(&stale_tree), vec![]).map(|_| ()),
        Err(PeerMisbehaved::TreeHashMismatch.into())
    );
    let tree = alice.tree().to_wire();
    let bob = Group::join_welcome(config.clone(), &w, b_twin, Some(&tree), vec![]).unwrap();
    assert_agree(&[&alice, &bob]);

    let gi = group_info_of(&alice, false);
    assert_eq!(
        Group::join_external(
            config.clone(),
            &gi,
            bundle("dave", DAVE, &mut r),
            Some(&stale_tree),
            &mut r
        )
        .map(|_| ()),
        Err(PeerMisbehaved::TreeHashMismatch.into())
    );
    Group::join_external(
        config,
        &gi,
        bundle("dave", DAVE, &mut r),
        Some(&tree),
        &mut r,
    )
    .unwrap();
}

/// RFC 9420 §12.4.3.1: "Identify an entry in the secrets array where the new_member value
/// corresponds to one of this client's KeyPackages [...]. If no such field exists [...]
/// return an error."
#[test]
fn welcome_without_our_key_package_ref_is_refused() {
    let (mut alice, _bob, _carol, mut r) = three(16);
    let dave = bundle("dave", DAVE, &mut r);
    // Another KeyPackage of Dave's client (same key, other init key): not the one added.
    let other = bundle("dave", DAVE, &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&dave.key_package))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    assert_eq!(
        Group::join_welcome(GroupConfig::default(), &w, other, None, vec![]).map(|_| ()),
        Err(PeerMisbehaved::NoGroupSecretsForUs.into())
    );
    let dave = Group::join_welcome(GroupConfig::default(), &w, dave, None, vec![]).unwrap();
    assert_agree(&[&alice, &dave]);
}

/// RFC 9420 §12.4.3.1: "If the cipher suite [...] does not match the cipher suite of the
/// KeyPackage, return an error."
#[test]
fn welcome_of_another_suite_than_our_key_package_is_refused() {
    let (mut alice, _bob, _carol, mut r) = three(17);
    let dave = bundle("dave", DAVE, &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&dave.key_package))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    let suite3 = bundle_of(3, "dave", DAVE, &mut r);
    assert_eq!(
        Group::join_welcome(GroupConfig::default(), &w, suite3, None, vec![]).map(|_| ()),
        Err(PeerMisbehaved::KeyPackageMismatch.into())
    );
}

/// RFC 9420 §12.4.3.1: "Identify a leaf in the tree [...] that is identical to the
/// leaf_node field of the KeyPackage. If no such field exists, return an error." The
/// Welcome's entry is readdressed to a KeyPackage with the same init key but another leaf
/// (another credential): its GroupSecrets decrypt, its leaf is not in the tree.
#[test]
fn welcome_whose_tree_lacks_our_leaf_is_not_for_us() {
    let (mut alice, _bob, _carol, mut r) = three(18);
    let mut copy = r.clone();
    let dave = bundle("dave", DAVE, &mut r);
    let laptop = bundle("dave-laptop", DAVE, &mut copy);
    assert_eq!(dave.key_package.init_key, laptop.key_package.init_key);
    assert_ne!(dave.key_package.leaf_node, laptop.key_package.leaf_node);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&dave.key_package))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    let mut readdressed = w.clone();
    readdressed.secrets[0].new_member =
        crate::mls::welcome::key_package_ref(&suite(1), &laptop.key_package).unwrap();
    assert_eq!(
        Group::join_welcome(GroupConfig::default(), &readdressed, laptop, None, vec![]).map(|_| ()),
        Err(PeerMisbehaved::NotForUs.into())
    );
    let dave = Group::join_welcome(GroupConfig::default(), &w, dave, None, vec![]).unwrap();
    assert_agree(&[&alice, &dave]);
}

/// RFC 9420 §12.4.3.1: "If a PreSharedKeyID is part of the GroupSecrets and the client is
/// not in possession of the corresponding PSK, return an error" (§8.4).
#[test]
fn welcome_psk_must_be_available() {
    let (mut alice, _bob, _carol, mut r) = three(19);
    alice.add_external_psk(b"room", Secret::from_slice(&[5; 32]).unwrap());
    let (dave, dave_twin) = twins("dave", DAVE, &mut r);
    let out = alice
        .commit(
            vec![
                crate::mls::Proposal(add(&dave.key_package)),
                crate::mls::Proposal(psk(b"room", 1)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let w = welcome_of(&out.welcome.unwrap());
    let other_psk = vec![(b"lobby".to_vec(), Secret::from_slice(&[5; 32]).unwrap())];
    assert_eq!(
        Group::join_welcome(GroupConfig::default(), &w, dave, None, other_psk).map(|_| ()),
        Err(PeerMisbehaved::PskNotFound.into())
    );
    let psks = vec![(b"room".to_vec(), Secret::from_slice(&[5; 32]).unwrap())];
    let dave = Group::join_welcome(GroupConfig::default(), &w, dave_twin, None, psks).unwrap();
    assert_agree(&[&alice, &dave]);
}

/// A join request for `bundle` into `g`'s current epoch.
fn join_request(g: &Group, bundle: &KeyPackageBundle) -> MlsMessage {
    bundle.join_request(g.group_id(), g.epoch()).unwrap()
}

/// RFC 9420 §10.1: "Verify that the cipher suite and protocol version of the KeyPackage
/// match those in the GroupContext" — at the committer, at receivers of a commit, and on
/// receipt of a join request (an Add proposal).
#[test]
fn key_package_of_another_version_or_suite_is_refused() {
    let (mut alice, mut bob, _carol, mut r) = three(20);
    let mut version2 = bundle("dave", DAVE, &mut r);
    version2.key_package.version = ProtocolVersion(2);
    resign_key_package(&mut version2.key_package, &signer(DAVE));
    let suite3 = bundle_of(3, "erin", ERIN, &mut r);
    let want: Error = PeerMisbehaved::KeyPackageMismatch.into();
    for bad in [&version2, &suite3] {
        refused_both_ways(
            &mut alice,
            &mut bob,
            vec![add(&bad.key_package)],
            want,
            &mut r,
        );
        let request = join_request(&bob, bad);
        refused(&mut bob, &request, want);
    }
    let request = join_request(&bob, &bundle("dave", DAVE, &mut r));
    stored(&mut bob, &request);
}

/// RFC 9420 §10.1: "Verify that the value of leaf_node.encryption_key is different from
/// the value of the init_key field."
#[test]
fn key_package_init_key_must_differ_from_its_leaf_key() {
    let (mut alice, mut bob, _carol, mut r) = three(21);
    let mut same = bundle("dave", DAVE, &mut r);
    same.key_package.init_key = same.key_package.leaf_node.encryption_key.clone();
    resign_key_package(&mut same.key_package, &signer(DAVE));
    let want: Error = PeerMisbehaved::KeyPackageMismatch.into();
    refused_both_ways(
        &mut alice,
        &mut bob,
        vec![add(&same.key_package)],
        want,
        &mut r,
    );
    let request = join_request(&bob, &same);
    refused(&mut bob, &request, want);
}

/// RFC 9420 §10.1: "Verify that the signature on the KeyPackage is valid using the public
/// key in leaf_node.credential" — a flipped bit, and a KeyPackage signed by another key.
/// (The join request itself is correctly signed: only the KeyPackage signature fails.)
#[test]
fn key_package_signature_must_verify() {
    let (mut alice, mut bob, _carol, mut r) = three(22);
    let mut flipped = bundle("dave", DAVE, &mut r);
    flipped.key_package.signature[0] ^= 1;
    let mut other_key = bundle("dave", DAVE, &mut r);
    resign_key_package(&mut other_key.key_package, &signer(ERIN));
    for bad in [&flipped, &other_key] {
        commit_refused(
            &mut alice,
            vec![add(&bad.key_package)],
            Error::AuthenticationFailed,
            &mut r,
        );
        let request = join_request(&bob, bad);
        refused(&mut bob, &request, Error::AuthenticationFailed);
    }
    let request = join_request(&bob, &bundle("dave", DAVE, &mut r));
    stored(&mut bob, &request);
}

/// RFC 9420 §7.3: "Verify that the signature on the LeafNode is valid using
/// signature_key" — a KeyPackage's leaf (the KeyPackage re-signed, so only the leaf
/// signature is wrong) and an Update's leaf (a flipped bit, and a leaf signed for another
/// leaf index: LeafNodeTBS binds the index).
#[test]
fn leaf_node_signature_must_verify() {
    let (mut alice, mut bob, mut carol, mut r) = three(23);
    let mut bad = bundle("dave", DAVE, &mut r);
    bad.key_package.leaf_node.signature[0] ^= 1;
    resign_key_package(&mut bad.key_package, &signer(DAVE));
    commit_refused(
        &mut alice,
        vec![add(&bad.key_package)],
        Error::AuthenticationFailed,
        &mut r,
    );
    let request = join_request(&bob, &bad);
    refused(&mut bob, &request, Error::AuthenticationFailed);

    let honest = carol.propose_update(&mut r).unwrap();
    let leaf = update_leaf(&proposal_of(&honest));
    let mut flipped = leaf.clone();
    flipped.signature[0] ^= 1;
    let mut other_index = leaf;
    resign_leaf(&mut other_index, &signer(CAROL), carol.group_id(), BOB_LEAF);
    for leaf_node in [flipped, other_index] {
        let body = FramedContentBody::Proposal(Proposal::Update(Box::new(Update { leaf_node })));
        let m = frame_as(&carol, body, None);
        refused(&mut alice, &m, Error::AuthenticationFailed);
    }
    stored(&mut alice, &honest);
}

/// RFC 9420 §7.3: "If the LeafNode appears in an Update proposal, verify that the
/// leaf_node_source field is set to update" (here: `commit` and `key_package`, re-signed).
#[test]
fn update_leaf_source_must_be_update() {
    let (mut alice, _bob, mut carol, mut r) = three(24);
    let honest = carol.propose_update(&mut r).unwrap();
    let leaf = update_leaf(&proposal_of(&honest));
    for source in [
        LeafNodeSource::Commit {
            parent_hash: vec![0; 32],
        },
        LeafNodeSource::KeyPackage(Lifetime::starting_at(NOW, KP_LIFETIME)),
    ] {
        let mut leaf_node = leaf.clone();
        leaf_node.leaf_node_source = source;
        resign_leaf(&mut leaf_node, &signer(CAROL), carol.group_id(), CAROL_LEAF);
        let body = FramedContentBody::Proposal(Proposal::Update(Box::new(Update { leaf_node })));
        let m = frame_as(&carol, body, None);
        refused(&mut alice, &m, PeerMisbehaved::UnexpectedLeafSource.into());
    }
    stored(&mut alice, &honest);
}
