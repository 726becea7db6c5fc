//! `vectors/sframe/rfc9605.json`: the RFC 9605 Appendix C vectors, through the public API.
//!
//! Format: an object with three arrays.
//! - `header`: `{kid, ctr, encoded}`. Checked: encode gives `encoded`, decode gives
//!   `(kid, ctr)` and consumes all of `encoded`, and every proper prefix is `Truncated`.
//! - `aes_ctr_hmac`: `{cipher_suite, key, enc_key, auth_key, nonce, aad, pt, ct}` (key is 48
//!   bytes). Checked: seal gives `ct` (ciphertext then tag), open gives `pt`, and a flipped
//!   tag bit fails.
//! - `sframe`: `{cipher_suite, kid, ctr, base_key, sframe_key_label, sframe_salt_label,
//!   sframe_secret, sframe_key, sframe_salt, metadata, nonce, aad, pt, ct}`; `ct` includes
//!   the header. Checked: labels, derived secret/key/salt, encryption byte for byte, and
//!   decryption back to `pt`.
//!
//! `kid` and `ctr` are JSON integers up to 2^64 - 1 and are read as `u64`.
#![warn(clippy::assertions_on_result_states)]
// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::crypto::{sframe_key_label, sframe_salt_label, Secret, SframeCipher};
use crate::error::{Error, InvalidMessage};
use crate::sframe::{BaseKey, Decryptor, DerivedKeys, Encryptor, Header, SframeSuite};
use common::{hex, load, Tally};
use serde::Deserialize;

#[derive(Deserialize)]
struct File {
    header: Vec<HeaderCase>,
    aes_ctr_hmac: Vec<CtrHmacCase>,
    sframe: Vec<SframeCase>,
}

#[derive(Debug, Deserialize)]
struct HeaderCase {
    kid: u64,
    ctr: u64,
    encoded: String,
}

#[derive(Debug, Deserialize)]
struct CtrHmacCase {
    cipher_suite: u16,
    key: String,
    enc_key: String,
    auth_key: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

#[derive(Debug, Deserialize)]
struct SframeCase {
    cipher_suite: u16,
    kid: u64,
    ctr: u64,
    base_key: String,
    sframe_key_label: String,
    sframe_salt_label: String,
    sframe_secret: String,
    sframe_key: String,
    sframe_salt: String,
    metadata: String,
    nonce: String,
    aad: String,
    pt: String,
    ct: String,
}

fn file() -> File {
    load("sframe/rfc9605.json")
}

fn secret(h: &str) -> Secret {
    Secret::from_slice(&hex(h)).unwrap()
}

#[test]
fn header_cases() {
    let cases = file().header;
    let mut tally = Tally::new("sframe/rfc9605.json header");
    for (i, tv) in cases.iter().enumerate() {
        let encoded = hex(&tv.encoded);
        let h = Header::new(tv.kid, tv.ctr);
        let (buf, n) = h.to_array();
        assert_eq!(&buf[..n], &encoded[..], "case #{i} encode: {tv:?}");
        assert_eq!(
            Header::decode(&encoded).unwrap(),
            (h, encoded.len()),
            "case #{i} decode: {tv:?}"
        );
        for cut in 0..encoded.len() {
            assert_eq!(
                Header::decode(&encoded[..cut]),
                Err(Error::InvalidMessage(InvalidMessage::Truncated)),
                "case #{i} prefix {cut}"
            );
        }
        tally.ran(0);
    }
    tally.finish();
    assert_eq!(cases.len(), 289);
}

#[test]
fn aes_ctr_hmac_cases() {
    let cases = file().aes_ctr_hmac;
    let mut per_suite = [0usize; 6];
    let mut tally = Tally::new("sframe/rfc9605.json aes_ctr_hmac");
    for (i, tv) in cases.iter().enumerate() {
        let alg = SframeSuite(tv.cipher_suite).algorithm().unwrap();
        let key = hex(&tv.key);
        assert_eq!(key.len(), 48, "case #{i}");
        assert_eq!(key[..16], hex(&tv.enc_key)[..], "case #{i} enc_key");
        assert_eq!(key[16..], hex(&tv.auth_key)[..], "case #{i} auth_key");
        // With CTR 0 the SFrame nonce is the salt itself, so the vector nonce is the salt.
        let cipher = SframeCipher::new(alg, &secret(&tv.key), &secret(&tv.nonce)).unwrap();
        let (aad, pt, ct) = (hex(&tv.aad), hex(&tv.pt), hex(&tv.ct));
        let mut buf = pt.clone();
        let mut tag = vec![0; alg.tag_len()];
        cipher
            .seal_in_place(0, &aad, &[], &mut buf, &mut tag)
            .unwrap();
        assert_eq!(
            [buf.clone(), tag.clone()].concat(),
            ct,
            "case #{i} seal: {tv:?}"
        );
        cipher.open_in_place(0, &aad, &[], &mut buf, &tag).unwrap();
        assert_eq!(buf, pt, "case #{i} open");
        let mut bad = ct[..pt.len()].to_vec();
        tag[0] ^= 1;
        assert_eq!(
            cipher.open_in_place(0, &aad, &[], &mut bad, &tag),
            Err(Error::AuthenticationFailed),
            "case #{i} tampered tag"
        );
        per_suite[usize::from(tv.cipher_suite)] += 1;
        tally.ran(tv.cipher_suite);
    }
    tally.finish();
    assert_eq!(cases.len(), 3);
    assert_eq!(per_suite[1..4], [1, 1, 1]);
}

#[test]
fn sframe_cases() {
    let cases = file().sframe;
    let mut per_suite = [0usize; 6];
    let mut tally = Tally::new("sframe/rfc9605.json sframe");
    for (i, tv) in cases.iter().enumerate() {
        let suite = SframeSuite(tv.cipher_suite);
        assert_eq!(
            sframe_key_label(tv.kid, tv.cipher_suite).to_vec(),
            hex(&tv.sframe_key_label),
            "case #{i} key label"
        );
        assert_eq!(
            sframe_salt_label(tv.kid, tv.cipher_suite).to_vec(),
            hex(&tv.sframe_salt_label),
            "case #{i} salt label"
        );
        let base_key = BaseKey::from_slice(&hex(&tv.base_key)).unwrap();
        let derived = DerivedKeys::derive(suite, &base_key, tv.kid).unwrap();
        assert_eq!(
            derived.sframe_secret,
            secret(&tv.sframe_secret),
            "case #{i} secret"
        );
        assert_eq!(derived.sframe_key, secret(&tv.sframe_key), "case #{i} key");
        assert_eq!(
            derived.sframe_salt,
            secret(&tv.sframe_salt),
            "case #{i} salt"
        );

        let (metadata, pt, ct) = (hex(&tv.metadata), hex(&tv.pt), hex(&tv.ct));
        let header_len = Header::new(tv.kid, tv.ctr).encoded_len();
        assert_eq!(
            hex(&tv.aad),
            [&ct[..header_len], &metadata[..]].concat(),
            "case #{i} aad"
        );
        // nonce = salt XOR CTR: checked through the AEAD (a wrong nonce gives a wrong ct).
        assert_eq!(hex(&tv.nonce).len(), 12);

        let mut enc = Encryptor::with_counter(suite, tv.kid, &base_key, tv.ctr).unwrap();
        let mut out = vec![0; enc.output_len(pt.len()).unwrap()];
        let n = enc.encrypt(&metadata, &pt, &mut out).unwrap();
        assert_eq!(out[..n], ct[..], "case #{i} encrypt: {tv:?}");

        let mut dec = Decryptor::new(suite).unwrap();
        dec.add_key(tv.kid, &base_key).unwrap();
        let mut plain = vec![0; ct.len()];
        let d = dec.decrypt(&metadata, &ct, &mut plain).unwrap();
        assert_eq!(plain[..d.len], pt[..], "case #{i} decrypt");
        assert_eq!(d.header, Header::new(tv.kid, tv.ctr));
        per_suite[usize::from(tv.cipher_suite)] += 1;
        tally.ran(tv.cipher_suite);
    }
    tally.finish();
    assert_eq!(cases.len(), 5);
    assert_eq!(per_suite[1..], [1, 1, 1, 1, 1]);
}
