//! Proposals (RFC 9420 §12.1) and `ProposalOrRef` (§12.4).
//!
//! A proposal type meetkey does not know cannot be decoded: the body of a `Proposal` has
//! no length prefix, so its end cannot be found. Unknown types fail with
//! [`Unsupported::ProposalType`]; only a [`ProposalType`] code point on its own (as listed in
//! `Capabilities.proposals`) round-trips unknown and GREASE values.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::CipherSuite;
use crate::error::{InvalidMessage, Result, Unsupported};

use super::key_package::{read_cipher_suite, read_version};
use super::{Extension, KeyPackage, LeafNode, PreSharedKeyId, ProtocolVersion, MAX_VEC_LEN};

crate::codepoint! {
    /// `ProposalType` (RFC 9420 §12.1, §17.4). Unknown and GREASE values round-trip.
    pub struct ProposalType(u16) {
        /// `add`.
        ADD = 0x0001,
        /// `update`.
        UPDATE = 0x0002,
        /// `remove`.
        REMOVE = 0x0003,
        /// `psk`.
        PSK = 0x0004,
        /// `reinit`.
        REINIT = 0x0005,
        /// `external_init`.
        EXTERNAL_INIT = 0x0006,
        /// `group_context_extensions`.
        GROUP_CONTEXT_EXTENSIONS = 0x0007,
    }
}

/// Declares a one-field proposal body struct with its codec.
macro_rules! proposal_body {
    (
        $(#[$meta:meta])*
        $name:ident { $(#[$fmeta:meta])* $field:ident: $ty:ty, read: $read:expr, write: $write:expr }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub(crate) struct $name {
            $(#[$fmeta])*
            pub $field: $ty,
        }

        impl Decode for $name {
            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                let read: fn(&mut Reader<'_>) -> Result<$ty> = $read;
                Ok(Self { $field: read(r)? })
            }
        }

        impl Encode for $name {
            fn encode(&self, w: &mut Writer) {
                let write: fn(&$ty, &mut Writer) = $write;
                write(&self.$field, w);
            }
        }
    };
}

proposal_body! {
    /// Add the client of a KeyPackage to the group (§12.1.1).
    ///
    /// ```text
    /// struct {
    ///     KeyPackage key_package;
    /// } Add;
    /// ```
    Add {
        /// The new member's KeyPackage.
        key_package: KeyPackage,
        read: KeyPackage::decode,
        write: Encode::encode
    }
}

proposal_body! {
    /// Replace the sender's leaf (§12.1.2).
    ///
    /// ```text
    /// struct {
    ///     LeafNode leaf_node;
    /// } Update;
    /// ```
    Update {
        /// The sender's new leaf (source `update`).
        leaf_node: LeafNode,
        read: LeafNode::decode,
        write: Encode::encode
    }
}

proposal_body! {
    /// Remove the member at a leaf index (§12.1.3).
    ///
    /// ```text
    /// struct {
    ///     uint32 removed;
    /// } Remove;
    /// ```
    Remove {
        /// The leaf index of the member to remove.
        removed: u32,
        read: |r| r.read_u32(),
        write: |v, w| w.write_u32(*v)
    }
}

proposal_body! {
    /// Inject a pre-shared key into the next epoch's key schedule (§12.1.4).
    ///
    /// ```text
    /// struct {
    ///     PreSharedKeyID psk;
    /// } PreSharedKey;
    /// ```
    PreSharedKey {
        /// Which PSK.
        psk: PreSharedKeyId,
        read: PreSharedKeyId::decode,
        write: Encode::encode
    }
}

proposal_body! {
    /// Initialize the next epoch from an external commit's KEM output (§12.1.6).
    ///
    /// ```text
    /// struct {
    ///   opaque kem_output<V>;
    /// } ExternalInit;
    /// ```
    ExternalInit {
        /// The HPKE KEM output against the group's `external_pub`.
        kem_output: Vec<u8>,
        read: |r| Ok(r.read_opaque(MAX_VEC_LEN)?.to_vec()),
        write: |v, w| w.write_opaque(v)
    }
}

proposal_body! {
    /// Replace the GroupContext's extensions wholesale (§12.1.7).
    ///
    /// ```text
    /// struct {
    ///   Extension extensions<V>;
    /// } GroupContextExtensions;
    /// ```
    GroupContextExtensions {
        /// The new extension list.
        extensions: Vec<Extension>,
        read: |r| r.read_vec(MAX_VEC_LEN),
        write: |v, w| w.write_vec(v)
    }
}

/// Reinitialize the group with new parameters (§12.1.5).
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     ProtocolVersion version;
///     CipherSuite cipher_suite;
///     Extension extensions<V>;
/// } ReInit;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReInit {
    /// The new group's identifier.
    pub group_id: Vec<u8>,
    /// The new group's protocol version (reserved 0 rejected).
    pub version: ProtocolVersion,
    /// The new group's cipher suite (reserved 0 rejected).
    pub cipher_suite: CipherSuite,
    /// The new group's extensions.
    pub extensions: Vec<Extension>,
}

impl Decode for ReInit {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            group_id: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            version: read_version(r)?,
            cipher_suite: read_cipher_suite(r)?,
            extensions: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for ReInit {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.group_id);
        self.version.encode(w);
        self.cipher_suite.encode(w);
        w.write_vec(&self.extensions);
    }
}

/// A proposed change to the group (RFC 9420 §12.1).
///
/// Large bodies are boxed so that a `Vec<ProposalOrRef>` decoded from hostile input costs
/// a bounded multiple of the input's size.
///
/// ```text
/// struct {
///     ProposalType proposal_type;
///     select (Proposal.proposal_type) {
///         case add:                      Add;
///         case update:                   Update;
///         case remove:                   Remove;
///         case psk:                      PreSharedKey;
///         case reinit:                   ReInit;
///         case external_init:            ExternalInit;
///         case group_context_extensions: GroupContextExtensions;
///     };
/// } Proposal;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Proposal {
    /// `add`.
    Add(Box<Add>),
    /// `update`.
    Update(Box<Update>),
    /// `remove`.
    Remove(Remove),
    /// `psk`.
    PreSharedKey(Box<PreSharedKey>),
    /// `reinit`.
    ReInit(Box<ReInit>),
    /// `external_init`.
    ExternalInit(ExternalInit),
    /// `group_context_extensions`.
    GroupContextExtensions(GroupContextExtensions),
}

impl Proposal {
    /// The type of this proposal.
    #[must_use]
    pub(crate) const fn proposal_type(&self) -> ProposalType {
        match self {
            Self::Add(_) => ProposalType::ADD,
            Self::Update(_) => ProposalType::UPDATE,
            Self::Remove(_) => ProposalType::REMOVE,
            Self::PreSharedKey(_) => ProposalType::PSK,
            Self::ReInit(_) => ProposalType::REINIT,
            Self::ExternalInit(_) => ProposalType::EXTERNAL_INIT,
            Self::GroupContextExtensions(_) => ProposalType::GROUP_CONTEXT_EXTENSIONS,
        }
    }
}

impl Decode for Proposal {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match ProposalType::decode(r)? {
            ProposalType::ADD => Self::Add(Box::new(Add::decode(r)?)),
            ProposalType::UPDATE => Self::Update(Box::new(Update::decode(r)?)),
            ProposalType::REMOVE => Self::Remove(Remove::decode(r)?),
            ProposalType::PSK => Self::PreSharedKey(Box::new(PreSharedKey::decode(r)?)),
            ProposalType::REINIT => Self::ReInit(Box::new(ReInit::decode(r)?)),
            ProposalType::EXTERNAL_INIT => Self::ExternalInit(ExternalInit::decode(r)?),
            ProposalType::GROUP_CONTEXT_EXTENSIONS => {
                Self::GroupContextExtensions(GroupContextExtensions::decode(r)?)
            }
            ProposalType(0) => return Err(InvalidMessage::InvalidValue.into()),
            ProposalType(other) => return Err(Unsupported::ProposalType(other).into()),
        })
    }
}

impl Encode for Proposal {
    fn encode(&self, w: &mut Writer) {
        self.proposal_type().encode(w);
        match self {
            Self::Add(p) => p.encode(w),
            Self::Update(p) => p.encode(w),
            Self::Remove(p) => p.encode(w),
            Self::PreSharedKey(p) => p.encode(w),
            Self::ReInit(p) => p.encode(w),
            Self::ExternalInit(p) => p.encode(w),
            Self::GroupContextExtensions(p) => p.encode(w),
        }
    }
}

/// A proposal in a Commit, by value or by reference (RFC 9420 §12.4).
///
/// ```text
/// enum { reserved(0), proposal(1), reference(2), (255) } ProposalOrRefType;
///
/// struct {
///   ProposalOrRefType type;
///   select (ProposalOrRef.type) {
///     case proposal:  Proposal proposal;
///     case reference: ProposalRef reference;
///   };
/// } ProposalOrRef;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ProposalOrRef {
    /// `proposal(1)`: the proposal itself.
    Proposal(Proposal),
    /// `reference(2)`: `ProposalRef` (`opaque HashReference<V>`, §5.2) of a proposal sent
    /// earlier in this epoch.
    Reference(Vec<u8>),
}

impl Decode for ProposalOrRef {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::Proposal(Proposal::decode(r)?)),
            2 => Ok(Self::Reference(r.read_opaque(MAX_VEC_LEN)?.to_vec())),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for ProposalOrRef {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Proposal(p) => {
                w.write_u8(1);
                p.encode(w);
            }
            Self::Reference(reference) => {
                w.write_u8(2);
                w.write_opaque(reference);
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
