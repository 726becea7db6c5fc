//! Contexts, bad input and MLS keying (RFC 9605 §4.4, §5.2, §7.4, §9).

use super::*;
use crate::error::{ApiMisuse, Error, InvalidMessage, Stale};

const ALL_SUITES: [SframeSuite; 5] = [
    SframeSuite::AES_128_CTR_HMAC_SHA256_80,
    SframeSuite::AES_128_CTR_HMAC_SHA256_64,
    SframeSuite::AES_128_CTR_HMAC_SHA256_32,
    SframeSuite::AES_128_GCM_SHA256_128,
    SframeSuite::AES_256_GCM_SHA512_128,
];

fn key(suite: SframeSuite, fill: u8) -> BaseKey {
    BaseKey::from_slice(&vec![fill; suite.algorithm().unwrap().key_len()]).unwrap()
}

fn pair(suite: SframeSuite, kid: u64) -> (Encryptor, Decryptor) {
    let k = key(suite, 1);
    let enc = Encryptor::new(suite, kid, &k).unwrap();
    let mut dec = Decryptor::new(suite).unwrap();
    dec.add_key(kid, &k).unwrap();
    (enc, dec)
}

fn seal(enc: &mut Encryptor, meta: &[u8], pt: &[u8]) -> Vec<u8> {
    let mut out = vec![0; enc.output_len(pt.len()).unwrap()];
    let n = enc.encrypt(meta, pt, &mut out).unwrap();
    assert_eq!(n, out.len());
    out
}

#[test]
fn round_trip_every_suite_with_metadata_and_empty_payload() {
    for suite in ALL_SUITES {
        let (mut enc, mut dec) = pair(suite, 0x1234);
        for (meta, pt) in [
            (&b"m"[..], &b"payload"[..]),
            (b"", b""),
            (&[7; 600][..], b"x"),
        ] {
            let frame = seal(&mut enc, meta, pt);
            let mut out = vec![0xee; frame.len()];
            let d = dec.decrypt(meta, &frame, &mut out).unwrap();
            assert_eq!(&out[..d.len], pt, "{suite:?}");
            assert_eq!(d.header.kid, 0x1234);
        }
        assert_eq!(enc.next_counter(), Some(3));
    }
}

/// Every single-bit change of header, ciphertext or tag, and any change of metadata, fails
/// with an opaque error (or a header error / unknown KID when the header no longer parses to
/// the same KID), and leaves the decryptor able to take the genuine frame afterwards.
#[test]
fn tampering_anywhere_is_rejected_and_changes_nothing() {
    for suite in ALL_SUITES {
        let (mut enc, mut dec) = pair(suite, 0x1234);
        let frame = seal(&mut enc, b"meta", b"sixteen byte pt!");
        for i in 0..frame.len() {
            for bit in 0..8 {
                let mut bad = frame.clone();
                bad[i] ^= 1 << bit;
                let mut out = vec![0xee; frame.len()];
                let err = dec.decrypt(b"meta", &bad, &mut out).unwrap_err();
                assert!(
                    matches!(
                        err,
                        Error::AuthenticationFailed
                            | Error::Stale(Stale::UnknownKeyId)
                            | Error::InvalidMessage(_)
                    ),
                    "{suite:?} byte {i} bit {bit}: {err:?}"
                );
                if err == Error::AuthenticationFailed {
                    // No plaintext released: the ciphertext span is zeroed, the rest untouched.
                    let ct_len = out.iter().take_while(|&&b| b == 0).count();
                    assert!(out[ct_len..].iter().all(|&b| b == 0xee), "{suite:?}");
                } else {
                    assert!(out.iter().all(|&b| b == 0xee));
                }
            }
        }
        for meta in [&b"metA"[..], b"met", b"meta!", b""] {
            let mut out = vec![0; frame.len()];
            assert_eq!(
                dec.decrypt(meta, &frame, &mut out),
                Err(Error::AuthenticationFailed)
            );
        }
        let mut out = vec![0; frame.len()];
        let d = dec.decrypt(b"meta", &frame, &mut out).unwrap();
        assert_eq!(&out[..d.len], b"sixteen byte pt!");
    }
}

#[test]
fn short_frames_unknown_kids_and_small_buffers() {
    for suite in ALL_SUITES {
        let tag_len = suite.algorithm().unwrap().tag_len();
        let (mut enc, mut dec) = pair(suite, 9);
        let frame = seal(&mut enc, b"", b"");
        assert_eq!(frame.len(), 2 + tag_len); // config byte + 1-byte KID, CTR 0 inline
        let mut out = [0u8; 64];
        for cut in 0..frame.len() {
            assert_eq!(
                dec.decrypt(b"", &frame[..cut], &mut out),
                Err(Error::InvalidMessage(InvalidMessage::Truncated)),
                "{suite:?} cut {cut}"
            );
        }
        let (mut other, _) = pair(suite, 10);
        let foreign = seal(&mut other, b"", b"hi");
        assert_eq!(
            dec.decrypt(b"", &foreign, &mut out),
            Err(Error::Stale(Stale::UnknownKeyId))
        );
        let big = seal(&mut enc, b"", &[1; 40]);
        let mut small = [0xeeu8; 39];
        assert_eq!(
            dec.decrypt(b"", &big, &mut small),
            Err(Error::ApiMisuse(ApiMisuse::BufferTooSmall))
        );
        assert_eq!(small, [0xee; 39]);
        // The window was not moved by the failed attempt.
        let mut out = [0u8; 64];
        assert_eq!(dec.decrypt(b"", &big, &mut out).unwrap().len, 40);
        assert!(dec.remove_key(9));
        assert!(!dec.has_key(9));
        assert_eq!(
            dec.decrypt(b"", &frame, &mut out),
            Err(Error::Stale(Stale::UnknownKeyId))
        );
    }
}

#[test]
fn replays_and_old_counters_are_rejected_unless_disabled() {
    let suite = SframeSuite::default();
    let (mut enc, mut dec) = pair(suite, 1);
    let frames: Vec<_> = (0..1200).map(|_| seal(&mut enc, b"", b"f")).collect();
    let mut out = [0u8; 64];
    dec.decrypt(b"", &frames[1100], &mut out).unwrap();
    assert_eq!(
        dec.decrypt(b"", &frames[1100], &mut out),
        Err(Error::Stale(Stale::Replayed))
    );
    dec.decrypt(b"", &frames[77], &mut out).unwrap(); // 1023 behind: inside the window
    assert_eq!(
        dec.decrypt(b"", &frames[76], &mut out),
        Err(Error::Stale(Stale::BelowReplayWindow))
    );
    // A forged frame with a fresh CTR does not move the window.
    let mut forged = frames[1199].clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(
        dec.decrypt(b"", &forged, &mut out),
        Err(Error::AuthenticationFailed)
    );
    dec.decrypt(b"", &frames[80], &mut out).unwrap();

    let k = key(suite, 1);
    let mut open = Decryptor::with_replay_protection(suite, ReplayProtection::Off).unwrap();
    open.add_key(1, &k).unwrap();
    for _ in 0..3 {
        open.decrypt(b"", &frames[0], &mut out).unwrap();
    }
    assert_eq!(
        Decryptor::with_replay_protection(suite, ReplayProtection::Window(0)).unwrap_err(),
        Error::ApiMisuse(ApiMisuse::InvalidLength)
    );
}

#[test]
fn counter_exhaustion_and_never_reused_counters() {
    let suite = SframeSuite::default();
    let k = key(suite, 1);
    let mut enc = Encryptor::with_counter(suite, 5, &k, u64::MAX - 1).unwrap();
    let a = seal(&mut enc, b"", b"a");
    let b = seal(&mut enc, b"", b"b");
    assert_eq!(Header::decode(&a).unwrap().0.ctr, u64::MAX - 1);
    assert_eq!(Header::decode(&b).unwrap().0.ctr, u64::MAX);
    assert_eq!(enc.next_counter(), None);
    let mut out = [0u8; 64];
    assert_eq!(
        enc.encrypt(b"", b"c", &mut out),
        Err(Error::ApiMisuse(ApiMisuse::CounterExhausted))
    );
    // A too-small buffer consumes no counter; the next frame still gets the next CTR.
    let mut enc = Encryptor::new(suite, 5, &k).unwrap();
    let mut tiny = [0u8; 4];
    assert_eq!(
        enc.encrypt(b"", b"hello", &mut tiny),
        Err(Error::ApiMisuse(ApiMisuse::BufferTooSmall))
    );
    assert_eq!(enc.next_counter(), Some(0));
    let mut seen = std::collections::HashSet::new();
    for _ in 0..1000 {
        let f = seal(&mut enc, b"", b"x");
        assert!(seen.insert(Header::decode(&f).unwrap().0));
    }
}

#[test]
fn unknown_suites_are_unsupported() {
    let k = BaseKey::from_slice(&[0; 16]).unwrap();
    for id in [0u16, 6, 0x8000] {
        let e = crate::error::Unsupported::CipherSuite(id).into();
        assert_eq!(Decryptor::new(SframeSuite(id)).unwrap_err(), e);
        assert_eq!(Encryptor::new(SframeSuite(id), 0, &k).unwrap_err(), e);
    }
}

// ---- MLS keying (RFC 9605 §5.2) ----

const SUITE: SframeSuite = SframeSuite::AES_128_GCM_SHA256_128;

fn store(index: u32, e: u32) -> KeyStore {
    let layout = KidLayout::new(e, 6).unwrap();
    KeyStore::new(SUITE, layout, index, ReplayProtection::default()).unwrap()
}

fn epoch_key(epoch: u64) -> BaseKey {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&epoch.to_be_bytes());
    BaseKey::from_slice(&b).unwrap()
}

#[test]
fn kid_layout_matches_the_rfc_figure() {
    // RFC 9605 Figure 13: E = 4, S = 6.
    let l = KidLayout::new(4, 6).unwrap();
    assert_eq!(l.kid(0, 3, 14).unwrap(), 0x3e);
    assert_eq!(l.kid(0, 20, 14).unwrap(), 0x14e);
    assert_eq!(l.kid(0, 5, 15).unwrap(), 0x5f);
    assert_eq!(l.kid(2, 2, 16).unwrap(), 0x820);
    assert_eq!(l.kid(3, 2, 16).unwrap(), 0xc20);
    assert_eq!(l.kid(0, 33, 17).unwrap(), 0x211);
    assert_eq!(l.split(0x331), (51, 1));
    assert_eq!(
        l.kid(0, 64, 0),
        Err(Error::ApiMisuse(ApiMisuse::IndexOutOfRange))
    );
    assert_eq!(
        l.kid(1 << 54, 0, 0),
        Err(Error::ApiMisuse(ApiMisuse::InvalidKidLayout))
    );
    assert_eq!(l.kid((1 << 54) - 1, 63, 15).unwrap(), u64::MAX);
    assert_eq!(KidLayout::for_group_size(4, 64).unwrap().index_bits(), 6);
    assert_eq!(KidLayout::for_group_size(4, 65).unwrap().index_bits(), 7);
    assert_eq!(KidLayout::for_group_size(4, 1).unwrap().index_bits(), 0);
    assert!(
        KidLayout::new(17, 6).is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidKidLayout))
    );
    assert!(
        KidLayout::new(16, 33).is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidKidLayout))
    );
    let full = KidLayout::new(16, 32).unwrap();
    assert_eq!(full.kid(0, u32::MAX, 0xffff).unwrap(), (1 << 48) - 1);
}

#[test]
fn a_frame_in_flight_across_rotation_decrypts_until_its_slot_is_retaken() {
    let e = 2; // 4 live epochs
    let mut alice = store(1, e);
    let mut bob = store(2, e);
    let n = 10;
    alice.add_epoch(n, epoch_key(n)).unwrap();
    bob.add_epoch(n, epoch_key(n)).unwrap();
    let mut enc = alice.encryptor(n, 0).unwrap();
    let frames: Vec<_> = (0..3).map(|_| seal(&mut enc, b"", b"in flight")).collect();
    let mut out = [0u8; 64];

    // Bob moves to epoch n + 1 first; frames of epoch n still decrypt.
    bob.add_epoch(n + 1, epoch_key(n + 1)).unwrap();
    assert_eq!(bob.decrypt(b"", &frames[0], &mut out).unwrap().len, 9);
    for m in n + 2..n + 4 {
        bob.add_epoch(m, epoch_key(m)).unwrap();
    }
    assert_eq!(bob.decrypt(b"", &frames[1], &mut out).unwrap().len, 9);
    let mut held: Vec<_> = bob.epochs().collect();
    held.sort_unstable();
    assert_eq!(held, vec![10, 11, 12, 13]);

    // 2^E epochs after n, epoch n + 4 takes n's low bits: n and its keys are removed, and
    // the KID now names epoch n + 4's key, under which the old frame cannot authenticate.
    bob.add_epoch(n + 4, epoch_key(n + 4)).unwrap();
    assert!(!bob.epochs().any(|x| x == n));
    assert_eq!(
        bob.decrypt(b"", &frames[2], &mut out),
        Err(Error::AuthenticationFailed)
    );
    // Removing the epoch outright leaves no key at all for that KID.
    assert!(bob.remove_epoch(n + 4));
    assert_eq!(
        bob.decrypt(b"", &frames[2], &mut out),
        Err(Error::Stale(Stale::UnknownKeyId))
    );
    // Older epochs cannot come back.
    assert_eq!(
        bob.add_epoch(n, epoch_key(n)),
        Err(Error::Stale(Stale::EpochRetired))
    );
    assert_eq!(
        bob.add_epoch(n + 3, epoch_key(n + 3)),
        Err(Error::Stale(Stale::EpochRetired))
    );
}

#[test]
fn own_kids_are_encryption_only_and_issued_once() {
    let mut alice = store(1, 2);
    alice.add_epoch(0, epoch_key(0)).unwrap();
    let mut enc = alice.encryptor(0, 0).unwrap();
    assert_eq!(enc.kid(), 1 << 2);
    assert_eq!(
        alice.encryptor(0, 0).unwrap_err(),
        Error::ApiMisuse(ApiMisuse::EncryptionKeyInUse)
    );
    let other_context = alice.encryptor(0, 1).unwrap();
    assert_eq!(other_context.kid(), (1 << 8) | (1 << 2));
    assert_eq!(
        alice.encryptor(1, 0).unwrap_err(),
        Error::Stale(Stale::UnknownKeyId)
    );
    // A frame of our own KID (e.g. reflected by a relay) is not decrypted.
    let frame = seal(&mut enc, b"", b"mine");
    let mut out = [0u8; 64];
    assert_eq!(
        alice.decrypt(b"", &frame, &mut out),
        Err(Error::Stale(Stale::UnknownKeyId))
    );
}

#[test]
fn forged_frames_do_not_grow_the_key_cache() {
    let mut alice = store(1, 2);
    let mut bob = store(2, 2);
    alice.add_epoch(5, epoch_key(5)).unwrap();
    bob.add_epoch(5, epoch_key(5)).unwrap();
    let mut enc = alice.encryptor(5, 0).unwrap();
    let frame = seal(&mut enc, b"m", b"hello");
    let mut out = [0u8; 64];
    let mut bad = frame.clone();
    *bad.last_mut().unwrap() ^= 0x80;
    assert_eq!(
        bob.decrypt(b"m", &bad, &mut out),
        Err(Error::AuthenticationFailed)
    );
    assert_eq!(bob.decrypt(b"m", &frame, &mut out).unwrap().len, 5);
    assert_eq!(
        bob.decrypt(b"m", &frame, &mut out),
        Err(Error::Stale(Stale::Replayed))
    );
    assert_eq!(
        bob.add_epoch(6, BaseKey::from_slice(&[0; 15]).unwrap()),
        Err(Error::ApiMisuse(ApiMisuse::InvalidLength))
    );
    assert_eq!(bob.base_key_len().unwrap(), 16);
}

#[test]
fn in_place_forms_match_the_copying_forms() {
    for suite in ALL_SUITES {
        let k = key(suite, 4);
        let mut a = Encryptor::new(suite, 0x77, &k).unwrap();
        let mut b = Encryptor::new(suite, 0x77, &k).unwrap();
        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(0x77, &k).unwrap();
        for (i, pt) in [&b""[..], b"abc", &[9; 300][..]].into_iter().enumerate() {
            let copied = seal(&mut a, b"md", pt);
            let h = b.header_len().unwrap();
            let mut buf = vec![0u8; copied.len() + 5];
            buf[h..h + pt.len()].copy_from_slice(pt);
            let n = b.encrypt_in_place(b"md", &mut buf, pt.len()).unwrap();
            assert_eq!(&buf[..n], &copied[..], "{suite:?} #{i}");

            let mut frame = copied.clone();
            let mut bad = copied.clone();
            *bad.last_mut().unwrap() ^= 4;
            assert_eq!(
                dec.decrypt_in_place(b"md", &mut bad),
                Err(Error::AuthenticationFailed)
            );
            assert!(bad[h..h + pt.len()].iter().all(|&x| x == 0));
            let d = dec.decrypt_in_place(b"md", &mut frame).unwrap();
            assert_eq!(&frame[h..h + d.len], pt);
            assert_eq!(
                dec.decrypt_in_place(b"md", &mut copied.clone()),
                Err(Error::Stale(Stale::Replayed))
            );
            let mut short = copied[..h].to_vec();
            assert_eq!(
                dec.decrypt_in_place(b"md", &mut short),
                Err(Error::InvalidMessage(InvalidMessage::Truncated))
            );
        }
        let mut tiny = [0u8; 3];
        assert_eq!(
            b.encrypt_in_place(b"", &mut tiny, 10),
            Err(Error::ApiMisuse(ApiMisuse::BufferTooSmall))
        );
    }
}

#[test]
fn an_epoch_jump_drops_everything_outside_the_window() {
    let mut bob = store(2, 2);
    for m in 10..14 {
        bob.add_epoch(m, epoch_key(m)).unwrap();
    }
    // Epoch 20 retakes 12's slot; 10, 11 and 13 fall out of the window 17..=20 as well.
    bob.add_epoch(20, epoch_key(20)).unwrap();
    assert_eq!(bob.epochs().collect::<Vec<_>>(), vec![20]);
    let mut alice = store(1, 2);
    alice.add_epoch(13, epoch_key(13)).unwrap();
    let mut enc = alice.encryptor(13, 0).unwrap();
    let frame = seal(&mut enc, b"", b"late");
    let mut out = [0u8; 64];
    assert_eq!(
        bob.decrypt(b"", &frame, &mut out),
        Err(Error::Stale(Stale::UnknownKeyId))
    );
    bob.add_epoch(19, epoch_key(19)).unwrap();
    bob.add_epoch(18, epoch_key(18)).unwrap();
    let mut held: Vec<_> = bob.epochs().collect();
    held.sort_unstable();
    assert_eq!(held, vec![18, 19, 20]);
}
