//! Media as a client meets it: frames of the next epoch before its commit, several streams
//! per sender, past epochs dropped by time as well as by count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::early_frames::{MAX_HELD_BYTES, MAX_HELD_FRAMES};
use super::tests::{frame, open, three, NOW};
use super::{Event, MediaStream, Meeting, MeetingConfig};
use crate::error::{ApiMisuse, Error, PeerMisbehaved, Stale};

fn frame_on(from: &mut Meeting, stream: MediaStream, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; from.encrypted_len(stream, payload.len()).unwrap()];
    let n = from
        .encrypt_frame(stream, b"rtp", payload, &mut out)
        .unwrap();
    assert_eq!(n, out.len(), "encrypted_len is exact");
    out
}

fn open_at(to: &mut Meeting, f: &[u8], now: u64) -> crate::Result<Vec<u8>> {
    let mut out = vec![0u8; f.len()];
    let info = to.decrypt_frame(b"rtp", f, &mut out, now)?;
    out.truncate(info.len);
    Ok(out)
}

/// Alice rotates `n` times; everyone processes each commit.
fn rotate_all(n: usize, alice: &mut Meeting, others: &mut [&mut Meeting], r: &mut super::tests::R) {
    for _ in 0..n {
        let out = alice.rotate(NOW, r).unwrap();
        alice.process(&out.commit).unwrap();
        for m in others.iter_mut() {
            m.process(&out.commit).unwrap();
        }
    }
}

/// The KID aliasing of the review: with E = 3 and every slot holding a past epoch, a
/// genuine frame of epoch n+1 that overtakes its commit read as `AuthenticationFailed`.
/// Now the next epoch's slot is always free: the frame is held (`Stale::EarlyFrame`), and
/// comes back decrypted when the commit arrives.
#[test]
fn a_frame_of_the_next_epoch_is_held_and_released_with_its_commit() {
    let (mut alice, mut bob, mut carol, mut r) = three(90);
    rotate_all(9, &mut alice, &mut [&mut bob, &mut carol], &mut r);
    let n = bob.epoch();
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    let early = frame_on(&mut alice, MediaStream::VIDEO, b"overtook the commit");
    assert_eq!(
        open_at(&mut bob, &early, NOW),
        Err(Stale::EarlyFrame.into())
    );
    assert_eq!(bob.media.early_len(), 1);
    assert!(bob.take_early_frame().is_none());
    bob.drain_events();
    bob.process(&out.commit).unwrap();
    let events = bob.drain_events();
    assert!(events.contains(&Event::EarlyFramesReleased {
        epoch: n + 1,
        released: 1,
        refused: 0
    }));
    let got = bob.take_early_frame().unwrap();
    assert_eq!(got.plaintext, b"overtook the commit");
    assert_eq!(got.metadata, b"rtp");
    assert_eq!(
        (got.info.sender, got.info.stream, got.info.epoch),
        (alice.own_leaf(), MediaStream::VIDEO, n + 1)
    );
    assert!(bob.take_early_frame().is_none());
    // Released once: the frame itself is now a replay.
    assert_eq!(open_at(&mut bob, &early, NOW), Err(Stale::Replayed.into()));
}

/// A relay forges frames for the free slot: they are held (nothing can tell yet), then
/// refused when the epoch's key arrives; the genuine one among them is released.
#[test]
fn forged_early_frames_are_refused_at_release_and_the_genuine_one_survives() {
    let (mut alice, mut bob, _carol, mut r) = three(91);
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    let genuine = frame(&mut alice, b"genuine");
    let mut forged = genuine.clone();
    let last = forged.len() - 1;
    forged[last] ^= 0x40;
    assert_eq!(open(&mut bob, &forged), Err(Stale::EarlyFrame.into()));
    assert_eq!(open(&mut bob, &genuine), Err(Stale::EarlyFrame.into()));
    bob.drain_events();
    bob.process(&out.commit).unwrap();
    assert!(bob.drain_events().contains(&Event::EarlyFramesReleased {
        epoch: bob.epoch(),
        released: 1,
        refused: 1
    }));
    assert_eq!(bob.take_early_frame().unwrap().plaintext, b"genuine");
    assert!(bob.take_early_frame().is_none());
}

/// The hold is bounded in frames and bytes: beyond it an early frame is dropped
/// (`Stale::FutureEpoch`) and nothing grows.
#[test]
fn the_early_frame_buffer_is_bounded() {
    let (mut alice, mut bob, _carol, mut r) = three(92);
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    let f = frame(&mut alice, b"x");
    for _ in 0..MAX_HELD_FRAMES {
        assert_eq!(open(&mut bob, &f), Err(Stale::EarlyFrame.into()));
    }
    assert_eq!(open(&mut bob, &f), Err(Stale::FutureEpoch.into()));
    assert_eq!(bob.media.early_len(), MAX_HELD_FRAMES);
    // Bytes: one huge frame does not fit beside what is held.
    let (mut alice2, mut bob2, _c, mut r2) = three(93);
    let out2 = alice2.rotate(NOW, &mut r2).unwrap();
    alice2.process(&out2.commit).unwrap();
    let big = frame(&mut alice2, &vec![7u8; MAX_HELD_BYTES]);
    assert_eq!(open(&mut bob2, &big), Err(Stale::FutureEpoch.into()));
    assert_eq!(bob2.media.early_len(), 0);
    // The copies of one frame: one is released, the others are replays (refused).
    bob.process(&out.commit).unwrap();
    assert!(bob.take_early_frame().is_some());
    assert!(bob.take_early_frame().is_none());
}

/// Each stream has its own key, counter and replay window: a video frame held back while
/// 2 000 audio frames pass is still accepted, and the two streams never share a KID.
#[test]
fn each_stream_has_its_own_counter_and_replay_window() {
    let (mut alice, mut bob, _carol, _r) = three(94);
    let video0 = frame_on(&mut alice, MediaStream::VIDEO, b"keyframe");
    let mut audio = Vec::new();
    for i in 0..2_000u32 {
        audio.push(frame_on(&mut alice, MediaStream::AUDIO, &i.to_be_bytes()));
    }
    let screen0 = frame_on(&mut alice, MediaStream::SCREEN_SHARE, b"slide");
    let mut kids = std::collections::HashSet::new();
    for f in &audio {
        let (h, _) = crate::sframe::Header::decode(f).unwrap();
        assert!(kids.insert((h.kid, h.ctr)));
    }
    for f in [&video0, &screen0] {
        let (h, _) = crate::sframe::Header::decode(f).unwrap();
        assert_eq!(h.ctr, 0, "a stream's counter starts at 0");
        assert!(kids.insert((h.kid, h.ctr)), "no (KID, CTR) twice");
    }
    for f in &audio {
        open(&mut bob, f).unwrap();
    }
    let (plain, info) = open(&mut bob, &video0).unwrap();
    assert_eq!(
        (plain.as_slice(), info.stream),
        (&b"keyframe"[..], MediaStream::VIDEO)
    );
    assert_eq!(info.counter, 0);
    let (_, info) = open(&mut bob, &screen0).unwrap();
    assert_eq!(info.stream, MediaStream::SCREEN_SHARE);
    // Audio keeps the shortest header: a two-byte-shorter KID than video's.
    let a = crate::sframe::Header::decode(&audio[0]).unwrap().1;
    let v = crate::sframe::Header::decode(&video0).unwrap().1;
    assert!(a < v, "audio header {a} bytes, video {v}");
    assert_eq!(MediaStream::new(16), Err(ApiMisuse::IndexOutOfRange.into()));
}

/// Past epochs go after `old_epoch_retention` seconds, counted from the first call that
/// brought the time after the change, and survive a save and restore with that clock.
#[test]
fn past_epochs_are_dropped_after_the_retention_time_also_across_a_restore() {
    let (mut alice, mut bob, _carol, mut r) = three(95);
    let retention = MeetingConfig::default().old_epoch_retention;
    let late = frame(&mut alice, b"sent before the commit");
    let later = frame(&mut alice, b"also before");
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    bob.process(&out.commit).unwrap();
    // The clock of the past epoch starts here.
    assert!(open_at(&mut bob, &frame(&mut alice, b"now"), NOW).is_ok());
    assert_eq!(
        open_at(&mut bob, &late, NOW + retention - 1).unwrap(),
        b"sent before the commit"
    );
    let saved = bob.to_bytes().unwrap();
    assert_eq!(
        open_at(&mut bob, &later, NOW + retention),
        Err(Stale::UnknownKeyId.into())
    );
    let mut restored =
        Meeting::from_bytes(MeetingConfig::default(), &saved, &mut super::tests::rng(1)).unwrap();
    assert_eq!(
        open_at(&mut restored, &later, NOW + retention),
        Err(Stale::UnknownKeyId.into())
    );
    // A longer retention keeps it.
    let mut patient = Meeting::from_bytes(
        MeetingConfig {
            old_epoch_retention: 3_600,
            ..MeetingConfig::default()
        },
        &saved,
        &mut super::tests::rng(2),
    )
    .unwrap();
    assert_eq!(
        open_at(&mut patient, &later, NOW + retention).unwrap(),
        b"also before"
    );
}

/// By count: the current epoch and 2^E - 2 past ones (E = 3: 7 in all), so the next
/// epoch's slot stays free; `rotate_if_due` also drops expired epochs with no frame.
#[test]
fn at_most_two_to_the_e_minus_one_epochs_are_held() {
    let (mut alice, mut bob, mut carol, mut r) = three(96);
    rotate_all(12, &mut alice, &mut [&mut bob, &mut carol], &mut r);
    let held = bob.media.held_epochs();
    let e = bob.epoch();
    assert_eq!(held, ((e - 6)..=e).collect::<Vec<_>>());
    bob.rotate_if_due(NOW, &mut r).unwrap(); // stamps the past epochs
    bob.rotate_if_due(NOW + 10_000, &mut r).unwrap();
    assert_eq!(bob.media.held_epochs(), vec![e]);
}

/// A layout that leaves too few context bits for the streams of a restored instance is
/// refused where the meeting is created and where a commit carries it.
#[test]
fn layouts_without_room_for_streams_and_restores_are_refused() {
    let mut r = super::tests::rng(97);
    let tight = MeetingConfig {
        epoch_bits: 16,
        index_bits: 29,
        ..MeetingConfig::default()
    };
    let policy = crate::routing::Policy::new("eu-west").unwrap();
    assert_eq!(
        Meeting::create(tight, super::tests::kp("a", &mut r), b"m", &policy, &mut r).map(|_| ()),
        Err(ApiMisuse::InvalidKidLayout.into())
    );
    let ext = crate::mls::wire::Extension {
        extension_type: super::media_ext::MEDIA_EXTENSION,
        extension_data: vec![0, 4, 16, 29],
    };
    assert_eq!(
        super::media_ext::media_of(&[ext]),
        Err(Error::PeerMisbehaved(
            PeerMisbehaved::MediaParametersInvalid
        ))
    );
}
