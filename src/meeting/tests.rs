#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use rand_core::SeedableRng;

use super::*;
use crate::crypto::CipherSuite as MlsSuite;
use crate::crypto::SignaturePrivateKey;
use crate::error::PeerMisbehaved;
use crate::error::{Error, InvalidMessage, Stale};
use crate::mls::group::{CommitOptions, KeyPackageBundle};
use crate::mls::wire::{GroupContextExtensions, Lifetime, Proposal};
use crate::routing::{DirectoryVerifier, Jurisdiction, SignedDirectory};

/// The clock of these tests (2027-01-15): time is an input, never read.
pub(super) const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

pub(super) type R = rand_chacha::ChaCha20Rng;

pub(super) fn rng(seed: u64) -> R {
    R::seed_from_u64(seed)
}

pub(super) fn kp(name: &str, r: &mut R) -> KeyPackageBundle {
    let suite = MlsSuite(1).suite().unwrap();
    Meeting::key_package(
        suite.id(),
        name.as_bytes(),
        SignaturePrivateKey::generate(r),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        r,
    )
    .unwrap()
}

fn policy() -> Policy {
    Policy::new("eu-west")
        .unwrap()
        .deny([Jurisdiction::parse("CN").unwrap()])
}

/// Alice creates; Bob and Carol join by one Welcome.
pub(super) fn three(seed: u64) -> (Meeting, Meeting, Meeting, R) {
    three_with(seed, ExternalJoins::RejoinOnly)
}

/// As [`three`], with Alice the policy admin and `joins` the external-join rule.
pub(super) fn three_with(seed: u64, joins: ExternalJoins) -> (Meeting, Meeting, Meeting, R) {
    let mut r = rng(seed);
    let mut alice = Meeting::create_with_governance(
        MeetingConfig::default(),
        kp("alice", &mut r),
        b"meeting-1",
        &policy(),
        &Governance::new([b"alice"], joins).unwrap(),
        &mut r,
    )
    .unwrap();
    let (b, c) = (kp("bob", &mut r), kp("carol", &mut r));
    let out = alice
        .add(&[b.key_package.clone(), c.key_package.clone()], NOW, &mut r)
        .unwrap();
    alice.process(&out.commit).unwrap(); // the server's echo confirms it
    let welcome = alice.take_welcome().unwrap();
    let bob = Meeting::join_welcome(MeetingConfig::default(), &welcome, b).unwrap();
    let carol = Meeting::join_welcome(MeetingConfig::default(), &welcome, c).unwrap();
    (alice, bob, carol, r)
}

pub(super) fn deliver(to: &mut [&mut Meeting], msg: &MlsMessage) {
    for m in to.iter_mut() {
        m.process(msg).unwrap();
    }
}

pub(super) fn assert_agree(ms: &[&Meeting]) {
    for m in &ms[1..] {
        assert_eq!(m.epoch(), ms[0].epoch());
        assert_eq!(m.security_code().unwrap(), ms[0].security_code().unwrap());
        assert_eq!(m.policy(), ms[0].policy());
        assert_eq!(m.participants(), ms[0].participants());
    }
}

pub(super) fn frame(from: &mut Meeting, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![
        0u8;
        from.encrypted_len(MediaStream::AUDIO, payload.len())
            .unwrap()
    ];
    let n = from
        .encrypt_frame(MediaStream::AUDIO, b"rtp", payload, &mut out)
        .unwrap();
    out.truncate(n);
    out
}

pub(super) fn open(to: &mut Meeting, f: &[u8]) -> Result<(Vec<u8>, FrameInfo)> {
    let mut out = vec![0u8; f.len()];
    let info = to.decrypt_frame(b"rtp", f, &mut out, NOW)?;
    out.truncate(info.len);
    Ok((out, info))
}

#[test]
fn default_config_layout_is_valid() {
    let c = MeetingConfig::default();
    use crate::sframe::KidLayout;
    KidLayout::new(c.epoch_bits, c.index_bits).unwrap();
}

#[test]
fn create_join_and_agree() {
    let (mut alice, mut bob, carol, _) = three(1);
    assert_agree(&[&alice, &bob, &carol]);
    assert_eq!(alice.epoch(), 1);
    assert_eq!(alice.participants().len(), 3);
    assert_eq!(alice.policy(), &policy());
    let ev = alice.drain_events();
    assert!(matches!(
        ev[0],
        Event::Joined {
            how: JoinMethod::Created,
            epoch: 0
        }
    ));
    assert!(ev.contains(&Event::EpochChanged {
        epoch: 1,
        committer: 0
    }));
    let joined: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::ParticipantJoined { participant, .. } => Some(participant.identity.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(joined, [b"bob".to_vec(), b"carol".to_vec()]);
    assert!(!ev.iter().any(|e| matches!(e, Event::Rotated { .. })));
    assert!(matches!(
        bob.next_event(),
        Some(Event::Joined {
            how: JoinMethod::Welcome,
            epoch: 1
        })
    ));
}

#[test]
fn external_join_and_frames_across_rotation() {
    let (mut alice, mut bob, mut carol, mut r) = three_with(2, ExternalJoins::Open);
    let gi = alice.group_info().unwrap();
    let (mut dave, commit) =
        Meeting::join_external(MeetingConfig::default(), &gi, kp("dave", &mut r), &mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &commit);
    assert_agree(&[&alice, &bob, &carol, &dave]);
    assert!(alice.drain_events().iter().any(|e| matches!(
        e,
        Event::ParticipantJoined { participant, .. } if participant.identity == b"dave"
    )));

    // A frame of epoch 2, still in flight when Bob rotates.
    let late = frame(&mut dave, b"epoch-2 audio");
    let out = bob.rotate(NOW, &mut r).unwrap();
    assert!(bob.has_pending_commit());
    // Until the server confirms, Bob stays in epoch 2.
    assert_eq!(bob.epoch(), 2);
    bob.process(&out.commit).unwrap();
    deliver(&mut [&mut alice, &mut carol, &mut dave], &out.commit);
    assert_agree(&[&alice, &bob, &carol, &dave]);
    assert!(alice.drain_events().contains(&Event::Rotated {
        epoch: 3,
        leaf: bob.own_leaf()
    }));

    let fresh = frame(&mut dave, b"epoch-3 video");
    let (p, info) = open(&mut alice, &late).unwrap();
    assert_eq!(
        (p.as_slice(), info.epoch, info.sender),
        (&b"epoch-2 audio"[..], 2, dave.own_leaf())
    );
    let (p, info) = open(&mut alice, &fresh).unwrap();
    assert_eq!((p.as_slice(), info.epoch), (&b"epoch-3 video"[..], 3));
    // Replay refused; tampering refused.
    assert!(matches!(open(&mut alice, &fresh), Err(Error::Stale(_))));
    let mut bad = frame(&mut dave, b"x");
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        open(&mut carol, &bad).map(|_| ()),
        Err(Error::AuthenticationFailed)
    );
    // Our own frames are not decryptable by us (encryption-only keys).
    let own = frame(&mut alice, b"mine");
    assert!(open(&mut alice, &own).is_err_and(|e| e == Error::Stale(Stale::UnknownKeyId)));
    assert!(open(&mut bob, &own).is_ok());
}

#[test]
fn frames_older_than_the_window_are_refused() {
    let (mut alice, mut bob, mut carol, mut r) = three(3);
    let old = frame(&mut carol, b"epoch 1");
    let window = 1u64 << MeetingConfig::default().epoch_bits;
    for _ in 0..window {
        let out = alice.rotate(NOW, &mut r).unwrap();
        alice.confirm_pending().unwrap();
        deliver(&mut [&mut bob, &mut carol], &out.commit);
    }
    assert_eq!(bob.epoch(), 1 + window);
    // Its KID now names epoch 1 + 2^E (same low bits), whose key does not open it.
    assert_eq!(
        open(&mut bob, &old).map(|_| ()),
        Err(Error::AuthenticationFailed)
    );
    let new = frame(&mut carol, b"now");
    assert!(open(&mut bob, &new).is_ok());
}

#[test]
fn competing_commits_one_wins_the_other_is_discarded() {
    let (mut alice, mut bob, mut carol, mut r) = three(4);
    let a = alice.rotate(NOW, &mut r).unwrap();
    let b = bob.rotate(NOW, &mut r).unwrap();
    // A second commit while one is pending is refused.
    assert_eq!(
        alice.rotate(NOW, &mut r).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::CommitPending))
    );
    // The server orders Bob's first.
    alice.drain_events();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &b.commit);
    assert!(!alice.has_pending_commit());
    assert!(alice
        .drain_events()
        .contains(&Event::PendingCommitDiscarded {
            epoch: 1,
            intent: CommitIntent::Rotate
        }));
    assert_agree(&[&alice, &bob, &carol]);
    // Alice's commit is now for an old epoch and is refused everywhere.
    assert!(carol
        .process(&a.commit)
        .is_err_and(|e| e == Error::Stale(Stale::PastEpoch)));
    assert!(alice
        .process(&a.commit)
        .is_err_and(|e| e == Error::Stale(Stale::PastEpoch)));
    assert_agree(&[&alice, &bob, &carol]);
    // confirm without pending.
    assert_eq!(
        alice.confirm_pending(),
        Err(Error::ApiMisuse(ApiMisuse::NoPendingCommit))
    );
}

#[test]
fn security_code_changes_each_epoch_and_differs_between_meetings() {
    let (mut alice, mut bob, _carol, mut r) = three(5);
    let c1 = alice.security_code().unwrap();
    let s = c1.to_string();
    assert_eq!(s.len(), 8 * 5 + 7);
    assert!(s
        .split(' ')
        .all(|g| g.len() == 5 && g.bytes().all(|b| b.is_ascii_digit())));
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.confirm_pending().unwrap();
    bob.process(&out.commit).unwrap();
    let c2 = alice.security_code().unwrap();
    assert_ne!(c1, c2);
    assert_eq!(c2, bob.security_code().unwrap());
    // Same seed, different meeting id: different code.
    let mut r2 = rng(5);
    let other = Meeting::create(
        MeetingConfig::default(),
        kp("alice", &mut r2),
        b"meeting-2",
        &policy(),
        &mut r2,
    )
    .unwrap();
    let mut r3 = rng(5);
    let same_id = Meeting::create(
        MeetingConfig::default(),
        kp("alice", &mut r3),
        b"meeting-1",
        &policy(),
        &mut r3,
    )
    .unwrap();
    assert_ne!(
        other.security_code().unwrap(),
        same_id.security_code().unwrap()
    );
}

fn directory() -> Directory {
    let op = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
    let payload = br#"{"version":1,"issued_at":1000,"expires_at":90000,"relays":[
      {"id":"eu-1","region":"eu-west","jurisdiction":"DE","tier":"primary","endpoint":"a:1","weight":10},
      {"id":"fr-1","region":"eu-west","jurisdiction":"FR","tier":"primary","endpoint":"b:1","weight":20},
      {"id":"cn-1","region":"eu-west","jurisdiction":"CN","tier":"secondary","endpoint":"c:1","weight":99}]}"#;
    let doc = SignedDirectory::sign(payload, &op)
        .unwrap()
        .to_json()
        .unwrap();
    DirectoryVerifier::new([op.public_key()])
        .verify(&doc, 2000)
        .unwrap()
}

#[test]
fn policy_change_is_a_visible_commit_and_routes_use_the_intersection() {
    let (mut alice, mut bob, mut carol, mut r) = three(6);
    let dir = directory();
    let own = Policy::new("eu-west").unwrap();
    let ids = |m: &Meeting| -> Vec<String> {
        m.route(&own, &dir, &Health::new(), 2000)
            .route()
            .unwrap()
            .relays()
            .map(|x| x.id().to_owned())
            .collect()
    };
    // The account allows everything; the meeting denies CN.
    assert!(!ids(&bob).contains(&"cn-1".to_owned()));
    assert!(ids(&bob).contains(&"fr-1".to_owned()));
    let stricter = policy().deny([Jurisdiction::parse("FR").unwrap()]);
    let before = alice.security_code().unwrap();
    let out = alice.set_policy(&stricter, NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    bob.drain_events();
    deliver(&mut [&mut bob, &mut carol], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
    assert_eq!(bob.policy(), &stricter);
    assert_ne!(alice.security_code().unwrap(), before);
    assert!(bob
        .drain_events()
        .iter()
        .any(|e| matches!(e, Event::PolicyChanged { policy, epoch: 2 } if policy == &stricter)));
    assert_eq!(ids(&bob), ["eu-1"]);
}

#[test]
fn commits_dropping_the_policy_are_refused_unchanged() {
    let (mut alice, mut bob, _carol, mut r) = three(7);
    let drop_policy = || {
        vec![Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: vec![],
        })]
    };
    // The honest committer runs the receivers' rules on its own commit: nothing is sent.
    let before = alice.to_bytes().unwrap();
    assert_eq!(
        alice
            .group
            .commit(
                drop_policy()
                    .into_iter()
                    .map(crate::mls::Proposal)
                    .collect(),
                &CommitOptions::at(NOW),
                &mut r
            )
            .map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::MeetingPolicyMissing))
    );
    assert!(!alice.group.has_pending_commit());
    assert!(*before == *alice.to_bytes().unwrap());
    // A member that skips the rules (its group state without the meeting's rules) sends it
    // anyway: every receiver refuses it the same way.
    let mut rogue =
        Group::from_bytes(GroupConfig::default(), &alice.group.to_bytes().unwrap()).unwrap();
    let out = rogue
        .commit(
            drop_policy()
                .into_iter()
                .map(crate::mls::Proposal)
                .collect(),
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let code = bob.security_code().unwrap();
    assert_eq!(
        bob.process(&out.commit),
        Err(Error::PeerMisbehaved(PeerMisbehaved::MeetingPolicyMissing))
    );
    assert_eq!(bob.epoch(), 1);
    assert_eq!(bob.security_code().unwrap(), code);
}

#[test]
fn key_packages_without_the_extension_cannot_join() {
    let (mut alice, _bob, _carol, mut r) = three(8);
    let suite = MlsSuite(1).suite().unwrap();
    let plain = KeyPackageBundle::with_suite(
        &suite,
        Credential::Basic {
            identity: b"eve".to_vec(),
        },
        SignaturePrivateKey::generate(&mut r),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &[],
        &mut r,
    )
    .unwrap();
    assert!(alice
        .add(std::slice::from_ref(&plain.key_package), NOW, &mut r)
        .is_err_and(|e| e == Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability)));
    assert!(!alice.has_pending_commit());
    assert_eq!(alice.participants().len(), 3);
    // Nor create a meeting.
    assert_eq!(
        Meeting::create(MeetingConfig::default(), plain, b"m", &policy(), &mut r).map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
    );
}

#[test]
fn leave_and_remove() {
    let (mut alice, mut bob, mut carol, mut r) = three(9);
    let leave = carol.leave(&mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob], &leave);
    let out = bob.rotate(NOW, &mut r).unwrap(); // commits the leave proposal
    bob.process(&out.commit).unwrap();
    alice.drain_events();
    deliver(&mut [&mut alice, &mut carol], &out.commit);
    assert!(!carol.is_active());
    assert!(carol.drain_events().contains(&Event::Left { epoch: 2 }));
    assert!(carol
        .encrypt_frame(MediaStream::AUDIO, b"", b"x", &mut [0u8; 64])
        .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::NotAMember)));
    assert!(alice.drain_events().iter().any(|e| matches!(
        e,
        Event::ParticipantLeft { participant, .. } if participant.identity == b"carol"
    )));
    assert_agree(&[&alice, &bob]);
    let out = alice.remove(bob.own_leaf(), NOW, &mut r).unwrap();
    assert!(alice
        .remove(alice.own_leaf(), NOW, &mut r)
        .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::IndexOutOfRange)));
    alice.confirm_pending().unwrap();
    bob.process(&out.commit).unwrap();
    assert!(!bob.is_active());
    assert_eq!(alice.participants().len(), 1);
}

#[test]
fn scheduled_rotation() {
    let (mut alice, mut bob, _carol, mut r) = three(10);
    assert!(alice.rotate_if_due(1000, &mut r).unwrap().is_none()); // starts the schedule
    assert!(alice.rotate_if_due(1599, &mut r).unwrap().is_none());
    let out = alice.rotate_if_due(1600, &mut r).unwrap().expect("due");
    alice.confirm_pending().unwrap();
    bob.process(&out.commit).unwrap();
    assert_eq!(bob.epoch(), 2);
    assert!(alice.rotate_if_due(1700, &mut r).unwrap().is_none());
    assert!(alice.rotate_if_due(2200, &mut r).unwrap().is_some());
}

#[test]
fn persistence_round_trip_keeps_keys_and_moves_the_kid_context() {
    let (mut alice, mut bob, mut carol, mut r) = three(11);
    let old = frame(&mut carol, b"before rotation");
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.confirm_pending().unwrap();
    deliver(&mut [&mut bob, &mut carol], &out.commit);
    let sent_before = frame(&mut bob, b"one");

    let saved = bob.to_bytes().unwrap();
    drop(bob);
    let mut bob = Meeting::from_bytes(MeetingConfig::default(), &saved, &mut rng(7)).unwrap();
    assert!(matches!(
        bob.next_event(),
        Some(Event::Joined {
            how: JoinMethod::Restored,
            ..
        })
    ));
    assert_agree(&[&alice, &bob, &carol]);
    // Past epoch's frame still decrypts after the restart.
    assert_eq!(open(&mut bob, &old).unwrap().0, b"before rotation");
    // Bob's new frames use a new KID: no nonce reuse with `sent_before`.
    let sent_after = frame(&mut bob, b"two");
    assert_ne!(sent_before[..2], sent_after[..2]);
    assert_eq!(open(&mut alice, &sent_before).unwrap().0, b"one");
    assert_eq!(open(&mut alice, &sent_after).unwrap().0, b"two");
    // Still in sync for the next epoch.
    let out = carol.rotate(NOW, &mut r).unwrap();
    carol.confirm_pending().unwrap();
    deliver(&mut [&mut alice, &mut bob], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);

    // Corrupt input: every truncation, a wrong magic or version, a trailing byte.
    let restore = |b: &[u8]| Meeting::from_bytes(MeetingConfig::default(), b, &mut rng(7));
    for n in [0, 3, 5] {
        assert!(restore(&saved[..n]).is_err_and(|e| e == InvalidMessage::Truncated.into()));
    }
    for n in [6, 37, saved.len() / 2, saved.len() - 1] {
        assert!(restore(&saved[..n]).is_err_and(|e| e == InvalidMessage::CorruptedState.into()));
    }
    let mut bad = saved.to_vec();
    bad[0] ^= 1;
    assert!(restore(&bad).is_err_and(|e| e == InvalidMessage::InvalidValue.into()));
    let mut bad = saved.to_vec();
    bad[5] = 9;
    assert!(restore(&bad).is_err_and(|e| e == InvalidMessage::InvalidValue.into()));
    let mut long = saved.to_vec();
    long.push(0);
    assert!(restore(&long).is_err_and(|e| e == InvalidMessage::CorruptedState.into()));
}

#[test]
fn wrong_message_kinds_are_refused() {
    let (mut alice, mut bob, _carol, mut r) = three(12);
    let out = alice.rotate(NOW, &mut r).unwrap();
    // A commit is not a Welcome, a Welcome not a GroupInfo.
    assert_eq!(
        Meeting::join_welcome(MeetingConfig::default(), &out.commit, kp("x", &mut r)).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::UnexpectedContentType))
    );
    let gi = alice.group_info().unwrap();
    assert_eq!(
        Meeting::join_welcome(MeetingConfig::default(), &gi, kp("y", &mut r)).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::UnexpectedContentType))
    );
    assert_eq!(
        Meeting::join_external(
            MeetingConfig::default(),
            &out.commit,
            kp("z", &mut r),
            &mut r
        )
        .map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::UnexpectedContentType))
    );
    // MLS application messages are not part of a meeting's handshake channel.
    alice.discard_pending();
    assert!(alice
        .drain_events()
        .contains(&Event::PendingCommitDiscarded {
            epoch: 1,
            intent: CommitIntent::Rotate
        }));
    let app = alice
        .group
        .encrypt_application(b"chat", b"", &mut r)
        .unwrap();
    assert_eq!(
        bob.process(&app),
        Err(Error::ApiMisuse(ApiMisuse::UnexpectedContentType))
    );
    assert_eq!(bob.epoch(), 1);
}

/// "Unchanged on error" by construction: a commit whose media keys cannot be installed
/// (here Bob's key store already holds an epoch so far ahead that the new one counts as
/// retired) is refused before the group merges it, and Bob's meeting is byte-identical.
#[test]
fn a_commit_whose_media_keys_fail_leaves_the_meeting_unchanged() {
    let (mut alice, mut bob, _carol, mut r) = three(77);
    bob.drain_events();
    let out = alice.rotate(NOW, &mut r).unwrap();
    let epoch = bob.epoch();
    // E = 3: an epoch 8 ahead of the next one makes the next one fall out of the window.
    bob.media.hold_epoch_for_test(epoch + 1 + 8).unwrap();
    let before = bob.to_bytes().unwrap();
    assert_eq!(bob.process(&out.commit), Err(Stale::EpochRetired.into()));
    assert_eq!(bob.epoch(), epoch);
    assert_eq!(*bob.to_bytes().unwrap(), *before);
    assert!(bob.next_event().is_none());
}
