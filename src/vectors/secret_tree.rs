//! `vectors/mls/secret-tree.json`: per suite, the sender-data key and nonce for a
//! ciphertext sample, and for trees of 1, 8 and 32 leaves the handshake and application keys
//! and nonces of chosen generations of every leaf, derived from `encryption_secret`.

// Test helpers outside #[test] fns may fail loudly on a broken vector.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::test_support as common;

use crate::crypto::{AeadKey, AeadNonce, CipherSuite};
use crate::mls::key_schedule::{EncryptionSecret, SenderDataSecret};
use crate::mls::secret_tree::{RatchetConfig, RatchetKind, SecretTree};
use crate::mls::tree::math::{LeafIndex, TreeSize};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    cipher_suite: u16,
    sender_data: SenderData,
    encryption_secret: String,
    leaves: Vec<Vec<Generation>>,
}

#[derive(Deserialize)]
struct SenderData {
    sender_data_secret: String,
    ciphertext: String,
    key: String,
    nonce: String,
}

#[derive(Deserialize)]
struct Generation {
    generation: u32,
    handshake_key: String,
    handshake_nonce: String,
    application_key: String,
    application_nonce: String,
}

#[test]
fn secret_tree_vectors() {
    let cases: Vec<Case> = common::load("mls/secret-tree.json");
    let mut tally = common::Tally::new("mls/secret-tree.json");
    let mut keys_checked = 0;
    for c in &cases {
        let Ok(suite) = CipherSuite(c.cipher_suite).suite() else {
            tally.skipped(c.cipher_suite);
            continue;
        };
        let h = common::hex;
        let sd = &c.sender_data;
        let secret = SenderDataSecret::from_slice(&h(&sd.sender_data_secret)).unwrap();
        let (key, nonce) = secret.key_and_nonce(&suite, &h(&sd.ciphertext)).unwrap();
        assert_eq!(key, AeadKey::from_slice(&h(&sd.key)).unwrap());
        assert_eq!(nonce, AeadNonce::from_slice(&h(&sd.nonce)).unwrap());

        let root = EncryptionSecret::from_slice(&h(&c.encryption_secret)).unwrap();
        let size = TreeSize::new(u32::try_from(c.leaves.len()).unwrap()).unwrap();
        // The vectors jump far ahead, so allow any forward distance here.
        let config = RatchetConfig {
            out_of_order_tolerance: 0,
            maximum_forward_distance: u32::MAX,
        };
        let mut tree = SecretTree::new(suite, root, size, config);
        for (leaf, generations) in c.leaves.iter().enumerate() {
            for g in generations {
                let cases = [
                    (RatchetKind::Handshake, &g.handshake_key, &g.handshake_nonce),
                    (
                        RatchetKind::Application,
                        &g.application_key,
                        &g.application_nonce,
                    ),
                ];
                for (kind, k, n) in cases {
                    tree.open_with(
                        LeafIndex(u32::try_from(leaf).unwrap()),
                        kind,
                        g.generation,
                        |key, nonce| {
                            assert_eq!(
                                *key,
                                AeadKey::from_slice(&h(k)).unwrap(),
                                "leaf {leaf} gen {}",
                                g.generation
                            );
                            assert_eq!(*nonce, AeadNonce::from_slice(&h(n)).unwrap());
                            Ok(())
                        },
                    )
                    .unwrap();
                    keys_checked += 1;
                }
            }
        }
        tally.ran(c.cipher_suite);
    }
    println!("secret-tree: {keys_checked} key/nonce pairs checked");
    tally.finish();
}
