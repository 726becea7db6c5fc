//! `vectors/mls/transcript-hashes.json`: per suite, a Commit's AuthenticatedContent and the
//! interim transcript hash before it. Its confirmation tag is the MAC of the new confirmed
//! transcript hash under `confirmation_key`; the confirmed and interim hashes after it match.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::{Decode, Encode};
use crate::crypto::{CipherSuite, Mac};
use crate::mls::key_schedule::ConfirmationKey;
use crate::mls::transcript;
use crate::mls::wire::AuthenticatedContent;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    confirmation_key: String,
    authenticated_content: String,
    interim_transcript_hash_before: String,
    confirmed_transcript_hash_after: String,
    interim_transcript_hash_after: String,
}

#[test]
fn transcript_hash_vectors() {
    let cases: Vec<Case> = common::load("mls/transcript-hashes.json");
    let mut tally = common::Tally::new("mls/transcript-hashes.json");
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let content = AuthenticatedContent::decode_exact(&h(&c.authenticated_content)).unwrap();
        let input = content
            .confirmed_transcript_hash_input()
            .unwrap()
            .to_bytes()
            .unwrap();
        let confirmed = transcript::confirmed_transcript_hash(
            &suite,
            &h(&c.interim_transcript_hash_before),
            &input,
        );
        assert_eq!(confirmed.as_bytes(), h(&c.confirmed_transcript_hash_after));

        let tag = Mac::from_slice(
            content
                .interim_transcript_hash_input()
                .unwrap()
                .confirmation_tag,
        )
        .unwrap();
        let key = ConfirmationKey::from_slice(&h(&c.confirmation_key)).unwrap();
        key.verify(&suite, confirmed.as_bytes(), &tag).unwrap();
        assert_eq!(key.confirmation_tag(&suite, confirmed.as_bytes()), tag);
        // The tag does not verify against another hash.
        assert!(key
            .verify(&suite, &h(&c.interim_transcript_hash_before), &tag)
            .is_err_and(|e| e == crate::Error::AuthenticationFailed));

        let interim =
            transcript::interim_transcript_hash(&suite, confirmed.as_bytes(), &tag).unwrap();
        assert_eq!(interim.as_bytes(), h(&c.interim_transcript_hash_after));
        tally.ran(c.cipher_suite);
    }
    tally.finish();
}
