//! `vectors/hpke/rfc9180-x25519-sha256.json` (RFC 9180 Appendix A): DHKEM(X25519,
//! HKDF-SHA256) with HKDF-SHA256 and AES-128-GCM, ChaCha20-Poly1305 or export-only, in modes
//! base, psk, auth and auth_psk. For each case: `DeriveKeyPair` of the recipient (and sender)
//! matches; the sender, given `ikmE` as its only randomness, produces `enc`; every
//! encryption (one per sequence number) seals to `ct` and opens to `pt`; every export matches
//! on both sides; a tampered ciphertext does not open.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::crypto::hpke::{HpkeAead, Psk, ReceiverMode, SenderMode};
use crate::crypto::{HpkePrivateKey, HpkePublicKey, Secret};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    mode: u8,
    #[serde(rename = "aead_id")]
    aead_id: u16,
    info: String,
    ikm_r: String,
    ikm_e: String,
    ikm_s: Option<String>,
    sk_rm: String,
    pk_rm: String,
    sk_sm: Option<String>,
    pk_sm: Option<String>,
    psk: Option<String>,
    #[serde(rename = "psk_id")]
    psk_id: Option<String>,
    enc: String,
    encryptions: Vec<Encryption>,
    exports: Vec<Export>,
}

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    pt: String,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Export {
    exporter_context: String,
    L: usize,
    exported_value: String,
}

/// An RNG that yields exactly the given bytes: the KEM draws `Nsk` bytes of `ikm` for its
/// ephemeral key and runs `DeriveKeyPair` on them, so feeding it `ikmE` reproduces `skEm`.
struct FixedRng(Vec<u8>);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        unreachable!("only fill_bytes is used")
    }
    fn next_u64(&mut self) -> u64 {
        unreachable!("only fill_bytes is used")
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(
            dest.len() <= self.0.len(),
            "the KEM asked for more randomness than ikmE"
        );
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for FixedRng {}

fn derive(ikm: &str) -> (HpkePrivateKey, HpkePublicKey) {
    crate::crypto::hpke::derive_key_pair(&Secret::from_slice(&common::hex(ikm)).unwrap()).unwrap()
}

#[test]
fn hpke_vectors() {
    let cases: Vec<Case> = common::load("hpke/rfc9180-x25519-sha256.json");
    let mut tally = common::Tally::new("hpke/rfc9180-x25519-sha256.json");
    let (mut seals, mut exports) = (0usize, 0usize);
    for (i, c) in cases.iter().enumerate() {
        let h = common::hex;
        let aead = HpkeAead::from_id(c.aead_id).unwrap();
        let (sk_r, pk_r) = derive(&c.ikm_r);
        assert_eq!(pk_r.as_bytes().to_vec(), h(&c.pk_rm), "case {i}: pkRm");
        assert_eq!(
            sk_r,
            HpkePrivateKey::from_slice(&h(&c.sk_rm)).unwrap(),
            "case {i}: skRm"
        );
        let sender = c.ikm_s.as_deref().map(derive);
        if let (Some((sk_s, pk_s)), Some(sk_sm), Some(pk_sm)) = (&sender, &c.sk_sm, &c.pk_sm) {
            assert_eq!(*sk_s, HpkePrivateKey::from_slice(&h(sk_sm)).unwrap());
            assert_eq!(pk_s.as_bytes().to_vec(), h(pk_sm));
        }
        let (psk, psk_id) = (c.psk.as_deref().map(h), c.psk_id.as_deref().map(h));
        let psk = match (&psk, &psk_id) {
            (Some(psk), Some(psk_id)) => Some(Psk { psk, psk_id }),
            _ => None,
        };
        let (smode, rmode) = match (c.mode, psk, &sender) {
            (0, None, None) => (SenderMode::Base, ReceiverMode::Base),
            (1, Some(p), None) => (SenderMode::Psk(p), ReceiverMode::Psk(p)),
            (2, None, Some((sk, pk))) => (SenderMode::Auth(sk), ReceiverMode::Auth(pk)),
            (3, Some(p), Some((sk, pk))) => {
                (SenderMode::AuthPsk(sk, p), ReceiverMode::AuthPsk(pk, p))
            }
            _ => panic!("case {i}: inconsistent mode {}", c.mode),
        };
        let info = h(&c.info);
        let mut rng = FixedRng(h(&c.ikm_e));
        let (enc, mut s_ctx) =
            crate::crypto::hpke::setup_sender(aead, smode, &pk_r, &info, &mut rng).unwrap();
        assert_eq!(enc, h(&c.enc), "case {i}: enc");
        let mut r_ctx =
            crate::crypto::hpke::setup_receiver(aead, rmode, &enc, &sk_r, &info).unwrap();
        for (seq, e) in c.encryptions.iter().enumerate() {
            let (aad, pt, ct) = (h(&e.aad), h(&e.pt), h(&e.ct));
            assert_eq!(
                s_ctx.seal(&aad, &pt).unwrap(),
                ct,
                "case {i} seq {seq}: seal"
            );
            if seq == 0 {
                // A receiver at sequence 0 rejects a tampered ciphertext without advancing.
                let mut bad = ct.clone();
                bad[0] ^= 0x80;
                let mut probe =
                    crate::crypto::hpke::setup_receiver(aead, rmode, &enc, &sk_r, &info).unwrap();
                assert!(
                    probe
                        .open(&aad, &bad)
                        .is_err_and(|e| e == crate::Error::AuthenticationFailed),
                    "case {i}: tampered ct opened"
                );
            }
            assert_eq!(
                r_ctx.open(&aad, &ct).unwrap(),
                pt,
                "case {i} seq {seq}: open"
            );
            seals += 1;
        }
        if c.encryptions.is_empty() {
            let refused = Err(crate::Error::ApiMisuse(
                crate::error::ApiMisuse::ExportOnlyContext,
            ));
            assert_eq!(
                s_ctx.seal(b"", b"x"),
                refused,
                "case {i}: export-only AEAD sealed"
            );
            assert_eq!(
                r_ctx.open(b"", &[0; 16]),
                refused,
                "case {i}: export-only AEAD opened"
            );
        }
        for x in &c.exports {
            let expected = Secret::from_slice(&h(&x.exported_value)).unwrap();
            let ctx = h(&x.exporter_context);
            assert_eq!(
                s_ctx.export(&ctx, x.L).unwrap(),
                expected,
                "case {i}: sender export"
            );
            assert_eq!(
                r_ctx.export(&ctx, x.L).unwrap(),
                expected,
                "case {i}: receiver export"
            );
            exports += 1;
        }
        // Wrong receiver key: decapsulation succeeds (X25519 is total) but nothing opens.
        if let Some(first) = c.encryptions.first() {
            let (other_sk, _) = derive(&c.ikm_e);
            let mut wrong =
                crate::crypto::hpke::setup_receiver(aead, rmode, &enc, &other_sk, &info).unwrap();
            assert!(wrong
                .open(&h(&first.aad), &h(&first.ct))
                .is_err_and(|e| e == crate::Error::AuthenticationFailed));
        }
        tally.ran(c.aead_id);
    }
    println!(
        "hpke: {seals} seal/open pairs and {exports} exports checked (suite column = AEAD id)"
    );
    assert_eq!(seals, 8 * 257);
    tally.finish();
}
