//! `vectors/mls/welcome.json`: per suite, a joiner's `init_priv` and KeyPackage (as an
//! MLSMessage), the Welcome (as an MLSMessage) and the signer's `signer_pub`.
//!
//! The entry for the KeyPackage's KeyPackageRef decrypts with `init_priv`; the GroupInfo
//! decrypts under the welcome key of its `joiner_secret` (no PSKs) and its signature
//! verifies with `signer_pub`; the key schedule run from the joiner secret over the
//! GroupInfo's GroupContext gives a confirmation key under which the GroupInfo's
//! `confirmation_tag` is the MAC of the confirmed transcript hash.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::{Decode, Encode};
use crate::crypto::{CipherSuite, HpkePrivateKey, Mac, SignaturePublicKey};
use crate::error::{Error, PeerMisbehaved};
use crate::mls::key_schedule::PskSecret;
use crate::mls::welcome::{
    decrypt_group_info, decrypt_group_secrets, joiner_secret, key_package_ref,
    verify_group_info_signature,
};
use crate::mls::wire::{KeyPackage, MlsMessage, MlsMessageBody, Welcome};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    init_priv: String,
    signer_pub: String,
    key_package: String,
    welcome: String,
}

fn key_package(bytes: &[u8]) -> KeyPackage {
    match MlsMessage::decode_exact(bytes).unwrap().body {
        MlsMessageBody::KeyPackage(kp) => *kp,
        other => panic!("expected a KeyPackage, got {other:?}"),
    }
}

fn welcome(bytes: &[u8]) -> Welcome {
    match MlsMessage::decode_exact(bytes).unwrap().body {
        MlsMessageBody::Welcome(w) => w,
        other => panic!("expected a Welcome, got {other:?}"),
    }
}

#[test]
fn welcome_vectors() {
    let cases: Vec<Case> = common::load("mls/welcome.json");
    let mut tally = common::Tally::new("mls/welcome.json");
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let init_priv = HpkePrivateKey::from_slice(&h(&c.init_priv)).unwrap();
        let kp = key_package(&h(&c.key_package));
        let welcome = welcome(&h(&c.welcome));
        assert_eq!(welcome.cipher_suite, suite.id());

        let kp_ref = key_package_ref(&suite, &kp).unwrap();
        let secrets = decrypt_group_secrets(&suite, &init_priv, &welcome, &kp_ref).unwrap();
        // Another reference finds nothing.
        let mut other_ref = kp_ref.clone();
        other_ref[0] ^= 1;
        assert_eq!(
            decrypt_group_secrets(&suite, &init_priv, &welcome, &other_ref).unwrap_err(),
            Error::PeerMisbehaved(PeerMisbehaved::NoGroupSecretsForUs)
        );

        let zero = PskSecret::zero(&suite).unwrap();
        let intermediate = joiner_secret(&secrets).intermediate(&suite, &zero);
        let welcome_secret = intermediate.welcome_secret(&suite).unwrap();
        let info =
            decrypt_group_info(&suite, &welcome_secret, &welcome.encrypted_group_info).unwrap();
        let signer = SignaturePublicKey::from_bytes(&h(&c.signer_pub)).unwrap();
        verify_group_info_signature(&suite, &signer, &info).unwrap();

        let context = info.group_context.to_bytes().unwrap();
        let (epoch, _) = intermediate
            .epoch_secret(&suite, &context)
            .unwrap()
            .derive(&suite)
            .unwrap();
        let tag = Mac::from_slice(&info.confirmation_tag).unwrap();
        let cth = &info.group_context.confirmed_transcript_hash;
        epoch.confirmation_key.verify(&suite, cth, &tag).unwrap();
        // The check can fail: a different transcript hash does not match the tag.
        let mut other = cth.clone();
        other[0] ^= 1;
        assert_eq!(
            epoch.confirmation_key.verify(&suite, &other, &tag),
            Err(Error::AuthenticationFailed)
        );
        tally.ran(c.cipher_suite);
    }
    tally.finish();
}
