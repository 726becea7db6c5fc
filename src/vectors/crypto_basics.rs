//! `vectors/mls/crypto-basics.json`: per suite, `RefHash`, `ExpandWithLabel`, `DeriveSecret`,
//! `DeriveTreeSecret`, `SignWithLabel`/`VerifyWithLabel` (the given signature verifies, and a
//! fresh one does) and `EncryptWithLabel`/`DecryptWithLabel` (the given ciphertext decrypts,
//! and a fresh encryption round-trips).

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::crypto::{
    CipherSuite, HpkePrivateKey, HpkePublicKey, Secret, SignaturePrivateKey, SignaturePublicKey,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    ref_hash: RefHash,
    expand_with_label: ExpandWithLabel,
    derive_secret: DeriveSecret,
    derive_tree_secret: DeriveTreeSecret,
    sign_with_label: SignWithLabel,
    encrypt_with_label: EncryptWithLabel,
}

#[derive(Deserialize)]
struct RefHash {
    label: String,
    value: String,
    out: String,
}

#[derive(Deserialize)]
struct ExpandWithLabel {
    secret: String,
    label: String,
    context: String,
    length: u16,
    out: String,
}

#[derive(Deserialize)]
struct DeriveSecret {
    secret: String,
    label: String,
    out: String,
}

#[derive(Deserialize)]
struct DeriveTreeSecret {
    secret: String,
    label: String,
    generation: u32,
    length: u16,
    out: String,
}

#[derive(Deserialize)]
struct SignWithLabel {
    #[serde(rename = "priv")]
    private: String,
    #[serde(rename = "pub")]
    public: String,
    content: String,
    label: String,
    signature: String,
}

#[derive(Deserialize)]
struct EncryptWithLabel {
    #[serde(rename = "priv")]
    private: String,
    #[serde(rename = "pub")]
    public: String,
    label: String,
    context: String,
    plaintext: String,
    kem_output: String,
    ciphertext: String,
}

fn secret(h: &str) -> Secret {
    Secret::from_slice(&common::hex(h)).unwrap()
}

#[test]
fn crypto_basics_vectors() {
    let cases: Vec<Case> = common::load("mls/crypto-basics.json");
    let mut tally = common::Tally::new("mls/crypto-basics.json");
    let mut rng = common::seeded_rng(1);
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;

        let r = &c.ref_hash;
        assert_eq!(
            suite
                .ref_hash(r.label.as_bytes(), &h(&r.value))
                .unwrap()
                .as_bytes(),
            h(&r.out)
        );

        let e = &c.expand_with_label;
        let out = suite
            .expand_with_label(
                &secret(&e.secret),
                e.label.as_bytes(),
                &h(&e.context),
                e.length.into(),
            )
            .unwrap();
        assert_eq!(out, secret(&e.out));

        let d = &c.derive_secret;
        assert_eq!(
            suite
                .derive_secret(&secret(&d.secret), d.label.as_bytes())
                .unwrap(),
            secret(&d.out)
        );

        let t = &c.derive_tree_secret;
        let out = suite
            .derive_tree_secret(
                &secret(&t.secret),
                t.label.as_bytes(),
                t.generation,
                t.length.into(),
            )
            .unwrap();
        assert_eq!(out, secret(&t.out));

        let s = &c.sign_with_label;
        let pk = SignaturePublicKey::from_bytes(&h(&s.public)).unwrap();
        let sk = SignaturePrivateKey::from_seed(&h(&s.private)).unwrap();
        assert_eq!(sk.public_key(), pk);
        let content = h(&s.content);
        pk.verify_with_label(s.label.as_bytes(), &content, &h(&s.signature))
            .unwrap();
        let fresh = sk.sign_with_label(s.label.as_bytes(), &content).unwrap();
        pk.verify_with_label(s.label.as_bytes(), &content, &fresh)
            .unwrap();
        // Ed25519 is deterministic: the fresh signature is the vector's.
        assert_eq!(fresh.to_vec(), h(&s.signature));
        assert!(pk
            .verify_with_label(b"other label", &content, &fresh)
            .is_err_and(|e| e == crate::Error::AuthenticationFailed));

        let x = &c.encrypt_with_label;
        let sk = HpkePrivateKey::from_slice(&h(&x.private)).unwrap();
        let pk = HpkePublicKey::from_slice(&h(&x.public)).unwrap();
        assert_eq!(sk.public_key().unwrap(), pk);
        let (label, context, pt) = (x.label.as_bytes(), h(&x.context), h(&x.plaintext));
        let opened = suite
            .decrypt_with_label(&sk, label, &context, &h(&x.kem_output), &h(&x.ciphertext))
            .unwrap();
        assert_eq!(opened, pt);
        let fresh = suite
            .encrypt_with_label(&pk, label, &context, &pt, &mut rng)
            .unwrap();
        let opened = suite
            .decrypt_with_label(&sk, label, &context, &fresh.kem_output, &fresh.ciphertext)
            .unwrap();
        assert_eq!(opened, pt);
        assert!(suite
            .decrypt_with_label(
                &sk,
                b"other",
                &context,
                &fresh.kem_output,
                &fresh.ciphertext
            )
            .is_err_and(|e| e == crate::Error::AuthenticationFailed));

        tally.ran(c.cipher_suite);
    }
    tally.finish();
}
