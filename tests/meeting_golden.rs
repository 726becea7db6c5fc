//! Golden files of the saved-meeting format (`Meeting::to_bytes`, version 4; versions 1, 2
//! and 3 are still read).
//!
//! A deterministic run (seeded RNG) builds a meeting — Alice creates it, adds Bob, rotates —
//! and saves Alice's state. The test fails when the bytes differ from the committed
//! `tests/golden/meeting_state_v4.bin` (the format or the key schedule changed: bump
//! the format version (`MEETING_STATE_VERSION` in `src/meeting/persist.rs`) and keep reading version 1), and checks that the committed file
//! still restores. Regenerate deliberately with `MEETKEY_UPDATE_GOLDEN=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use meetkey::meeting::{Event, JoinMethod, MediaStream, Meeting, MeetingConfig};
use meetkey::mls::Lifetime;
use meetkey::routing::{Jurisdiction, Policy};
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_core::SeedableRng;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/meeting_state_v4.bin"
);
/// The version-3 file (no retirement times of past epochs), made by an earlier meetkey.
const GOLDEN_V3: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/meeting_state_v3.bin"
);
/// The version-2 file (no pending commit, replay windows or digest), made by an earlier
/// meetkey.
const GOLDEN_V2: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/meeting_state_v2.bin"
);
/// The version-1 file (a meeting without governance, made by an earlier meetkey).
const GOLDEN_V1: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/meeting_state_v1.bin"
);

fn rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

fn deterministic_meeting() -> (Meeting, Meeting) {
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(0x6d65_6574);
    let suite = CipherSuite(1);
    let lifetime = Lifetime::starting_at(NOW, KP_LIFETIME);
    let kp = |name: &str, r: &mut rand_chacha::ChaCha20Rng| {
        let signer = SignaturePrivateKey::generate(r);
        Meeting::key_package(suite, name.as_bytes(), signer, lifetime, r).unwrap()
    };
    let policy = Policy::new("eu-west")
        .unwrap()
        .allow_only(["DE", "FR", "NL"].map(|c| Jurisdiction::parse(c).unwrap()));
    let alice_kp = kp("alice", &mut r);
    let mut alice = Meeting::create(
        MeetingConfig::default(),
        alice_kp,
        b"golden meeting",
        &policy,
        &mut r,
    )
    .unwrap();
    let bob_kp = kp("bob", &mut r);
    alice
        .add(std::slice::from_ref(&bob_kp.key_package), NOW, &mut r)
        .unwrap();
    alice.confirm_pending().unwrap();
    let mut bob = Meeting::join_welcome(
        MeetingConfig::default(),
        &alice.take_welcome().unwrap(),
        bob_kp,
    )
    .unwrap();
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.confirm_pending().unwrap();
    bob.process(&out.commit).unwrap();
    (alice, bob)
}

#[test]
fn golden_meeting_state_v4() {
    let (alice, mut bob) = deterministic_meeting();
    let bytes = alice.to_bytes().unwrap();
    // "MKMT", then the format version (u16): 4.
    assert_eq!(bytes[..6], *b"MKMT\x00\x04");
    if std::env::var_os("MEETKEY_UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, bytes.as_slice()).unwrap();
    }
    let golden = std::fs::read(GOLDEN).expect("tests/golden/meeting_state_v4.bin");
    assert!(
        golden.as_slice() == bytes.as_slice(),
        "the saved-meeting encoding changed ({} bytes, golden {} bytes)",
        bytes.len(),
        golden.len()
    );

    // The committed file restores, and the restored Alice is in Bob's epoch.
    let mut restored = Meeting::from_bytes(MeetingConfig::default(), &golden, &mut rng(7)).unwrap();
    assert!(matches!(
        restored.next_event(),
        Some(Event::Joined {
            how: JoinMethod::Restored,
            epoch: 2
        })
    ));
    assert_eq!(restored.epoch(), 2);
    assert_eq!(
        restored.security_code().unwrap(),
        bob.security_code().unwrap()
    );
    assert_eq!(restored.participants(), bob.participants());
    let mut f = [0u8; 64];
    let n = restored
        .encrypt_frame(MediaStream::AUDIO, b"m", b"golden frame", &mut f)
        .unwrap();
    let mut p = [0u8; 64];
    let info = bob.decrypt_frame(b"m", &f[..n], &mut p, NOW).unwrap();
    assert_eq!(&p[..info.len], b"golden frame");
}

/// Restores an older golden file: Alice's meeting in epoch 2 with Alice and Bob, able to
/// send frames and show a security code.
fn restore_legacy(path: &str) -> Meeting {
    let golden = std::fs::read(path).expect(path);
    let mut restored = Meeting::from_bytes(MeetingConfig::default(), &golden, &mut rng(7)).unwrap();
    assert_eq!(restored.epoch(), 2);
    let names: Vec<_> = restored
        .participants()
        .into_iter()
        .map(|p| p.identity)
        .collect();
    assert_eq!(names, [b"alice".to_vec(), b"bob".to_vec()]);
    let mut f = [0u8; 64];
    assert!(restored
        .encrypt_frame(MediaStream::AUDIO, b"m", b"legacy frame", &mut f)
        .is_ok_and(|n| n > 8));
    assert!(restored.security_code().is_ok());
    restored
}

/// A version-1 saved meeting (no governance extension, stored proposals without an
/// admission flag) still restores and works: a legacy meeting whose fence can only narrow.
#[test]
fn golden_meeting_state_v1_still_restores() {
    assert!(restore_legacy(GOLDEN_V1).governance().is_none());
}

/// The version-3 file (past epochs without retirement times: their clock starts at the
/// first call that brings the time) still restores and works.
#[test]
fn golden_meeting_state_v3_still_restores() {
    assert!(restore_legacy(GOLDEN_V3).governance().is_some());
}

/// The version-2 file (a meeting from before meetings carried their media parameters)
/// still restores, in its epoch, with its saved KID layout, and sends frames.
#[test]
fn golden_meeting_state_v2_still_restores() {
    assert!(restore_legacy(GOLDEN_V2).governance().is_some());
}

/// Untrusted saved state never panics, and is never a different meeting: every single-byte
/// corruption and every truncation of the golden file is refused with a typed error (the
/// digest catches what the format checks do not).
#[test]
fn corrupted_saved_state_is_refused() {
    use meetkey::error::InvalidMessage;
    let golden = std::fs::read(GOLDEN).unwrap();
    for i in 6..golden.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bad = golden.clone();
            bad[i] ^= flip;
            let got = Meeting::from_bytes(MeetingConfig::default(), &bad, &mut rng(7));
            assert!(
                got.is_err_and(|e| e == InvalidMessage::CorruptedState.into()),
                "byte {i} ^ {flip:#x}"
            );
        }
    }
    for n in 6..golden.len() {
        let got = Meeting::from_bytes(MeetingConfig::default(), &golden[..n], &mut rng(7));
        assert!(got.is_err_and(|e| e == InvalidMessage::CorruptedState.into()));
    }
}
