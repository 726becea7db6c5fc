//! Handshake messages as a client meets them: what a message shows before it is processed,
//! and early messages told apart from late ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::early::MAX_EARLY_MESSAGES;
use super::tests::{assert_agree, deliver, kp, three, NOW};
use super::{CommitIntent, Event, Meeting, MeetingConfig};
use crate::error::{Error, Stale};
use crate::mls::{MessageKind, Sender};

/// The accessors show kind, group, epoch and (for a PublicMessage) the sender, unverified.
#[test]
fn messages_show_kind_group_epoch_and_sender() {
    let (mut alice, _bob, _carol, mut r) = three(70);
    let dave = kp("dave", &mut r);
    let out = alice
        .add(std::slice::from_ref(&dave.key_package), NOW, &mut r)
        .unwrap();
    let commit = &out.commit;
    assert_eq!(commit.kind(), MessageKind::Commit);
    assert_eq!(
        commit.group_and_epoch(),
        Some((alice.meeting_id(), alice.epoch()))
    );
    assert_eq!(commit.sender(), Some(Sender::Member(alice.own_leaf())));
    let gi = alice.group_info().unwrap();
    assert_eq!(gi.kind(), MessageKind::GroupInfo);
    assert_eq!(
        gi.group_and_epoch(),
        Some((alice.meeting_id(), alice.epoch()))
    );
    let kp_msg = crate::mls::MlsMessage::from(dave.key_package.clone());
    assert_eq!(kp_msg.kind(), MessageKind::KeyPackage);
    // The Welcome is released only once the commit is confirmed.
    assert_eq!(alice.take_welcome(), None);
    alice.process(&out.commit).unwrap();
    let welcome = alice.take_welcome().unwrap();
    assert_eq!(alice.take_welcome(), None);
    assert_eq!(welcome.kind(), MessageKind::Welcome);
    assert_eq!(welcome.group_and_epoch(), None);
    assert_eq!(welcome.sender(), None);
    let leave = alice.leave(&mut r).unwrap();
    assert_eq!(leave.kind(), MessageKind::Proposal);
}

/// RFC 9420 §12.4.2: a commit of the next epoch that arrives before the current epoch's
/// commit is kept and merged right after it; an old one is `PastEpoch` (dropped), and
/// changes nothing.
#[test]
fn early_commits_are_kept_and_late_ones_refused() {
    let (mut alice, mut bob, mut carol, mut r) = three(71);
    let first = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&first.commit).unwrap();
    let second = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&second.commit).unwrap();
    bob.drain_events();
    bob.process(&second.commit).unwrap();
    assert_eq!(bob.epoch(), 1);
    assert_eq!(bob.early.len(), 1);
    assert_eq!(bob.drain_events(), [Event::HandshakeBuffered { epoch: 2 }]);
    bob.process(&first.commit).unwrap();
    assert_eq!(bob.epoch(), 3);
    assert_eq!(bob.early.len(), 0);
    deliver(&mut [&mut carol], &first.commit);
    deliver(&mut [&mut carol], &second.commit);
    assert_agree(&[&alice, &bob, &carol]);
    let before = bob.to_bytes().unwrap();
    assert_eq!(
        bob.process(&first.commit),
        Err(Error::Stale(Stale::PastEpoch))
    );
    assert!(*before == *bob.to_bytes().unwrap());
}

/// The early buffer is bounded: at most 16 epochs ahead and 64 messages; beyond that a
/// handshake is `FutureEpoch`, refused and not kept. A kept one that turns out invalid when
/// its epoch comes is reported and dropped.
#[test]
fn the_early_buffer_is_bounded() {
    let (mut alice, mut bob, _carol, mut r) = three(74);
    // 17 epochs of Alice's commits that Bob has not seen.
    let mut commits = Vec::new();
    for _ in 0..18 {
        let out = alice.rotate(NOW, &mut r).unwrap();
        alice.process(&out.commit).unwrap();
        commits.push(out.commit);
    }
    // Epoch 1 + 16 is the furthest kept; 1 + 17 is refused.
    assert_eq!(
        bob.process(&commits[17]),
        Err(Error::Stale(Stale::FutureEpoch))
    );
    bob.process(&commits[16]).unwrap();
    // 64 messages at most.
    for _ in 1..MAX_EARLY_MESSAGES {
        bob.process(&commits[1]).unwrap();
    }
    assert_eq!(bob.early.len(), MAX_EARLY_MESSAGES);
    assert_eq!(
        bob.process(&commits[2]),
        Err(Error::Stale(Stale::FutureEpoch))
    );
    // The first kept copy of epoch 2's commit merges; its duplicates are then past.
    bob.drain_events();
    for c in &commits[..17] {
        // Those merged from the buffer meanwhile are now in the past.
        match bob.process(c) {
            Ok(()) | Err(Error::Stale(Stale::PastEpoch)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(bob.epoch(), 18);
    assert_eq!(bob.early.len(), 0);
    bob.process(&commits[17]).unwrap();
    assert_eq!(bob.epoch(), alice.epoch());
    assert_eq!(bob.security_code().unwrap(), alice.security_code().unwrap());
}

/// Another member's commit wins the epoch: ours is discarded with what it was meant to do,
/// its Welcome is never released (Dave would enter an epoch that did not happen), and one
/// call re-issues it in the new epoch.
#[test]
fn a_lost_commit_gives_back_its_intent_and_never_its_welcome() {
    let (mut alice, mut bob, mut carol, mut r) = three(72);
    let dave = kp("dave", &mut r);
    let _lost = alice
        .add(std::slice::from_ref(&dave.key_package), NOW, &mut r)
        .unwrap();
    let won = bob.rotate(NOW, &mut r).unwrap();
    alice.drain_events();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &won.commit);
    assert_eq!(alice.take_welcome(), None);
    let intent = alice
        .drain_events()
        .into_iter()
        .find_map(|e| match e {
            Event::PendingCommitDiscarded { epoch: 1, intent } => Some(intent),
            _ => None,
        })
        .expect("PendingCommitDiscarded");
    assert_eq!(intent, CommitIntent::Add(vec![dave.key_package.clone()]));
    let out = alice.retry(&intent, NOW, &mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &out.commit);
    let welcome = alice.take_welcome().unwrap();
    let dave = Meeting::join_welcome(MeetingConfig::default(), &welcome, dave).unwrap();
    assert_agree(&[&alice, &bob, &carol, &dave]);
}

/// A leave request is admitted on receipt and raises "commit needed"; the rotation that
/// follows commits it.
#[test]
fn a_leave_request_raises_commit_needed() {
    let (mut alice, mut bob, mut carol, mut r) = three(73);
    let leave = carol.leave(&mut r).unwrap();
    alice.drain_events();
    alice.process(&leave).unwrap();
    bob.process(&leave).unwrap();
    assert!(alice
        .drain_events()
        .contains(&Event::CommitNeeded { epoch: 1 }));
    assert!(alice.commit_needed());
    let out = alice.rotate(NOW, &mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &out.commit);
    assert!(!carol.is_active());
    assert_agree(&[&alice, &bob]);
}
