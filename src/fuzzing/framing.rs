//! PrivateMessage unprotection (RFC 9420 §6.3).

use crate::codec::Decode;
use crate::crypto::CipherSuite;
use crate::error::Stale;
use crate::mls::framing::unprotect_private;
use crate::mls::key_schedule::{EncryptionSecret, SenderDataSecret};
use crate::mls::secret_tree::{RatchetConfig, SecretTree};
use crate::mls::tree::math::TreeSize;
use crate::mls::wire::{
    GroupContext, MlsMessage, MlsMessageBody, PrivateMessage, ProtocolVersion, Sender, WireFormat,
};

/// The epoch a harness run receives in: the parameters of a `message-protection.json` case.
struct FixedEpoch {
    cipher_suite: u16,
    epoch: u64,
    group_id: [u8; 32],
    tree_hash: [u8; 32],
    confirmed_transcript_hash: [u8; 32],
    encryption_secret: [u8; 32],
    sender_data_secret: [u8; 32],
}

/// The two cases (suites 1 and 3) of `vectors/mls/message-protection.json`, so that the
/// vector messages open and the harness reaches every step of [`unprotect_private`].
const EPOCHS: [FixedEpoch; 2] = [
    FixedEpoch {
        cipher_suite: 1,
        epoch: 1184274,
        group_id: [
            0x42, 0xe4, 0xc3, 0xa7, 0x37, 0x38, 0xd8, 0x38, 0xcb, 0x4f, 0x9d, 0xc5, 0x50, 0xcb,
            0x81, 0x40, 0x62, 0x06, 0x94, 0x3f, 0x9e, 0x68, 0x70, 0xee, 0x15, 0x0f, 0x20, 0x00,
            0xae, 0x8a, 0xa7, 0x80,
        ],
        tree_hash: [
            0xa2, 0x57, 0xa3, 0x26, 0xc7, 0xb6, 0x32, 0xce, 0x7c, 0xcd, 0xea, 0x8d, 0x3a, 0x3b,
            0x5c, 0x3c, 0x2d, 0xaa, 0x53, 0xa2, 0x10, 0x29, 0xb3, 0x67, 0x3e, 0xe0, 0x5e, 0x9a,
            0x3c, 0xea, 0x59, 0x34,
        ],
        confirmed_transcript_hash: [
            0x59, 0xb1, 0x0f, 0x7a, 0x13, 0x7e, 0x85, 0x3c, 0x4e, 0xf7, 0xce, 0x43, 0xd2, 0xfe,
            0x0a, 0x48, 0x1b, 0xb8, 0x06, 0x52, 0xf6, 0x48, 0xc5, 0xef, 0xab, 0x11, 0xc3, 0x14,
            0x1a, 0x1b, 0xa6, 0x0c,
        ],
        encryption_secret: [
            0x4d, 0xb3, 0x35, 0x74, 0xf5, 0x14, 0x02, 0x4e, 0x61, 0xe2, 0xa1, 0x5e, 0x71, 0x52,
            0x71, 0x82, 0xf6, 0x25, 0x61, 0xd8, 0x4b, 0x4d, 0x82, 0x30, 0x50, 0x1b, 0x62, 0x3d,
            0x84, 0x8d, 0xf9, 0x98,
        ],
        sender_data_secret: [
            0xb2, 0x1d, 0xfb, 0xbf, 0x69, 0xda, 0x2f, 0xec, 0x93, 0x29, 0x9d, 0x8b, 0xd0, 0x79,
            0x5a, 0xd0, 0xae, 0xc2, 0x2b, 0x42, 0xd8, 0x3f, 0xf1, 0x0a, 0x2e, 0x5e, 0x3f, 0x99,
            0x76, 0x72, 0xb8, 0xb3,
        ],
    },
    FixedEpoch {
        cipher_suite: 3,
        epoch: 1184274,
        group_id: [
            0xfd, 0xba, 0xda, 0x2d, 0xdc, 0xe0, 0x2e, 0x74, 0x93, 0x67, 0x3c, 0xaa, 0xb7, 0x93,
            0x30, 0x8b, 0xde, 0xb5, 0xcd, 0xb0, 0x55, 0x8f, 0x15, 0x1f, 0x64, 0x7a, 0xb6, 0xe2,
            0xca, 0x0c, 0x63, 0xcf,
        ],
        tree_hash: [
            0x5a, 0xe6, 0xee, 0x5f, 0x28, 0x27, 0x86, 0xb7, 0x53, 0xd5, 0x5f, 0x15, 0x93, 0x82,
            0x48, 0xf6, 0x21, 0x2c, 0x69, 0xb2, 0xf6, 0x77, 0x31, 0x9e, 0x5f, 0xcd, 0xb2, 0xce,
            0x0b, 0xfb, 0xf4, 0x8a,
        ],
        confirmed_transcript_hash: [
            0x0b, 0xa3, 0x5f, 0x0d, 0x36, 0x00, 0x7b, 0xc4, 0x4d, 0xf4, 0x1d, 0xb0, 0x74, 0xb9,
            0xd9, 0x8a, 0x13, 0x14, 0xe3, 0xc6, 0x90, 0xcb, 0x34, 0x5c, 0xee, 0xae, 0x15, 0x2f,
            0xbe, 0x5b, 0x6a, 0xfe,
        ],
        encryption_secret: [
            0xce, 0x02, 0xc4, 0xdd, 0x80, 0xa8, 0xed, 0x57, 0x50, 0x3e, 0x3a, 0x50, 0xec, 0x11,
            0xb9, 0x26, 0xa5, 0x49, 0xd6, 0x5e, 0x84, 0x04, 0x17, 0xc0, 0x63, 0x54, 0x27, 0xa8,
            0x38, 0xb3, 0xcf, 0x29,
        ],
        sender_data_secret: [
            0x85, 0xfc, 0x31, 0xfa, 0xc8, 0x78, 0xdb, 0xe2, 0x85, 0x0e, 0x30, 0xa8, 0xfa, 0x88,
            0xbd, 0xc6, 0x3d, 0xac, 0xd8, 0x90, 0x75, 0x6a, 0xad, 0xe0, 0x34, 0x33, 0x79, 0x1b,
            0x50, 0xa5, 0x10, 0xf5,
        ],
    },
];

/// Decodes `data` as an MLSMessage and, if it is a PrivateMessage, unprotects it in each
/// fixed epoch with a fresh 2-leaf secret tree. Rejection is fine; a message that opens must
/// be well-formed (a member sender inside the tree, the content type it was sent as) and
/// must not open twice.
///
/// # Panics
/// When an opened message breaks one of those properties: a framing bug.
pub fn private_message_unprotect(data: &[u8]) {
    let _ = opened_epochs(data);
}

/// In how many of the fixed epochs `data` opened.
pub(super) fn opened_epochs(data: &[u8]) -> usize {
    let Ok(MlsMessage {
        body: MlsMessageBody::PrivateMessage(msg),
        ..
    }) = MlsMessage::decode_exact(data)
    else {
        return 0;
    };
    EPOCHS.iter().filter(|e| opens(e, &msg)).count()
}

fn opens(e: &FixedEpoch, msg: &PrivateMessage) -> bool {
    let Ok(suite) = CipherSuite(e.cipher_suite).suite() else {
        return false;
    };
    let (Ok(root), Ok(sender_data_secret), Ok(size)) = (
        EncryptionSecret::from_slice(&e.encryption_secret),
        SenderDataSecret::from_slice(&e.sender_data_secret),
        TreeSize::new(2),
    ) else {
        return false;
    };
    let mut tree = SecretTree::new(suite, root, size, RatchetConfig::default());
    let context = GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(e.cipher_suite),
        group_id: e.group_id.to_vec(),
        epoch: e.epoch,
        tree_hash: e.tree_hash.to_vec(),
        confirmed_transcript_hash: e.confirmed_transcript_hash.to_vec(),
        extensions: vec![],
    };
    let Ok((auth, sender_data)) =
        unprotect_private(&suite, msg, &mut tree, &sender_data_secret, &context)
    else {
        return false;
    };
    assert!(sender_data.leaf_index < 2, "sender outside the tree");
    assert_eq!(auth.content.sender, Sender::Member(sender_data.leaf_index));
    assert_eq!(auth.wire_format, WireFormat::MLS_PRIVATE_MESSAGE);
    assert_eq!(auth.content.content_type(), msg.content_type);
    assert_eq!(
        (&auth.content.group_id, auth.content.epoch),
        (&msg.group_id, msg.epoch)
    );
    let replay = unprotect_private(&suite, msg, &mut tree, &sender_data_secret, &context);
    assert_eq!(
        replay.err(),
        Some(Stale::GenerationConsumed.into()),
        "a PrivateMessage opened twice"
    );
    true
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The PrivateMessages of `vectors/mls/message-protection.json`.
    fn vector_messages() -> Vec<Vec<u8>> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/vectors/mls/message-protection.json"
        );
        let cases: Vec<BTreeMap<String, serde_json::Value>> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        cases
            .iter()
            .flat_map(|c| {
                ["proposal_priv", "commit_priv", "application_priv"]
                    .map(|f| hex(c[f].as_str().unwrap()))
            })
            .collect()
    }

    #[test]
    fn private_message_harness_over_vectors_truncations_and_bit_flips() {
        let inputs = vector_messages();
        assert_eq!(inputs.len(), 6);
        let mut runs = 0usize;
        for input in &inputs {
            // Each genuine message opens in exactly its own epoch.
            assert_eq!(opened_epochs(input), 1);
            private_message_unprotect(input);
            runs += 1;
            for cut in 0..input.len() {
                assert_eq!(opened_epochs(&input[..cut]), 0, "prefix {cut}");
                runs += 1;
            }
            // Every byte is authenticated: no single bit flip opens.
            for pos in 0..input.len() {
                for bit in [0, 3, 7] {
                    let mut flipped = input.clone();
                    flipped[pos] ^= 1 << bit;
                    assert_eq!(opened_epochs(&flipped), 0, "flip {pos}.{bit}");
                    runs += 1;
                }
            }
            let mut longer = input.clone();
            longer.push(0);
            assert_eq!(opened_epochs(&longer), 0);
        }
        println!("fuzzing::private_message_unprotect: {runs} runs");
    }
}
