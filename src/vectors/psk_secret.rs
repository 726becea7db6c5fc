//! `vectors/mls/psk_secret.json`: per suite, a list of external PSKs (`psk_id`, `psk`,
//! `psk_nonce`, possibly empty) and the `psk_secret` they chain into (RFC 9420 §8.4).

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::crypto::{CipherSuite, Secret};
use crate::mls::key_schedule::{PskInput, PskSecret};
use crate::mls::wire::{PreSharedKeyId, Psk};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    psks: Vec<PskCase>,
    psk_secret: String,
}

#[derive(Deserialize)]
struct PskCase {
    psk_id: String,
    psk: String,
    psk_nonce: String,
}

#[test]
fn psk_secret_vectors() {
    let cases: Vec<Case> = common::load("mls/psk_secret.json");
    let mut tally = common::Tally::new("mls/psk_secret.json");
    let mut max_psks = 0;
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let ids: Vec<PreSharedKeyId> = c
            .psks
            .iter()
            .map(|p| PreSharedKeyId {
                psk: Psk::External {
                    psk_id: h(&p.psk_id),
                },
                psk_nonce: h(&p.psk_nonce),
            })
            .collect();
        let values: Vec<Secret> = c
            .psks
            .iter()
            .map(|p| Secret::from_slice(&h(&p.psk)).unwrap())
            .collect();
        let inputs: Vec<PskInput<'_>> = ids
            .iter()
            .zip(&values)
            .map(|(id, psk)| PskInput { id, psk })
            .collect();
        let got = PskSecret::from_psks(&suite, &inputs).unwrap();
        assert_eq!(got, PskSecret::from_slice(&h(&c.psk_secret)).unwrap());
        if inputs.len() >= 2 {
            // Order matters: the same PSKs reversed chain to a different secret.
            let reversed: Vec<PskInput<'_>> = ids
                .iter()
                .zip(&values)
                .rev()
                .map(|(id, psk)| PskInput { id, psk })
                .collect();
            assert_ne!(PskSecret::from_psks(&suite, &reversed).unwrap(), got);
        }
        max_psks = max_psks.max(inputs.len());
        tally.ran(c.cipher_suite);
    }
    println!("psk_secret: up to {max_psks} PSKs per case");
    tally.finish();
}
