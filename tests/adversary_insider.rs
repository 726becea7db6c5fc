//! A malicious insider (issue 13): a member of the meeting whose client skips the
//! meeting's rules (its state reloaded into a `Group` with `set_rules_for_forgery`), or
//! whose application asks for things the rules forbid. Honest members refuse what it sends
//! the same way, and an honest committer never sends what they would refuse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod adversary;

use adversary::{
    assert_agree, assert_refused, commit_round, deliver, identities, kp_with_key, meeting, Rng, NOW,
};
use meetkey::error::{ApiMisuse, Error, PeerMisbehaved};
use meetkey::meeting::{Event, ExternalJoins, Governance, MediaStream, Meeting, ProposalSummary};
use meetkey::mls::{CommitOptions, Group, GroupConfig};
use meetkey::mls::{ExtensionType, KeyPackage, LeafIndex, Lifetime, MlsMessage, Proposal};
use meetkey::routing::{Jurisdiction, Policy};
use meetkey::{CipherSuite, SignaturePrivateKey};

/// The meeting's GroupContext extensions (private-use code points, RFC 9420 §17.3): the
/// geofence policy and the governance (docs/ARCHITECTURE.md).
const GEOFENCE_EXTENSION: ExtensionType = ExtensionType(0xF0A1);
const GOVERNANCE_EXTENSION: ExtensionType = ExtensionType(0xF0A2);

/// `m`'s client without the meeting's rules: a rogue member.
fn rogue(m: &Meeting) -> Group {
    let mut g = Group::from_bytes(GroupConfig::default(), &m.group().to_bytes().unwrap()).unwrap();
    g.drop_rules_for_forgery();
    g
}

fn gce(m: &Meeting, f: impl FnOnce(&mut Vec<meetkey::mls::Extension>)) -> Proposal {
    let mut extensions = m.group().extensions().to_vec();
    f(&mut extensions);
    Proposal::group_context_extensions(extensions)
}

fn rogue_commit(m: &Meeting, proposals: Vec<Proposal>, r: &mut Rng) -> MlsMessage {
    rogue(m)
        .commit(proposals, &CommitOptions::at(NOW), r)
        .unwrap()
        .commit
}

/// A commit that drops the meeting policy: the honest committer's own check refuses it
/// (it used to merge it and fork from everyone else); a rogue member's is refused by all.
#[test]
fn dropping_the_policy_is_refused_by_committer_and_receivers() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(40, ExternalJoins::RejoinOnly);
    let drop_policy = gce(&alice, |e| {
        e.retain(|x| x.extension_type != GEOFENCE_EXTENSION)
    });
    // (The honest committer's refusal of the same commit is the meeting's unit test
    // `commits_dropping_the_policy_are_refused_unchanged`: Meeting has no call that drops
    // the policy.)
    let commit = rogue_commit(&carol, vec![drop_policy], &mut r);
    for m in [&mut alice, &mut bob] {
        assert_refused(m, PeerMisbehaved::MeetingPolicyMissing.into(), |m| {
            m.process(&commit)
        });
    }
    // Dropping `required_capabilities` (which keeps members without the policy out) too.
    let drop_caps = gce(&alice, |e| {
        e.retain(|x| x.extension_type != ExtensionType::REQUIRED_CAPABILITIES);
    });
    let commit = rogue_commit(&carol, vec![drop_caps], &mut r);
    for m in [&mut alice, &mut bob] {
        assert_refused(m, PeerMisbehaved::MeetingPolicyMissing.into(), |m| {
            m.process(&commit)
        });
    }
    // The meeting still works.
    let out = carol.rotate(NOW, &mut r).unwrap();
    commit_round(&mut carol, &mut [&mut alice, &mut bob], &out);
    assert_agree(&[&alice, &bob, &carol]);
}

/// Meeting policy governance: any member may narrow the fence; widening it (here: allowing
/// CN again) takes a policy admin. Bob's app asking for it gets a typed error and sends
/// nothing; Bob's rogue client sending it is refused by every member; Alice, the admin,
/// may.
#[test]
fn only_policy_admins_widen_the_fence() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(41, ExternalJoins::RejoinOnly);
    let wider = Policy::new("eu-west").unwrap();
    assert_refused(
        &mut bob,
        PeerMisbehaved::PolicyChangeUnauthorized.into(),
        |m| m.set_policy(&wider, NOW, &mut r),
    );
    assert!(!bob.has_pending_commit());
    let widen = gce(&bob, |e| {
        for x in e
            .iter_mut()
            .filter(|x| x.extension_type == GEOFENCE_EXTENSION)
        {
            x.extension_data = wider.encode_canonical();
        }
    });
    let commit = rogue_commit(&bob, vec![widen], &mut r);
    for m in [&mut alice, &mut carol] {
        assert_refused(m, PeerMisbehaved::PolicyChangeUnauthorized.into(), |m| {
            m.process(&commit)
        });
    }
    // Narrowing is open to all.
    let narrower = adversary::policy().deny([Jurisdiction::parse("RU").unwrap()]);
    let out = bob.set_policy(&narrower, NOW, &mut r).unwrap();
    commit_round(&mut bob, &mut [&mut alice, &mut carol], &out);
    assert_eq!(alice.policy(), &narrower);
    // The admin widens it back.
    let out = alice.set_policy(&wider, NOW, &mut r).unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    assert_eq!(carol.policy(), &wider);
    assert_agree(&[&alice, &bob, &carol]);
}

/// Governance itself (admins, external joins) changes only by an admin: Bob cannot make
/// himself an admin or open the meeting to external joins.
#[test]
fn only_policy_admins_change_governance() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(42, ExternalJoins::RejoinOnly);
    let grab = Governance::new([b"alice".as_slice(), b"bob"], ExternalJoins::Open).unwrap();
    assert_refused(
        &mut bob,
        PeerMisbehaved::PolicyChangeUnauthorized.into(),
        |m| m.set_governance(&grab, NOW, &mut r),
    );
    let commit = rogue_commit(
        &bob,
        vec![gce(&bob, |e| {
            e.retain(|x| x.extension_type != GOVERNANCE_EXTENSION);
            e.push(grab.extension());
        })],
        &mut r,
    );
    for m in [&mut alice, &mut carol] {
        assert_refused(m, PeerMisbehaved::PolicyChangeUnauthorized.into(), |m| {
            m.process(&commit)
        });
    }
    let out = alice.set_governance(&grab, NOW, &mut r).unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    assert_eq!(bob.governance(), Some(grab));
}

/// A member's proposals are not a lever either: Carol's proposal to remove Bob is shown to
/// the others but not committed by their next rotation; and Carol's own pending Update
/// cannot keep Alice from removing Carol (conflicting stored proposals are left out).
#[test]
fn a_members_proposals_neither_commit_themselves_nor_block_its_removal() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(43, ExternalJoins::RejoinOnly);
    let mut carols_client = rogue(&carol);
    let kick = carols_client
        .propose(Proposal::remove(LeafIndex(1)), &mut r)
        .unwrap();
    let update = carols_client.propose_update(&mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob], &kick);
    deliver(&mut [&mut alice, &mut bob], &update);
    let events = alice.drain_events();
    assert!(
        matches!(&events[0], Event::ProposalReceived { summary: ProposalSummary::Remove { participant }, admitted: false, .. }
            if participant.identity == b"bob"),
        "{events:?}"
    );
    assert!(matches!(
        &events[1],
        Event::ProposalReceived {
            summary: ProposalSummary::Update,
            admitted: true,
            ..
        }
    ));
    let out = alice.remove(carol.own_leaf(), NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    bob.process(&out.commit).unwrap();
    carol.process(&out.commit).unwrap();
    assert!(!carol.is_active());
    assert!(bob.is_active());
    assert_eq!(identities(&alice), [b"alice".to_vec(), b"bob".to_vec()]);
    assert_agree(&[&alice, &bob]);
}

/// RFC 9420 §7.3 (sender side): the committer checks every KeyPackage it adds against the
/// current time — expired, or not yet valid, it is refused before anything is sent. §7.2:
/// a lifetime longer than the maximum (91 days by default) is refused as well.
#[test]
fn committer_refuses_keypackages_outside_their_lifetime() {
    let (mut alice, ..) = meeting(44, ExternalJoins::RejoinOnly);
    let mut r = adversary::rng(45);
    let suite = CipherSuite(1);
    let with = |lifetime: Lifetime, r: &mut Rng| {
        Meeting::key_package(
            suite,
            b"dave",
            SignaturePrivateKey::generate(r),
            lifetime,
            r,
        )
        .unwrap()
        .key_package
    };
    let expired = with(Lifetime::starting_at(NOW - 30 * 86_400, 86_400), &mut r);
    let future = with(Lifetime::starting_at(NOW + 86_400, 86_400), &mut r);
    for kp in [expired, future] {
        assert_refused(&mut alice, ApiMisuse::KeyPackageExpired.into(), |m| {
            m.add(&[kp], NOW, &mut r)
        });
        assert!(!alice.has_pending_commit());
    }
    let forever = with(
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
        &mut r,
    );
    assert_refused(&mut alice, PeerMisbehaved::LifetimeExpired.into(), |m| {
        m.add(&[forever], NOW, &mut r)
    });
}

/// RFC 9420 §12.1.7: after a ReInit commit the group is closed; nothing more is sent or
/// accepted in it.
#[test]
fn group_is_closed_after_a_reinit_commit() {
    let (mut alice, mut bob, carol, mut r) = meeting(48, ExternalJoins::RejoinOnly);
    let reinit = Proposal::reinit(b"next meeting", CipherSuite(1), vec![]);
    let commit = rogue_commit(&carol, vec![reinit], &mut r);
    deliver(&mut [&mut alice, &mut bob], &commit);
    assert!(alice.group().is_reinitialized());
    assert_eq!(
        alice.rotate(NOW, &mut r).map(|_| ()),
        Err(PeerMisbehaved::GroupReinitialized.into())
    );
    let leave = bob.leave(&mut r).map(|_| ());
    assert_eq!(leave, Err(PeerMisbehaved::GroupReinitialized.into()));
}

/// A removed member keeps none of the group's secrets: its exporter refuses, and no key of
/// the meeting's current epoch is known to it.
#[test]
fn removed_member_keeps_no_secrets() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(49, ExternalJoins::RejoinOnly);
    let before = carol.group().export_secret(b"label", b"", 32).unwrap();
    let out = alice.remove(carol.own_leaf(), NOW, &mut r).unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    assert!(!carol.is_active());
    assert_eq!(
        carol.group().export_secret(b"label", b"", 32).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::NotAMember))
    );
    assert_ne!(
        carol.group().epoch_authenticator(),
        alice.group().epoch_authenticator()
    );
    let saved = carol.to_bytes().unwrap();
    assert!(
        !before.occurs_in(&saved),
        "an old exporter secret in the saved state"
    );
    let mut frame = [0u8; 64];
    let n = alice
        .encrypt_frame(MediaStream::AUDIO, b"", b"after removal", &mut frame)
        .unwrap();
    let mut out = [0u8; 64];
    assert!(carol
        .decrypt_frame(b"", &frame[..n], &mut out, NOW)
        .is_err_and(|e| e == Error::Stale(meetkey::error::Stale::UnknownKeyId)));
}

/// Keys of the joiner: a new member can never be added twice (same signature key), even
/// when the second Add comes from a rogue member's commit.
#[test]
fn the_same_client_cannot_be_added_twice() {
    let (mut alice, _bob, carol, mut r) = meeting(50, ExternalJoins::RejoinOnly);
    let seed = [0x50; 32];
    let d1 = kp_with_key(
        "dave",
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        &mut r,
    );
    let d2 = kp_with_key(
        "dave",
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        &mut r,
    );
    let add = |k: &KeyPackage| Proposal::add(k.clone());
    assert_refused(
        &mut alice,
        PeerMisbehaved::InvalidProposalList.into(),
        |m| {
            m.add(
                &[d1.key_package.clone(), d2.key_package.clone()],
                NOW,
                &mut r,
            )
        },
    );
    let mut g = rogue(&carol);
    assert_eq!(
        g.commit(
            vec![add(&d1.key_package), add(&d2.key_package)],
            &CommitOptions::at(NOW),
            &mut r
        )
        .map(|_| ()),
        Err(PeerMisbehaved::InvalidProposalList.into())
    );
}
