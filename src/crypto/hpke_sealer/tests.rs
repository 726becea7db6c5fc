use rand_core::SeedableRng;
use serde::Deserialize;

use super::*;
use crate::crypto::{CipherSuite, HpkePrivateKey};
use crate::error::Error;

#[derive(Deserialize)]
struct Encryption {
    aad: String,
    ct: String,
    pt: String,
}

#[derive(Deserialize)]
struct Case {
    mode: u8,
    kem_id: u16,
    kdf_id: u16,
    aead_id: u16,
    info: String,
    #[serde(rename = "ikmE")]
    ikm_e: String,
    #[serde(rename = "pkRm")]
    pk_rm: String,
    #[serde(rename = "skRm")]
    sk_rm: String,
    enc: String,
    shared_secret: String,
    encryptions: Vec<Encryption>,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 9180 Appendix A: every base-mode case with an MLS AEAD (AES-128-GCM, suite 1;
/// ChaCha20-Poly1305, suite 3): the same `enc` and the same first ciphertext.
#[test]
fn rfc9180_base_mode_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vectors/hpke/rfc9180-x25519-sha256.json"
    );
    let cases: Vec<Case> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut ran = 0;
    for c in cases {
        assert_eq!((c.kem_id, c.kdf_id), (0x0020, 0x0001));
        let suite = match (c.mode, c.aead_id) {
            (0, 0x0001) => CipherSuite(1).suite().unwrap(),
            (0, 0x0003) => CipherSuite(3).suite().unwrap(),
            _ => continue,
        };
        let sealer = LabeledSealer::with_info(suite, &hex(&c.info)).unwrap();
        let pk = HpkePublicKey::from_slice(&hex(&c.pk_rm)).unwrap();
        let first = &c.encryptions[0];
        let out = sealer
            .seal_with_ikm_e(&pk, &hex(&c.ikm_e), &hex(&first.aad), &hex(&first.pt))
            .unwrap();
        assert_eq!(out.kem_output, hex(&c.enc));
        assert_eq!(out.ciphertext, hex(&first.ct));
        // Decap and open with the recipient's key pair from the vector (the AAD is empty
        // in DecryptWithLabel, so open what we sealed with empty AAD).
        let sk = HpkePrivateKey::from_slice(&hex(&c.sk_rm)).unwrap();
        let sealed = sealer
            .seal_with_ikm_e(&pk, &hex(&c.ikm_e), &[], &hex(&first.pt))
            .unwrap();
        let (key, nonce) = {
            let enc: [u8; 32] = sealed.kem_output.as_slice().try_into().unwrap();
            let sk_r: [u8; 32] = sk.secret().expose().try_into().unwrap();
            // Decap's shared secret is the vector's.
            let ss = shared_secret(&sk_r, &enc, &enc, pk.as_bytes()).unwrap();
            assert_eq!(ss.as_slice(), hex(&c.shared_secret).as_slice());
            sealer.key_and_nonce(&ss).unwrap()
        };
        assert_eq!(
            suite
                .aead_open(&key, &nonce, &[], &sealed.ciphertext)
                .unwrap(),
            hex(&first.pt)
        );
        ran += 1;
    }
    assert_eq!(ran, 2, "one base-mode case per MLS AEAD");
}

/// For the same random bytes, the output is exactly `encrypt_with_label`'s (the `hpke`
/// crate's), for both suites and contexts from empty to large; it decrypts.
#[test]
fn matches_encrypt_with_label_byte_for_byte() {
    for id in [1u16, 3] {
        let suite = CipherSuite(id).suite().unwrap();
        let (sk, pk) = suite
            .derive_key_pair(&Secret::from_slice(&[id.to_be_bytes()[1]; 32]).unwrap())
            .unwrap();
        for (i, context_len) in [0usize, 1, 100, 70_000].into_iter().enumerate() {
            let context: Vec<u8> = (0..context_len).map(|b| b.to_le_bytes()[0]).collect();
            let plaintext = vec![0x5a; 10 + i * 30];
            let sealer = suite.labeled_sealer(b"Welcome", &context).unwrap();
            let mut r1 = rand_chacha::ChaCha20Rng::seed_from_u64(i as u64);
            let mut r2 = rand_chacha::ChaCha20Rng::seed_from_u64(i as u64);
            for _ in 0..3 {
                let ours = sealer.seal(&pk, &plaintext, &mut r1).unwrap();
                let crate_hpke = suite
                    .encrypt_with_label(&pk, b"Welcome", &context, &plaintext, &mut r2)
                    .unwrap();
                assert_eq!(ours, crate_hpke, "suite {id}, context {context_len}");
                let opened = suite
                    .decrypt_with_label(
                        &sk,
                        b"Welcome",
                        &context,
                        &ours.kem_output,
                        &ours.ciphertext,
                    )
                    .unwrap();
                assert_eq!(opened, plaintext);
            }
            // Another label or context gives another ciphertext.
            let other = suite.labeled_sealer(b"Welcomf", &context).unwrap();
            let mut r3 = rand_chacha::ChaCha20Rng::seed_from_u64(i as u64);
            let theirs = other.seal(&pk, &plaintext, &mut r3).unwrap();
            let mut r4 = rand_chacha::ChaCha20Rng::seed_from_u64(i as u64);
            assert_ne!(theirs, sealer.seal(&pk, &plaintext, &mut r4).unwrap());
        }
    }
}

/// RFC 9180 §7.1.4: a low-order public key (all-zero DH output) is refused.
#[test]
fn low_order_public_key_is_refused() {
    let suite = CipherSuite(1).suite().unwrap();
    let sealer = suite.labeled_sealer(b"Welcome", b"ctx").unwrap();
    let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(9);
    for point in [[0u8; 32], {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    }] {
        let pk = HpkePublicKey::from_slice(&point).unwrap();
        assert_eq!(
            sealer.seal(&pk, b"secret", &mut r).unwrap_err(),
            InvalidMessage::InvalidKey.into()
        );
    }
}

/// `decrypt_with_label_known_public` opens what the `hpke` crate seals, and refuses a wrong
/// public key, a tampered ciphertext, another context and a malformed `kem_output`.
#[test]
fn known_public_key_decryption() {
    for id in [1u16, 3] {
        let suite = CipherSuite(id).suite().unwrap();
        let ikm = |b: u8| Secret::from_slice(&[b; 32]).unwrap();
        let (sk, pk) = suite.derive_key_pair(&ikm(7)).unwrap();
        let (_, other_pk) = suite.derive_key_pair(&ikm(8)).unwrap();
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(u64::from(id));
        let ct = suite
            .encrypt_with_label(&pk, b"UpdatePathNode", b"ctx", &[9; 32], &mut r)
            .unwrap();
        let open = |pk: &HpkePublicKey, context: &[u8], kem: &[u8], ct: &[u8]| {
            suite.decrypt_with_label_known_public(&sk, pk, b"UpdatePathNode", context, kem, ct)
        };
        assert_eq!(
            open(&pk, b"ctx", &ct.kem_output, &ct.ciphertext).unwrap(),
            [9; 32]
        );
        let secret = suite
            .decrypt_secret_with_label_known_public(
                &sk,
                &pk,
                b"UpdatePathNode",
                b"ctx",
                &ct.kem_output,
                &ct.ciphertext,
            )
            .unwrap();
        assert_eq!(secret, Secret::from_slice(&[9; 32]).unwrap());
        assert_eq!(
            open(&other_pk, b"ctx", &ct.kem_output, &ct.ciphertext).unwrap_err(),
            Error::AuthenticationFailed
        );
        assert_eq!(
            open(&pk, b"ctx2", &ct.kem_output, &ct.ciphertext).unwrap_err(),
            Error::AuthenticationFailed
        );
        let mut tampered = ct.ciphertext.clone();
        tampered[0] ^= 1;
        assert_eq!(
            open(&pk, b"ctx", &ct.kem_output, &tampered).unwrap_err(),
            Error::AuthenticationFailed
        );
        assert_eq!(
            open(&pk, b"ctx", &ct.kem_output[..31], &ct.ciphertext).unwrap_err(),
            InvalidMessage::InvalidKey.into()
        );
        assert_eq!(
            open(&pk, b"ctx", &[0; 32], &ct.ciphertext).unwrap_err(),
            InvalidMessage::InvalidKey.into()
        );
    }
}
