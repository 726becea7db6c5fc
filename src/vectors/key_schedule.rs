//! `vectors/mls/key-schedule.json`: per suite, a chain of epochs from `initial_init_secret`.
//! For each epoch: the GroupContext built from the inputs encodes to `group_context`; the
//! joiner, welcome and epoch-derived secrets, the next `init_secret`, `external_pub` and one
//! `MLS-Exporter` output all match. (The exporter label is used as ASCII text, not hex.)

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::codec::Encode;
use crate::crypto::{CipherSuite, Secret};
use crate::mls::key_schedule::{
    CommitSecret, ConfirmationKey, EncryptionSecret, EpochAuthenticator, ExporterSecret,
    ExternalSecret, InitSecret, JoinerSecret, MembershipKey, PskSecret, ResumptionPsk,
    SenderDataSecret, WelcomeSecret,
};
use crate::mls::wire::{GroupContext, ProtocolVersion};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    group_id: String,
    initial_init_secret: String,
    epochs: Vec<Epoch>,
}

#[derive(Deserialize)]
struct Epoch {
    tree_hash: String,
    commit_secret: String,
    psk_secret: String,
    confirmed_transcript_hash: String,
    group_context: String,
    joiner_secret: String,
    welcome_secret: String,
    init_secret: String,
    sender_data_secret: String,
    encryption_secret: String,
    exporter_secret: String,
    epoch_authenticator: String,
    external_secret: String,
    confirmation_key: String,
    membership_key: String,
    resumption_psk: String,
    external_pub: String,
    exporter: Exporter,
}

#[derive(Deserialize)]
struct Exporter {
    label: String,
    context: String,
    length: usize,
    secret: String,
}

#[test]
fn key_schedule_vectors() {
    let cases: Vec<Case> = common::load("mls/key-schedule.json");
    let mut tally = common::Tally::new("mls/key-schedule.json");
    let mut epochs_checked = 0;
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let mut init = InitSecret::from_slice(&h(&c.initial_init_secret)).unwrap();
        for (n, e) in c.epochs.iter().enumerate() {
            let ctx = GroupContext {
                version: ProtocolVersion::MLS10,
                cipher_suite: CipherSuite(c.cipher_suite),
                group_id: h(&c.group_id),
                epoch: n as u64,
                tree_hash: h(&e.tree_hash),
                confirmed_transcript_hash: h(&e.confirmed_transcript_hash),
                extensions: vec![],
            };
            let ctx = ctx.to_bytes().unwrap();
            assert_eq!(ctx, h(&e.group_context), "epoch {n}: group_context");

            let commit = CommitSecret::from_slice(&h(&e.commit_secret)).unwrap();
            let psk = PskSecret::from_slice(&h(&e.psk_secret)).unwrap();
            let joiner = init.joiner_secret(&suite, &commit, &ctx).unwrap();
            assert_eq!(
                joiner,
                JoinerSecret::from_slice(&h(&e.joiner_secret)).unwrap(),
                "epoch {n}: joiner"
            );
            let intermediate = joiner.intermediate(&suite, &psk);
            let welcome = intermediate.welcome_secret(&suite).unwrap();
            assert_eq!(
                welcome,
                WelcomeSecret::from_slice(&h(&e.welcome_secret)).unwrap()
            );
            let (s, next_init) = intermediate
                .epoch_secret(&suite, &ctx)
                .unwrap()
                .derive(&suite)
                .unwrap();

            assert_eq!(
                s.sender_data_secret,
                SenderDataSecret::from_slice(&h(&e.sender_data_secret)).unwrap()
            );
            assert_eq!(
                s.encryption_secret,
                EncryptionSecret::from_slice(&h(&e.encryption_secret)).unwrap()
            );
            assert_eq!(
                s.exporter_secret,
                ExporterSecret::from_slice(&h(&e.exporter_secret)).unwrap()
            );
            assert_eq!(
                s.epoch_authenticator,
                EpochAuthenticator::from_slice(&h(&e.epoch_authenticator)).unwrap()
            );
            assert_eq!(
                s.external_secret,
                ExternalSecret::from_slice(&h(&e.external_secret)).unwrap()
            );
            assert_eq!(
                s.confirmation_key,
                ConfirmationKey::from_slice(&h(&e.confirmation_key)).unwrap()
            );
            assert_eq!(
                s.membership_key,
                MembershipKey::from_slice(&h(&e.membership_key)).unwrap()
            );
            assert_eq!(
                s.resumption_psk,
                ResumptionPsk::from_slice(&h(&e.resumption_psk)).unwrap()
            );
            assert_eq!(
                next_init,
                InitSecret::from_slice(&h(&e.init_secret)).unwrap(),
                "epoch {n}: init"
            );

            let (_, external_pub) = s.external_secret.key_pair(&suite).unwrap();
            assert_eq!(
                external_pub.as_bytes().to_vec(),
                h(&e.external_pub),
                "epoch {n}: external_pub"
            );

            let x = &e.exporter;
            let exported = s
                .exporter_secret
                .export(&suite, x.label.as_bytes(), &h(&x.context), x.length)
                .unwrap();
            assert_eq!(
                exported,
                Secret::from_slice(&h(&x.secret)).unwrap(),
                "epoch {n}: exporter"
            );
            // Hex-decoding the label (a classic mistake) must give a different secret.
            let wrong = s
                .exporter_secret
                .export(&suite, &h(&x.label), &h(&x.context), x.length)
                .unwrap();
            assert_ne!(wrong, exported);

            init = next_init;
            epochs_checked += 1;
        }
        tally.ran(c.cipher_suite);
    }
    println!("key-schedule: {epochs_checked} epochs checked");
    tally.finish();
}
