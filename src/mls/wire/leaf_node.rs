//! Leaf nodes of the ratchet tree (RFC 9420 §7.2).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::CipherSuite;
use crate::error::{InvalidMessage, Result};

use super::MAX_VEC_LEN;
use super::{Credential, CredentialType, Extension, ExtensionType, ProposalType, ProtocolVersion};

/// What a client supports (RFC 9420 §7.2). Unknown values are kept: the RFC says they MUST
/// be ignored, which is the reader's job, and they must survive re-encoding.
///
/// ```text
/// struct {
///     ProtocolVersion versions<V>;
///     CipherSuite cipher_suites<V>;
///     ExtensionType extensions<V>;
///     ProposalType proposals<V>;
///     CredentialType credentials<V>;
/// } Capabilities;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Supported protocol versions.
    pub versions: Vec<ProtocolVersion>,
    /// Supported cipher suites.
    pub cipher_suites: Vec<CipherSuite>,
    /// Supported non-default extension types.
    pub extensions: Vec<ExtensionType>,
    /// Supported non-default proposal types.
    pub proposals: Vec<ProposalType>,
    /// Supported credential types.
    pub credentials: Vec<CredentialType>,
}

impl Decode for Capabilities {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            versions: r.read_vec(MAX_VEC_LEN)?,
            cipher_suites: r.read_vec(MAX_VEC_LEN)?,
            extensions: r.read_vec(MAX_VEC_LEN)?,
            proposals: r.read_vec(MAX_VEC_LEN)?,
            credentials: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for Capabilities {
    fn encode(&self, w: &mut Writer) {
        w.write_vec(&self.versions);
        w.write_vec(&self.cipher_suites);
        w.write_vec(&self.extensions);
        w.write_vec(&self.proposals);
        w.write_vec(&self.credentials);
    }
}

/// The validity period of a KeyPackage's leaf, in seconds since the Unix epoch (§7.2).
///
/// ```text
/// struct {
///     uint64 not_before;
///     uint64 not_after;
/// } Lifetime;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// The first second the leaf is valid.
    pub not_before: u64,
    /// The last second the leaf is valid.
    pub not_after: u64,
}

impl Lifetime {
    /// How far before `now` a new lifetime starts, for peers whose clocks run behind.
    pub const CLOCK_SKEW: u64 = 3600;

    /// A lifetime for a KeyPackage made at `now` (Unix seconds) that stays valid for
    /// `seconds`: from an hour before `now` (clock skew) to `now + seconds`.
    #[must_use]
    pub const fn starting_at(now: u64, seconds: u64) -> Self {
        Self {
            not_before: now.saturating_sub(Self::CLOCK_SKEW),
            not_after: now.saturating_add(seconds),
        }
    }
}

impl Decode for Lifetime {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            not_before: r.read_u64()?,
            not_after: r.read_u64()?,
        })
    }
}

impl Encode for Lifetime {
    fn encode(&self, w: &mut Writer) {
        w.write_u64(self.not_before);
        w.write_u64(self.not_after);
    }
}

/// How a leaf node came to be in the tree, with the field that depends on it (§7.2).
///
/// ```text
/// enum { reserved(0), key_package(1), update(2), commit(3), (255) } LeafNodeSource;
/// select (LeafNode.leaf_node_source) {
///     case key_package: Lifetime lifetime;
///     case update:      struct{};
///     case commit:      opaque parent_hash<V>;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafNodeSource {
    /// `key_package(1)`: published in a KeyPackage, valid for `lifetime`.
    KeyPackage(Lifetime),
    /// `update(2)`: sent in an Update proposal.
    Update,
    /// `commit(3)`: sent in the UpdatePath of a Commit.
    Commit {
        /// `parent_hash<V>`: the parent hash of the leaf (§7.9).
        parent_hash: Vec<u8>,
    },
}

impl Decode for LeafNodeSource {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::KeyPackage(Lifetime::decode(r)?)),
            2 => Ok(Self::Update),
            3 => Ok(Self::Commit {
                parent_hash: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            }),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for LeafNodeSource {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::KeyPackage(lifetime) => {
                w.write_u8(1);
                lifetime.encode(w);
            }
            Self::Update => w.write_u8(2),
            Self::Commit { parent_hash } => {
                w.write_u8(3);
                w.write_opaque(parent_hash);
            }
        }
    }
}

/// A member's leaf in the ratchet tree, signed by that member (RFC 9420 §7.2).
///
/// Keys are raw bytes here; the crypto layer parses them when it uses them, and
/// `mls::validate` checks the signature over [`LeafNode::to_be_signed`].
///
/// ```text
/// struct {
///     HPKEPublicKey encryption_key;
///     SignaturePublicKey signature_key;
///     Credential credential;
///     Capabilities capabilities;
///
///     LeafNodeSource leaf_node_source;
///     select (LeafNode.leaf_node_source) {
///         case key_package: Lifetime lifetime;
///         case update:      struct{};
///         case commit:      opaque parent_hash<V>;
///     };
///
///     Extension extensions<V>;
///     /* SignWithLabel(., "LeafNodeTBS", LeafNodeTBS) */
///     opaque signature<V>;
/// } LeafNode;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeafNode {
    /// `HPKEPublicKey encryption_key` (`opaque <V>`).
    pub encryption_key: Vec<u8>,
    /// `SignaturePublicKey signature_key` (`opaque <V>`).
    pub signature_key: Vec<u8>,
    /// The member's credential.
    pub credential: Credential,
    /// What the member supports.
    pub capabilities: Capabilities,
    /// The source, with the lifetime or parent hash it carries.
    pub leaf_node_source: LeafNodeSource,
    /// The leaf's extensions.
    pub extensions: Vec<Extension>,
    /// `SignWithLabel(., "LeafNodeTBS", LeafNodeTBS)`.
    pub signature: Vec<u8>,
}

impl LeafNode {
    /// Writes every field up to (not including) the signature: the common prefix of
    /// `LeafNode` and `LeafNodeTBS`.
    fn encode_content(&self, w: &mut Writer) {
        w.write_opaque(&self.encryption_key);
        w.write_opaque(&self.signature_key);
        self.credential.encode(w);
        self.capabilities.encode(w);
        self.leaf_node_source.encode(w);
        w.write_vec(&self.extensions);
    }

    /// The encoded `LeafNodeTBS` (RFC 9420 §7.2), the content of the leaf's signature.
    ///
    /// For the `update` and `commit` sources the leaf is bound to its group: `group_id<V>`
    /// and `uint32 leaf_index` are appended. For `key_package` the two parameters are not
    /// used (a KeyPackage is made before its group is known).
    ///
    /// ```text
    /// struct {
    ///     ... every field of LeafNode but the signature ...
    ///     select (LeafNodeTBS.leaf_node_source) {
    ///         case key_package: struct{};
    ///         case update:      opaque group_id<V>; uint32 leaf_index;
    ///         case commit:      opaque group_id<V>; uint32 leaf_index;
    ///     };
    /// } LeafNodeTBS;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub fn to_be_signed(&self, group_id: &[u8], leaf_index: u32) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_content(&mut w);
        match self.leaf_node_source {
            LeafNodeSource::KeyPackage(_) => {}
            LeafNodeSource::Update | LeafNodeSource::Commit { .. } => {
                w.write_opaque(group_id);
                w.write_u32(leaf_index);
            }
        }
        w.into_bytes()
    }
}

impl Decode for LeafNode {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            encryption_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            signature_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            credential: Credential::decode(r)?,
            capabilities: Capabilities::decode(r)?,
            leaf_node_source: LeafNodeSource::decode(r)?,
            extensions: r.read_vec(MAX_VEC_LEN)?,
            signature: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for LeafNode {
    fn encode(&self, w: &mut Writer) {
        self.encode_content(w);
        w.write_opaque(&self.signature);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mls::wire::testing::check_round_trip;

    /// A leaf with every list populated, GREASE values included.
    pub(crate) fn sample(source: LeafNodeSource) -> LeafNode {
        LeafNode {
            encryption_key: vec![1; 32],
            signature_key: vec![2; 32],
            credential: Credential::Basic {
                identity: b"bob".to_vec(),
            },
            capabilities: Capabilities {
                versions: vec![ProtocolVersion::MLS10],
                cipher_suites: vec![CipherSuite(1), CipherSuite(0x0a0a)],
                extensions: vec![ExtensionType(0xf001)],
                proposals: vec![ProposalType(0x1a1a)],
                credentials: vec![CredentialType::BASIC, CredentialType(0x2a2a)],
            },
            leaf_node_source: source,
            extensions: vec![Extension {
                extension_type: ExtensionType(0xf001),
                extension_data: vec![7],
            }],
            signature: vec![3; 60],
        }
    }

    fn sources() -> [LeafNodeSource; 3] {
        [
            LeafNodeSource::KeyPackage(Lifetime {
                not_before: 1,
                not_after: u64::MAX,
            }),
            LeafNodeSource::Update,
            LeafNodeSource::Commit {
                parent_hash: vec![4; 32],
            },
        ]
    }

    #[test]
    fn every_source_round_trips_and_every_truncation_fails() {
        for source in sources() {
            check_round_trip(&sample(source));
        }
        check_round_trip(&Capabilities::default());
    }

    #[test]
    fn reserved_and_unknown_sources_are_rejected() {
        let mut bytes = sample(LeafNodeSource::Update).to_bytes().unwrap();
        // The source octet sits just before `extensions<V>` (5 bytes) and the signature.
        let ext_and_sig = 5 + 1 + 60;
        let pos = bytes.len() - ext_and_sig - 1;
        assert_eq!(bytes[pos], 2);
        for bad in [0, 4, 255] {
            bytes[pos] = bad;
            assert_eq!(
                LeafNode::decode_exact(&bytes),
                Err(InvalidMessage::InvalidValue.into())
            );
        }
    }

    #[test]
    fn tbs_appends_group_context_only_for_update_and_commit() {
        for source in sources() {
            let leaf = sample(source);
            let full = leaf.to_bytes().unwrap();
            let content = &full[..full.len() - 1 - 60];
            let tbs = leaf.to_be_signed(b"grp", 0x0102_0304).unwrap();
            if matches!(leaf.leaf_node_source, LeafNodeSource::KeyPackage(_)) {
                assert_eq!(tbs, content);
            } else {
                assert_eq!(&tbs[..content.len()], content);
                assert_eq!(&tbs[content.len()..], [3, b'g', b'r', b'p', 1, 2, 3, 4]);
            }
        }
    }
}
