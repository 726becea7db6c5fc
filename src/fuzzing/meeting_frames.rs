//! The meeting's media entry point under a hostile relay: Bob's meeting (epoch 1) decrypts
//! a sequence of arbitrary frames, then processes Alice's genuine rotation to epoch 2.
//!
//! Input: `{ uint16 len; opaque frame[len]; }*` (at most 300 frames). Asserts: no frame
//! changes Bob's saved state unless it decrypts (frames held for the next epoch are not
//! state); nothing a relay sends holds more than the bound or stalls the meeting (the
//! rotation is still accepted); what is released at the rotation authenticated under
//! epoch 2 from another member; nothing is released twice.

use std::sync::OnceLock;

use crate::error::{Error, Stale};
use crate::meeting::{MediaStream, Meeting, MeetingConfig};
use crate::mls::wire::MlsMessage;

use super::meeting_process::kp;
use super::rng::SeedRng;

/// The clock of the fixture.
const NOW: u64 = 1_800_000_000;
/// At most this many frames per input.
const MAX_FRAMES: usize = 300;

/// Bob's saved state at epoch 1, Alice's rotation to epoch 2, and the seed inputs.
pub(super) struct Fixture {
    bob: Vec<u8>,
    rotation: MlsMessage,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) seeds: Vec<(&'static str, Vec<u8>)>,
}

fn chunks(frames: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        out.extend_from_slice(&u16::try_from(f.len()).unwrap_or(0).to_be_bytes());
        out.extend_from_slice(f);
    }
    out
}

#[expect(clippy::unwrap_used, reason = "constant inputs; a failure is a bug")]
fn build() -> Fixture {
    let mut r = SeedRng::new(b"meeting_frames fixture");
    let policy = crate::routing::Policy::new("eu-west").unwrap();
    let mut alice = Meeting::create(
        MeetingConfig::default(),
        kp("alice"),
        b"frames",
        &policy,
        &mut r,
    )
    .unwrap();
    let b = kp("bob");
    let out = alice
        .add(std::slice::from_ref(&b.key_package), NOW, &mut r)
        .unwrap();
    alice.process(&out.commit).unwrap();
    let bob =
        Meeting::join_welcome(MeetingConfig::default(), &alice.take_welcome().unwrap(), b).unwrap();
    let frame = |m: &mut Meeting, stream: MediaStream, payload: &[u8]| {
        let mut f = vec![0u8; m.encrypted_len(stream, payload.len()).unwrap()];
        let n = m.encrypt_frame(stream, b"rtp", payload, &mut f).unwrap();
        f.truncate(n);
        f
    };
    let current = frame(&mut alice, MediaStream::AUDIO, b"epoch 1 audio");
    let rotation = alice.rotate(NOW, &mut r).unwrap().commit;
    alice.process(&rotation).unwrap();
    let next = frame(&mut alice, MediaStream::VIDEO, b"epoch 2 video");
    let next2 = frame(&mut alice, MediaStream::AUDIO, b"epoch 2 audio");
    let seeds = vec![
        ("current", chunks(&[&current])),
        ("next", chunks(&[&next, &next2])),
        ("mixed", chunks(&[&next, &current, &next, &current, &next2])),
    ];
    Fixture {
        bob: bob.to_bytes().unwrap().to_vec(),
        rotation,
        seeds,
    }
}

pub(super) fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

/// Runs `data`; returns whether any frame decrypted or was released.
#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
pub(super) fn frames(data: &[u8]) -> bool {
    let f = fixture();
    let Ok(mut bob) = Meeting::from_bytes(
        MeetingConfig::default(),
        &f.bob,
        &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
    ) else {
        panic!("the fixture does not restore");
    };
    let mut deep = false;
    let mut rest = data;
    let mut out = vec![0u8; usize::from(u16::MAX)];
    for _ in 0..MAX_FRAMES {
        let Some((len, tail)) = rest.split_first_chunk::<2>() else {
            break;
        };
        let len = usize::from(u16::from_be_bytes(*len)).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let before = bob.to_bytes().ok();
        match bob.decrypt_frame(b"rtp", frame, &mut out, NOW) {
            Ok(info) => {
                deep = true;
                if info.epoch != 1 || info.len > frame.len() {
                    panic!("a frame decrypted under an epoch Bob does not have");
                }
            }
            Err(Error::Stale(Stale::EarlyFrame)) | Err(_) => {
                if bob.to_bytes().ok() != before {
                    panic!("a refused or held frame changed the saved state");
                }
            }
        }
    }
    if bob.process(&f.rotation).is_err() {
        panic!("frames stalled the meeting: the rotation was refused");
    }
    let own = bob.own_leaf();
    let mut seen = std::collections::HashSet::new();
    while let Some(e) = bob.take_early_frame() {
        deep = true;
        if e.info.epoch != 2 || e.info.sender == own || e.plaintext.len() != e.info.len {
            panic!("a released frame is not another member's epoch-2 frame");
        }
        if !seen.insert((e.info.sender, e.info.stream, e.info.counter)) {
            panic!("a frame was released twice");
        }
    }
    deep
}

/// Harness: see the module docs.
pub fn meeting_frames(data: &[u8]) {
    frames(data);
}
