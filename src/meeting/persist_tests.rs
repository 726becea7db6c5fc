//! Saved state against a client's real life: one snapshot restored many times (RFC 9605
//! §9.1: no (key, nonce) twice), replays after a restart, a restart between sending a
//! commit and its echo, and sealed storage.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use super::tests::{assert_agree, deliver, frame, kp, open, rng, three, NOW};
use super::{Meeting, MeetingConfig};
use crate::crypto::Secret;
use crate::error::{Error, InvalidMessage, Stale};
use crate::sframe::Header;

/// (KID, CTR) of a frame: with the epoch's base key, they fix the key and the nonce.
fn kid_ctr(frame: &[u8]) -> (u64, u64) {
    let (h, _) = Header::decode(frame).unwrap();
    (h.kid, h.ctr)
}

fn restore(saved: &[u8], seed: u64) -> Meeting {
    Meeting::from_bytes(MeetingConfig::default(), saved, &mut rng(seed)).unwrap()
}

/// RFC 9605 §9.1: a crash loop, a restored backup or two app instances on one state file
/// restore the same snapshot several times; each restored instance sends under its own KID
/// (a fresh random context), so no (KID, CTR) — hence no (key, nonce) — repeats, and every
/// frame still decrypts at the other members.
#[test]
fn one_snapshot_restored_many_times_never_repeats_a_kid_and_counter() {
    let (mut alice, mut bob, _carol, _) = three(60);
    let saved = bob.to_bytes().unwrap();
    let mut seen = HashSet::new();
    // The original instance goes on sending too.
    for _ in 0..3 {
        let f = frame(&mut bob, b"original");
        assert!(seen.insert(kid_ctr(&f)));
        assert_eq!(open(&mut alice, &f).unwrap().0, b"original");
    }
    for seed in 0..20 {
        let mut copy = restore(&saved, 1000 + seed);
        for _ in 0..3 {
            let f = frame(&mut copy, b"restored");
            assert!(seen.insert(kid_ctr(&f)), "a (KID, CTR) was used twice");
            assert_eq!(open(&mut alice, &f).unwrap().0, b"restored");
        }
    }
}

/// The restored instances keep their own context into later epochs: two restores of one
/// snapshot that both follow the next commit still send under different KIDs.
#[test]
fn restored_instances_keep_distinct_keys_in_later_epochs() {
    let (mut alice, mut bob, mut carol, mut r) = three(61);
    let saved = bob.to_bytes().unwrap();
    let mut b1 = restore(&saved, 1);
    let mut b2 = restore(&saved, 2);
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.confirm_pending().unwrap();
    deliver(&mut [&mut bob, &mut carol, &mut b1, &mut b2], &out.commit);
    let frames = [
        frame(&mut bob, b"x"),
        frame(&mut b1, b"x"),
        frame(&mut b2, b"x"),
    ];
    let ids: HashSet<_> = frames.iter().map(|f| kid_ctr(f)).collect();
    assert_eq!(ids.len(), 3);
    for f in &frames {
        assert_eq!(open(&mut carol, f).unwrap().0, b"x");
    }
}

/// RFC 9605 §9.3: replay windows survive a restart — a relay replaying to a restarted
/// client what it accepted before is refused; what it never saw still decrypts.
#[test]
fn frames_accepted_before_a_restart_are_refused_as_replays_after_it() {
    let (mut alice, mut bob, _carol, _) = three(62);
    let f1 = frame(&mut alice, b"one");
    let f2 = frame(&mut alice, b"two");
    assert_eq!(open(&mut bob, &f1).unwrap().0, b"one");
    let mut bob = restore(&bob.to_bytes().unwrap(), 3);
    assert_eq!(
        open(&mut bob, &f1).map(|_| ()),
        Err(Error::Stale(Stale::Replayed))
    );
    assert_eq!(open(&mut bob, &f2).unwrap().0, b"two");
    assert_eq!(
        open(&mut bob, &f2).map(|_| ()),
        Err(Error::Stale(Stale::Replayed))
    );
}

/// A restart between sending a commit and its echo: the saved state holds the pending
/// commit, and the delivery service's echo merges it after the restore — for a rotation
/// (with a path), an add (with a Welcome) and a remove.
#[test]
fn a_pending_commit_survives_a_restart_and_its_echo_merges_it() {
    let (mut alice, mut bob, mut carol, mut r) = three(63);
    // Rotation.
    let out = alice.rotate(NOW, &mut r).unwrap();
    let mut alice = restore(&alice.to_bytes().unwrap(), 4);
    assert!(alice.has_pending_commit());
    alice.process(&out.commit).unwrap();
    deliver(&mut [&mut bob, &mut carol], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
    // Add: the Welcome sent before the restart works with the merged epoch.
    let dave_kp = kp("dave", &mut r);
    let out = alice
        .add(std::slice::from_ref(&dave_kp.key_package), NOW, &mut r)
        .unwrap();
    let mut alice = restore(&alice.to_bytes().unwrap(), 5);
    alice.process(&out.commit).unwrap();
    deliver(&mut [&mut bob, &mut carol], &out.commit);
    let mut dave = Meeting::join_welcome(
        MeetingConfig::default(),
        &alice.take_welcome().unwrap(),
        dave_kp,
    )
    .unwrap();
    assert_agree(&[&alice, &bob, &carol, &dave]);
    // Remove.
    let out = alice.remove(carol.own_leaf(), NOW, &mut r).unwrap();
    let mut alice = restore(&alice.to_bytes().unwrap(), 6);
    alice.process(&out.commit).unwrap();
    deliver(&mut [&mut bob, &mut carol, &mut dave], &out.commit);
    assert!(!carol.is_active());
    assert_agree(&[&alice, &bob, &dave]);
    let f = frame(&mut alice, b"after");
    assert_eq!(open(&mut dave, &f).unwrap().0, b"after");
}

/// Another member's commit won the epoch while we were down: the restored pending commit
/// is discarded as before the restart, and we follow the winner.
#[test]
fn a_restored_pending_commit_loses_to_the_winner() {
    let (mut alice, mut bob, mut carol, mut r) = three(64);
    let _lost = alice.rotate(NOW, &mut r).unwrap();
    let mut alice = restore(&alice.to_bytes().unwrap(), 7);
    let won = bob.rotate(NOW, &mut r).unwrap();
    bob.process(&won.commit).unwrap();
    alice.process(&won.commit).unwrap();
    carol.process(&won.commit).unwrap();
    assert!(!alice.has_pending_commit());
    assert_agree(&[&alice, &bob, &carol]);
}

/// A sealed state opens only under its key; any change to it is refused.
#[test]
fn sealed_state_opens_only_under_its_key() {
    let (mut alice, bob, _carol, mut r) = three(65);
    let key = Secret::from_slice(&[0x42; 32]).unwrap();
    let sealed = bob.seal(&key, &mut r).unwrap();
    let plain = bob.to_bytes().unwrap();
    // No key material in the clear: the sealed bytes do not contain the plain state.
    assert!(!sealed
        .windows(64)
        .any(|w| plain.windows(64).any(|p| p == w)));
    let mut back = Meeting::open(MeetingConfig::default(), &sealed, &key, &mut r).unwrap();
    assert_eq!(back.epoch(), bob.epoch());
    let f = frame(&mut back, b"sealed");
    assert_eq!(open(&mut alice, &f).unwrap().0, b"sealed");
    let other = Secret::from_slice(&[0x43; 32]).unwrap();
    let refuse = |b: &[u8], k: &Secret, r: &mut super::tests::R| {
        Meeting::open(MeetingConfig::default(), b, k, r).map(|_| ())
    };
    assert_eq!(
        refuse(&sealed, &other, &mut r),
        Err(Error::AuthenticationFailed)
    );
    for i in (0..sealed.len()).step_by(97) {
        let mut bad = sealed.clone();
        bad[i] ^= 0x10;
        assert_eq!(refuse(&bad, &key, &mut r), Err(Error::AuthenticationFailed));
    }
    assert_eq!(
        refuse(&sealed[..sealed.len() - 1], &key, &mut r),
        Err(Error::AuthenticationFailed)
    );
    let short = Secret::from_slice(&[0x42; 16]).unwrap();
    assert_eq!(
        bob.seal(&short, &mut r).map(|_| ()),
        Err(crate::error::ApiMisuse::InvalidLength.into())
    );
}

/// Every single-byte corruption and every truncation of a saved state is a typed error:
/// never a different meeting (the state carries a digest).
#[test]
fn every_corruption_of_a_saved_state_is_refused() {
    let (_alice, bob, _carol, _) = three(66);
    let saved = bob.to_bytes().unwrap();
    let restore = |b: &[u8]| Meeting::from_bytes(MeetingConfig::default(), b, &mut rng(8));
    for i in 0..saved.len() {
        let mut bad = saved.to_vec();
        bad[i] ^= 0x01;
        let got = restore(&bad).map(|_| ());
        if i < 6 {
            // The magic or the version (4 becomes 5, unknown): not a saved meeting.
            assert_eq!(got, Err(InvalidMessage::InvalidValue.into()), "byte {i}");
        } else {
            assert_eq!(got, Err(InvalidMessage::CorruptedState.into()), "byte {i}");
        }
    }
    for n in 0..saved.len() {
        let want = if n < 6 {
            InvalidMessage::Truncated
        } else {
            InvalidMessage::CorruptedState
        };
        assert_eq!(
            restore(&saved[..n]).map(|_| ()),
            Err(want.into()),
            "length {n}"
        );
    }
}

/// An RNG that always gives zeros: a restore cannot draw a fresh KID context from it and
/// fails instead of hanging or reusing the saved context.
#[test]
fn a_broken_rng_fails_the_restore_instead_of_hanging() {
    struct Zeros;
    impl rand_core::RngCore for Zeros {
        fn next_u32(&mut self) -> u32 {
            0
        }
        fn next_u64(&mut self) -> u64 {
            0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(0);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Zeros {}
    let (_alice, bob, _carol, _) = three(67);
    let saved = bob.to_bytes().unwrap();
    assert_eq!(
        Meeting::from_bytes(MeetingConfig::default(), &saved, &mut Zeros).map(|_| ()),
        Err(Error::Internal("the RNG repeats itself"))
    );
}
