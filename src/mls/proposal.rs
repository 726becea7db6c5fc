//! A proposal as an application builds and sees it (RFC 9420 §12.1): opaque, made by a
//! constructor per kind an application may send, or decoded from bytes. The wire enum and
//! its bodies stay inside the crate, so that their layout is not part of the API.

use crate::crypto::{CipherSuite, Rng, Secret};
use crate::error::Result;
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{self, Extension, KeyPackage, PreSharedKeyId, ProtocolVersion, Psk};

/// A proposed change to a group (RFC 9420 §12.1), for [`Group::propose`](super::Group::propose),
/// [`Group::commit`](super::Group::commit) or
/// [`ExternalProposer::propose`](super::ExternalProposer::propose).
///
/// Updates are not built here: a member refreshes its own leaf with
/// [`Group::propose_update`](super::Group::propose_update), which holds the new private key,
/// and an external join's `ExternalInit` is made by [`Group::join_external`](super::Group::join_external).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal(pub(crate) wire::Proposal);

impl Proposal {
    /// `add` (§12.1.1): add the owner of `key_package`.
    #[must_use]
    pub fn add(key_package: KeyPackage) -> Self {
        Self(wire::Proposal::Add(Box::new(wire::Add { key_package })))
    }

    /// `remove` (§12.1.3): remove the member at `leaf`.
    #[must_use]
    pub const fn remove(leaf: LeafIndex) -> Self {
        Self(wire::Proposal::Remove(wire::Remove { removed: leaf.0 }))
    }

    /// `psk` (§12.1.4) of the external PSK `psk_id` (given to the group with
    /// [`Group::add_external_psk`](super::Group::add_external_psk)), with a fresh random
    /// `psk_nonce` of `KDF.Nh` bytes of `suite` (§8.4).
    ///
    /// # Errors
    /// [`Unsupported`](crate::error::Unsupported) for a suite meetkey does not implement;
    /// an error of `rng`.
    pub fn external_psk(suite: CipherSuite, psk_id: &[u8], rng: &mut impl Rng) -> Result<Self> {
        let psk = Psk::External {
            psk_id: psk_id.to_vec(),
        };
        Self::psk(suite, psk, rng)
    }

    /// `psk` (§12.1.4) of the resumption PSK of `epoch` of group `group_id`, usage
    /// `application` (§8.6), with a fresh random `psk_nonce` of `KDF.Nh` bytes of `suite`.
    ///
    /// # Errors
    /// As [`Proposal::external_psk`].
    pub fn resumption_psk(
        suite: CipherSuite,
        group_id: &[u8],
        epoch: u64,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let psk = Psk::Resumption {
            usage: wire::ResumptionPskUsage::Application,
            psk_group_id: group_id.to_vec(),
            psk_epoch: epoch,
        };
        Self::psk(suite, psk, rng)
    }

    fn psk(suite: CipherSuite, psk: Psk, rng: &mut impl Rng) -> Result<Self> {
        let nonce = Secret::random(suite.suite()?.hash_len(), rng)?;
        let psk_nonce = nonce.as_bytes().to_vec();
        Ok(Self(wire::Proposal::PreSharedKey(Box::new(
            wire::PreSharedKey {
                psk: PreSharedKeyId { psk, psk_nonce },
            },
        ))))
    }

    /// `reinit` (§12.1.5): close this group, to be continued as group `group_id` on
    /// `suite` with `extensions` (MLS 1.0).
    #[must_use]
    pub fn reinit(group_id: &[u8], suite: CipherSuite, extensions: Vec<Extension>) -> Self {
        Self(wire::Proposal::ReInit(Box::new(wire::ReInit {
            group_id: group_id.to_vec(),
            version: ProtocolVersion::MLS10,
            cipher_suite: suite,
            extensions,
        })))
    }

    /// `group_context_extensions` (§12.1.7): replace the group's extensions with
    /// `extensions`.
    #[must_use]
    pub const fn group_context_extensions(extensions: Vec<Extension>) -> Self {
        Self(wire::Proposal::GroupContextExtensions(
            wire::GroupContextExtensions { extensions },
        ))
    }

    /// An `external_init` with `kem_output` (§12.1.6), for adversary tests only: honest
    /// joiners get theirs from [`Group::join_external`](super::Group::join_external).
    #[cfg(feature = "adversary")]
    #[doc(hidden)]
    #[must_use]
    pub const fn forge_external_init(kem_output: Vec<u8>) -> Self {
        Self(wire::Proposal::ExternalInit(wire::ExternalInit {
            kem_output,
        }))
    }

    /// Decodes a `Proposal` (RFC 9420 §12.1); every byte of `bytes` must belong to it.
    ///
    /// # Errors
    /// [`Error::InvalidMessage`](crate::error::Error::InvalidMessage) or
    /// [`Unsupported::ProposalType`](crate::error::Unsupported::ProposalType) when `bytes`
    /// does not encode one proposal meetkey implements.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        <wire::Proposal as crate::codec::Decode>::decode_exact(bytes).map(Self)
    }

    /// Its encoding.
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// vector inside is longer than an MLS varint can describe.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        crate::codec::Encode::to_bytes(&self.0)
    }
}
