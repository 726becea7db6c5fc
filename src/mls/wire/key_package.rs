//! KeyPackages (RFC 9420 §10).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::CipherSuite;
use crate::error::{InvalidMessage, Result};

use super::{Extension, LeafNode, ProtocolVersion, MAX_VEC_LEN};

/// Reads a `ProtocolVersion`, rejecting the reserved value 0 (RFC 9420 §6).
pub(super) fn read_version(r: &mut Reader<'_>) -> Result<ProtocolVersion> {
    match ProtocolVersion::decode(r)? {
        ProtocolVersion(0) => Err(InvalidMessage::InvalidValue.into()),
        v => Ok(v),
    }
}

/// Reads a `CipherSuite`, rejecting the reserved value 0 (RFC 9420 §17.1).
pub(super) fn read_cipher_suite(r: &mut Reader<'_>) -> Result<CipherSuite> {
    match CipherSuite::decode(r)? {
        CipherSuite(0) => Err(InvalidMessage::InvalidValue.into()),
        cs => Ok(cs),
    }
}

/// A pre-published offer to be added to a group (RFC 9420 §10): an init key for the
/// Welcome and the leaf to put in the tree, signed by the client.
///
/// Decoding rejects the reserved version and cipher suite 0 and keeps other values, so that
/// `mls::validate` can report them. The signature over `KeyPackageTBS` and the
/// `key_package` source of the leaf are checked there too.
///
/// ```text
/// struct {
///     ProtocolVersion version;
///     CipherSuite cipher_suite;
///     HPKEPublicKey init_key;
///     LeafNode leaf_node;
///     Extension extensions<V>;
///     /* SignWithLabel(., "KeyPackageTBS", KeyPackageTBS) */
///     opaque signature<V>;
/// } KeyPackage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPackage {
    /// The protocol version.
    pub(crate) version: ProtocolVersion,
    /// The cipher suite of every key in the package.
    pub(crate) cipher_suite: CipherSuite,
    /// `HPKEPublicKey init_key` (`opaque <V>`): encrypts the Welcome's group secrets.
    pub(crate) init_key: Vec<u8>,
    /// The leaf to add to the tree.
    pub(crate) leaf_node: LeafNode,
    /// The package's extensions.
    pub(crate) extensions: Vec<Extension>,
    /// `SignWithLabel(., "KeyPackageTBS", KeyPackageTBS)`.
    pub(crate) signature: Vec<u8>,
}

impl KeyPackage {
    fn encode_content(&self, w: &mut Writer) {
        self.version.encode(w);
        self.cipher_suite.encode(w);
        w.write_opaque(&self.init_key);
        self.leaf_node.encode(w);
        w.write_vec(&self.extensions);
    }

    /// The encoded `KeyPackageTBS` (RFC 9420 §10): every field but the signature.
    ///
    /// ```text
    /// struct {
    ///     ProtocolVersion version;
    ///     CipherSuite cipher_suite;
    ///     HPKEPublicKey init_key;
    ///     LeafNode leaf_node;
    ///     Extension extensions<V>;
    /// } KeyPackageTBS;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn to_be_signed(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_content(&mut w);
        w.into_bytes()
    }
}

impl Decode for KeyPackage {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            version: read_version(r)?,
            cipher_suite: read_cipher_suite(r)?,
            init_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            leaf_node: LeafNode::decode(r)?,
            extensions: r.read_vec(MAX_VEC_LEN)?,
            signature: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for KeyPackage {
    fn encode(&self, w: &mut Writer) {
        self.encode_content(w);
        w.write_opaque(&self.signature);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mls::wire::leaf_node::tests::sample as sample_leaf;
    use crate::mls::wire::testing::check_round_trip;
    use crate::mls::wire::{ExtensionType, LeafNodeSource, Lifetime};

    pub(crate) fn sample() -> KeyPackage {
        KeyPackage {
            version: ProtocolVersion::MLS10,
            cipher_suite: CipherSuite(1),
            init_key: vec![5; 32],
            leaf_node: sample_leaf(LeafNodeSource::KeyPackage(Lifetime {
                not_before: 0,
                not_after: 100,
            })),
            extensions: vec![Extension {
                extension_type: ExtensionType(0x3a3a),
                extension_data: vec![],
            }],
            signature: vec![6; 60],
        }
    }

    #[test]
    fn round_trips_and_every_truncation_fails() {
        check_round_trip(&sample());
        // Unknown (non-reserved) versions and suites are kept for validation to judge.
        let mut kp = sample();
        kp.version = ProtocolVersion(2);
        kp.cipher_suite = CipherSuite(0xf000);
        check_round_trip(&kp);
    }

    #[test]
    fn tbs_is_the_encoding_without_the_signature() {
        let kp = sample();
        let full = kp.to_bytes().unwrap();
        assert_eq!(kp.to_be_signed().unwrap(), &full[..full.len() - 61]);
    }

    #[test]
    fn reserved_version_and_cipher_suite_are_rejected() {
        let bytes = sample().to_bytes().unwrap();
        for pos in [1, 3] {
            let mut bad = bytes.clone();
            bad[pos] = 0;
            assert_eq!(
                KeyPackage::decode_exact(&bad),
                Err(InvalidMessage::InvalidValue.into())
            );
        }
    }
}
