//! The GroupContext (RFC 9420 §8.1).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::CipherSuite;
use crate::error::{InvalidMessage, Result};

use super::{Extension, MAX_VEC_LEN};

crate::codepoint! {
    /// `ProtocolVersion` (RFC 9420 §6).
    pub struct ProtocolVersion(u16) {
        /// MLS 1.0.
        MLS10 = 0x0001,
    }
}

/// The summary of a group's state that every key derivation of an epoch is bound to.
///
/// ```text
/// struct {
///     ProtocolVersion version = mls10;
///     CipherSuite cipher_suite;
///     opaque group_id<V>;
///     uint64 epoch;
///     opaque tree_hash<V>;
///     opaque confirmed_transcript_hash<V>;
///     Extension extensions<V>;
/// } GroupContext;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupContext {
    /// The protocol version (always `mls10` once decoded).
    pub version: ProtocolVersion,
    /// The group's cipher suite.
    pub cipher_suite: CipherSuite,
    /// The application-chosen group identifier.
    pub group_id: Vec<u8>,
    /// The epoch number.
    pub epoch: u64,
    /// The root tree hash of the ratchet tree.
    pub tree_hash: Vec<u8>,
    /// The confirmed transcript hash after the last Commit.
    pub confirmed_transcript_hash: Vec<u8>,
    /// The group's extensions.
    pub extensions: Vec<Extension>,
}

impl Decode for GroupContext {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let version = ProtocolVersion::decode(r)?;
        if version != ProtocolVersion::MLS10 {
            return Err(InvalidMessage::InvalidValue.into());
        }
        Ok(Self {
            version,
            cipher_suite: CipherSuite::decode(r)?,
            group_id: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            epoch: r.read_u64()?,
            tree_hash: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            confirmed_transcript_hash: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            extensions: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for GroupContext {
    fn encode(&self, w: &mut Writer) {
        self.version.encode(w);
        self.cipher_suite.encode(w);
        w.write_opaque(&self.group_id);
        w.write_u64(self.epoch);
        w.write_opaque(&self.tree_hash);
        w.write_opaque(&self.confirmed_transcript_hash);
        w.write_vec(&self.extensions);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GroupContext {
        GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite(1),
            group_id: b"group".to_vec(),
            epoch: 7,
            tree_hash: vec![1; 32],
            confirmed_transcript_hash: vec![2; 32],
            extensions: vec![Extension {
                extension_type: super::super::ExtensionType(0xf0f0),
                extension_data: vec![9, 9],
            }],
        }
    }

    #[test]
    fn round_trips_and_rejects_bad_input() {
        let bytes = sample().to_bytes().unwrap();
        assert_eq!(GroupContext::decode_exact(&bytes).unwrap(), sample());
        for cut in 0..bytes.len() {
            assert!(
                GroupContext::decode_exact(&bytes[..cut])
                    .is_err_and(|e| e == crate::Error::InvalidMessage(InvalidMessage::Truncated)),
                "prefix {cut}"
            );
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert_eq!(
            GroupContext::decode_exact(&extra),
            Err(InvalidMessage::TrailingBytes.into())
        );
        let mut v2 = bytes;
        v2[1] = 2;
        assert_eq!(
            GroupContext::decode_exact(&v2),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
}
