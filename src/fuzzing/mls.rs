//! MLS decoders.

use crate::codec::{Decode, Reader};
use crate::mls::wire::MlsMessage;

/// Decodes `data` as an MLSMessage (RFC 9420 §6); when that succeeds, re-encoding must give
/// back exactly the bytes consumed (the wire encoding is canonical). Rejection is fine.
///
/// # Panics
/// When a decoded message does not re-encode to the bytes it was decoded from: a codec bug.
pub fn mls_message(data: &[u8]) {
    let mut r = Reader::new(data);
    if let Ok(message) = MlsMessage::decode(&mut r) {
        let consumed = data.len().saturating_sub(r.remaining().len());
        let again = message.to_bytes();
        assert_eq!(
            again.as_deref().ok(),
            data.get(..consumed),
            "MLSMessage did not re-encode to its input"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// The MLSMessage-wrapped fields of `vectors/mls/messages.json`.
    const MESSAGE_FIELDS: [&str; 7] = [
        "mls_welcome",
        "mls_group_info",
        "mls_key_package",
        "public_message_application",
        "public_message_proposal",
        "public_message_commit",
        "private_message",
    ];

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn vector_messages() -> Vec<Vec<u8>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/mls/messages.json");
        let cases: Vec<BTreeMap<String, String>> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        cases
            .iter()
            .flat_map(|c| MESSAGE_FIELDS.iter().map(|f| hex(&c[*f])))
            .collect()
    }

    #[test]
    fn mls_message_harness_over_vectors_truncations_and_bit_flips() {
        let inputs = vector_messages();
        assert_eq!(inputs.len(), 300 * MESSAGE_FIELDS.len());
        let (mut runs, mut flipped_ok) = (0usize, 0usize);
        for input in &inputs {
            assert!(MlsMessage::decode_exact(input).is_ok());
            mls_message(input);
            // With trailing garbage the harness checks only the consumed prefix.
            let mut longer = input.clone();
            longer.extend_from_slice(&[0xff, 0]);
            mls_message(&longer);
            runs += 2;
            for cut in 0..input.len() {
                // No strict prefix of a valid message decodes.
                assert!(MlsMessage::decode(&mut Reader::new(&input[..cut]))
                    .is_err_and(|e| e
                        == crate::Error::InvalidMessage(crate::error::InvalidMessage::Truncated)));
                mls_message(&input[..cut]);
                runs += 1;
            }
            for pos in 0..input.len() {
                let mut flipped = input.clone();
                flipped[pos] ^= 1 << (pos % 8);
                if MlsMessage::decode_exact(&flipped).is_ok() {
                    flipped_ok += 1;
                }
                mls_message(&flipped);
                runs += 1;
            }
        }
        println!(
            "fuzzing::mls_message: {} vector inputs, {runs} runs, {flipped_ok} bit flips still decoded",
            inputs.len()
        );
        assert!(runs > inputs.len());
    }
}
