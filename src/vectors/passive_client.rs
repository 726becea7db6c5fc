//! `vectors/mls/passive-client-welcome.json` and `passive-client-handling-commit.json`: a
//! client joins from a Welcome (the tree in its extension or given separately, with external
//! PSKs) and follows the group through its commits (with proposals sent before them). After
//! the join and after every commit, its `epoch_authenticator` equals the vector's.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::Decode;
use crate::crypto::{CipherSuite, HpkePrivateKey, Secret, SignaturePrivateKey};
use crate::mls::group::{Group, GroupConfig, KeyPackageBundle, Limits, ProcessedMessage};
use crate::mls::wire::{MlsMessage, MlsMessageBody, RatchetTree};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    external_psks: Vec<ExternalPsk>,
    key_package: String,
    signature_priv: String,
    encryption_priv: String,
    init_priv: String,
    welcome: String,
    ratchet_tree: Option<String>,
    initial_epoch_authenticator: String,
    epochs: Vec<Epoch>,
}

#[derive(Deserialize)]
struct ExternalPsk {
    psk_id: String,
    psk: String,
}

#[derive(Deserialize)]
struct Epoch {
    proposals: Vec<String>,
    commit: String,
    epoch_authenticator: String,
}

fn message(hex: &str) -> MlsMessage {
    MlsMessage::decode_exact(&common::hex(hex)).unwrap()
}

fn run(file: &'static str) {
    let cases: Vec<Case> = common::load(file);
    let mut tally = common::Tally::new(file);
    let mut commits = 0;
    for (i, c) in cases.iter().enumerate() {
        if CipherSuite(c.cipher_suite).suite().is_err() {
            tally.skipped(c.cipher_suite);
            continue;
        }
        let h = common::hex;
        let MlsMessageBody::KeyPackage(kp) = message(&c.key_package).body else {
            panic!("case {i}: key_package is not an MLSMessage(KeyPackage)")
        };
        let bundle = KeyPackageBundle::from_parts(
            *kp,
            HpkePrivateKey::from_slice(&h(&c.init_priv)).unwrap(),
            HpkePrivateKey::from_slice(&h(&c.encryption_priv)).unwrap(),
            SignaturePrivateKey::from_seed(&h(&c.signature_priv)).unwrap(),
        );
        let MlsMessageBody::Welcome(welcome) = message(&c.welcome).body else {
            panic!("case {i}: welcome is not an MLSMessage(Welcome)")
        };
        let tree = c
            .ratchet_tree
            .as_deref()
            .map(|t| RatchetTree::decode_exact(&h(t)).unwrap());
        let psks = c
            .external_psks
            .iter()
            .map(|p| (h(&p.psk_id), Secret::from_slice(&h(&p.psk)).unwrap()))
            .collect();
        // The vectors' KeyPackages are valid "forever" (0 to 2^64 − 1): a deployment's
        // maximum total lifetime (RFC 9420 §7.2) is not the vectors' concern.
        let config = GroupConfig {
            limits: Limits {
                max_key_package_lifetime: u64::MAX,
                ..Limits::default()
            },
            ..GroupConfig::default()
        };
        let mut group = Group::join_welcome(config, &welcome, bundle, tree.as_ref(), psks)
            .unwrap_or_else(|e| panic!("case {i}: join: {e}"));
        let expected = h(&c.initial_epoch_authenticator);
        assert_eq!(
            group.epoch_authenticator(),
            expected.as_slice(),
            "case {i}: initial epoch authenticator"
        );
        for (n, e) in c.epochs.iter().enumerate() {
            for p in &e.proposals {
                let processed = group
                    .process_message(&message(p))
                    .unwrap_or_else(|err| panic!("case {i} epoch {n}: proposal: {err}"));
                assert!(matches!(processed, ProcessedMessage::Proposal { .. }));
            }
            let ProcessedMessage::Commit(staged) = group
                .process_message(&message(&e.commit))
                .unwrap_or_else(|err| panic!("case {i} epoch {n}: commit: {err}"))
            else {
                panic!("case {i} epoch {n}: not a commit")
            };
            group.merge_staged_commit(*staged).unwrap();
            let expected = h(&e.epoch_authenticator);
            assert_eq!(group.epoch_authenticator(), &expected, "case {i} epoch {n}");
            commits += 1;
        }
        tally.ran(c.cipher_suite);
    }
    println!("{file}: {commits} commits followed");
    tally.finish();
}

#[test]
fn passive_client_welcome_vectors() {
    run("mls/passive-client-welcome.json");
}

#[test]
fn passive_client_handling_commit_vectors() {
    run("mls/passive-client-handling-commit.json");
}
