//! An outsider holding the published GroupInfo (anyone the delivery service gives it to,
//! or the delivery service itself), with a KeyPackage of its own and no member's signature
//! key (issue 13; RFC 9420 §12.2, §12.4.3.2). The forged external commits are built with
//! `Group::forge_external_commit` (feature `adversary`): the honest joiner's own checks
//! refuse to make them, so the receivers' checks are what these tests exercise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod adversary;

use adversary::{assert_agree, assert_all_refuse, deliver, kp, kp_with_key, meeting, NOW};
use meetkey::error::PeerMisbehaved;
use meetkey::meeting::{Event, ExternalJoins, Meeting, MeetingConfig};
use meetkey::mls::{Group, GroupConfig};
use meetkey::mls::{GroupInfo, LeafIndex, MlsMessage, Proposal};
use meetkey::SignaturePrivateKey;

fn group_info(m: &Meeting) -> GroupInfo {
    GroupInfo::try_from(m.group_info().unwrap()).unwrap()
}

/// An external commit of `name` (own signature key) removing `remove` and carrying the
/// proposals `extra` by value and the ProposalRefs `extra_refs`.
fn forge(
    m: &Meeting,
    name: &str,
    key: SignaturePrivateKey,
    remove: Option<u32>,
    extra: Vec<Proposal>,
    extra_refs: Vec<Vec<u8>>,
    r: &mut adversary::Rng,
) -> MlsMessage {
    let bundle = kp_with_key(name, key, r);
    Group::forge_external_commit(
        GroupConfig::default(),
        &group_info(m),
        bundle,
        remove,
        extra,
        extra_refs,
        r,
    )
    .unwrap()
}

/// RFC 9420 §12.4.3.2 and the meeting's governance: in a meeting that allows only rejoins
/// (the default), whoever holds the GroupInfo cannot add itself by external commit. The
/// honest joiner refuses to send it; a forged one is refused by every member, unchanged.
#[test]
fn external_join_is_refused_unless_the_meeting_is_open() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(20, ExternalJoins::RejoinOnly);
    let gi = alice.group_info().unwrap();
    assert_eq!(
        Meeting::join_external(MeetingConfig::default(), &gi, kp("server", &mut r), &mut r)
            .map(|_| ()),
        Err(PeerMisbehaved::ExternalJoinRefused.into())
    );
    let key = SignaturePrivateKey::generate(&mut r);
    let commit = forge(&alice, "server", key, None, vec![], vec![], &mut r);
    assert_all_refuse(
        &mut [&mut alice, &mut bob, &mut carol],
        PeerMisbehaved::ExternalJoinRefused.into(),
        &commit,
    );
}

/// RFC 9420 §12.2 (external commits): the Remove of an external commit is the joiner's own
/// previous leaf. Eve, with the GroupInfo of an open meeting, removes Bob — with her own
/// identity, or claiming Bob's identity with her own key — and every member refuses it.
#[test]
fn external_commit_cannot_replace_someone_else() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(21, ExternalJoins::Open);
    let bob_leaf = bob.own_leaf();
    for name in ["eve", "bob"] {
        let key = SignaturePrivateKey::generate(&mut r);
        let commit = forge(&alice, name, key, Some(bob_leaf), vec![], vec![], &mut r);
        assert_all_refuse(
            &mut [&mut alice, &mut bob, &mut carol],
            PeerMisbehaved::RejoinMismatch.into(),
            &commit,
        );
    }
}

/// RFC 9420 §12.4.3.2: an external commit MUST NOT include proposals by reference (here,
/// Carol's pending leave request, which the joiner cannot know about).
#[test]
fn external_commit_with_a_proposal_by_reference_is_refused() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(22, ExternalJoins::Open);
    let leave = carol.leave(&mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob], &leave);
    alice.drain_events();
    let reference = alice
        .group()
        .pending_proposals()
        .next()
        .unwrap()
        .reference
        .to_vec();
    let key = SignaturePrivateKey::generate(&mut r);
    let commit = forge(&alice, "eve", key, None, vec![], vec![reference], &mut r);
    assert_all_refuse(
        &mut [&mut alice, &mut bob],
        PeerMisbehaved::ProposalByReference.into(),
        &commit,
    );
}

/// RFC 9420 §12.2: an external commit holds exactly one ExternalInit, at most one Remove,
/// PSKs, and nothing else — a second Remove or an Add by value is refused.
#[test]
fn external_commit_with_other_proposals_is_refused() {
    let (mut alice, mut bob, _carol, mut r) = meeting(23, ExternalJoins::Open);
    let dave = kp("dave", &mut r);
    let extras = [
        Proposal::remove(LeafIndex(2)),
        Proposal::add(dave.key_package),
    ];
    for extra in extras {
        let key = SignaturePrivateKey::generate(&mut r);
        let commit = forge(&alice, "eve", key, Some(1), vec![extra], vec![], &mut r);
        assert_all_refuse(
            &mut [&mut alice, &mut bob],
            PeerMisbehaved::InvalidProposalList.into(),
            &commit,
        );
    }
}

/// 16 384 distinct PSK ids in one external commit (about 1 MiB): checked in linear time
/// (a set, not a pairwise scan) and refused with a typed error, the members unchanged.
#[test]
fn external_commit_with_thousands_of_psks_is_refused() {
    let (mut alice, mut bob, _carol, mut r) = meeting(24, ExternalJoins::Open);
    let psks = (0u32..16_384)
        .map(|i| Proposal::external_psk(meetkey::CipherSuite(1), &i.to_be_bytes(), &mut r).unwrap())
        .collect();
    let key = SignaturePrivateKey::generate(&mut r);
    let commit = forge(&alice, "eve", key, None, psks, vec![], &mut r);
    assert_all_refuse(
        &mut [&mut alice, &mut bob],
        PeerMisbehaved::PskNotFound.into(),
        &commit,
    );
}

/// The one external commit with a Remove that is allowed: a participant rejoining with
/// its own signature key (a device that lost its state). Members see it as a rejoin, not
/// as someone leaving and someone joining.
#[test]
fn a_participant_rejoins_its_own_leaf() {
    // Bob's signature key survives the loss of his state (it is in the platform keystore).
    let seed = [0xb0; 32];
    let mut r = adversary::rng(26);
    let mut alice = Meeting::create_with_governance(
        MeetingConfig::default(),
        kp("alice", &mut r),
        b"rejoin meeting",
        &adversary::policy(),
        &meetkey::meeting::Governance::new([b"alice"], ExternalJoins::RejoinOnly).unwrap(),
        &mut r,
    )
    .unwrap();
    let b = kp_with_key(
        "bob",
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        &mut r,
    );
    let c = kp("carol", &mut r);
    let out = alice
        .add(&[b.key_package.clone(), c.key_package.clone()], NOW, &mut r)
        .unwrap();
    alice.process(&out.commit).unwrap();
    let w = alice.take_welcome().unwrap();
    let mut bob = Meeting::join_welcome(MeetingConfig::default(), &w, b).unwrap();
    let mut carol = Meeting::join_welcome(MeetingConfig::default(), &w, c).unwrap();
    alice.drain_events();
    let old_leaf = bob.own_leaf();
    let fresh = kp_with_key(
        "bob",
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        &mut r,
    );
    let (mut new_bob, commit) = Meeting::rejoin_external(
        MeetingConfig::default(),
        &alice.group_info().unwrap(),
        fresh,
        &mut r,
    )
    .unwrap();
    deliver(&mut [&mut alice, &mut carol], &commit);
    assert_agree(&[&alice, &carol, &new_bob]);
    let events = alice.drain_events();
    assert!(
        events.iter().any(
            |e| matches!(e, Event::ParticipantRejoined { participant, old_leaf: o, .. }
            if participant.identity == b"bob" && *o == old_leaf)
        ),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| matches!(
        e,
        Event::ParticipantLeft { .. } | Event::ParticipantJoined { .. }
    )));
    // The stale device learns it was replaced.
    bob.process(&commit).unwrap();
    assert!(!bob.is_active());
    assert_eq!(new_bob.participants().len(), 3);
    assert!(new_bob.next_event().is_some());
}

/// RFC 9420 §12.2: an external commit holds exactly one ExternalInit; a second one is
/// refused by every member.
#[test]
fn external_commit_with_two_external_inits_is_refused() {
    let (mut alice, mut bob, _carol, mut r) = meeting(27, ExternalJoins::Open);
    let second = Proposal::forge_external_init(vec![9; 32]);
    let key = SignaturePrivateKey::generate(&mut r);
    let commit = forge(&alice, "eve", key, None, vec![second], vec![], &mut r);
    assert_all_refuse(
        &mut [&mut alice, &mut bob],
        PeerMisbehaved::InvalidProposalList.into(),
        &commit,
    );
}
