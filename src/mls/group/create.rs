//! Creating a one-member group (RFC 9420 §11).

use std::collections::HashMap;

use crate::codec::Encode;
use crate::crypto::Rng;
use crate::error::Result;
use crate::mls::key_schedule::{CommitSecret, InitSecret, PskSecret};
use crate::mls::transcript;
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::{RatchetTree, TreePrivateKeys};
use crate::mls::wire::{Extension, GroupContext, ProtocolVersion};

use super::epoch::{NextEpoch, PastEpochs};
use super::{Group, GroupConfig, KeyPackageBundle};

impl Group {
    /// Creates a group whose only member is the owner of `bundle`, at epoch 0.
    ///
    /// ```text
    /// init_secret = random; commit_secret = psk_secret = 0; confirmed_transcript_hash = ""
    /// interim_transcript_hash = Hash("" || confirmation_tag)
    /// ```
    ///
    /// `extensions` become the GroupContext extensions; an `external_senders` extension
    /// there (built with [`ExternalSender::extension`](crate::mls::wire::ExternalSender::extension))
    /// lets its entries send proposals to the group (RFC 9420 §12.1.8).
    ///
    /// # Errors
    /// For an `external_senders` extension that does not decode, holds an invalid signature
    /// key, or a credential the configured validator rejects
    /// ([`PeerMisbehaved::CredentialRejected`](crate::error::PeerMisbehaved::CredentialRejected),
    /// RFC 9420 §5.3.1); on an encoding overflow of absurd extensions.
    pub fn create(
        config: GroupConfig,
        bundle: KeyPackageBundle,
        group_id: &[u8],
        extensions: Vec<Extension>,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let suite = bundle.key_package.cipher_suite.suite()?;
        crate::mls::validate::external_senders(&extensions, &*config.credentials)?;
        let KeyPackageBundle {
            key_package,
            leaf_key,
            signer,
            ..
        } = bundle;
        let tree = RatchetTree::new(suite, key_package.leaf_node)?;
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: suite.id(),
            group_id: group_id.to_vec(),
            epoch: 0,
            tree_hash: tree.root_hash().as_bytes().to_vec(),
            confirmed_transcript_hash: Vec::new(),
            extensions,
        };
        let ctx = context.to_bytes()?;
        // RFC 9420 §11: a fresh init secret, no commit secret, no PSK.
        let (next, _) = NextEpoch::from_init(
            &suite,
            &InitSecret::random(&suite, rng)?,
            &CommitSecret::zero(&suite)?,
            &PskSecret::zero(&suite)?,
            &ctx,
        )?;
        let epoch = next.keys(&suite, &ctx, tree.size(), config.ratchet)?;
        let tag = epoch.confirmation_key.confirmation_tag(&suite, &[]);
        let interim = transcript::interim_transcript_hash(&suite, &[], &tag)?;
        let own_leaf = LeafIndex(0);
        Ok(Self {
            suite,
            config,
            context,
            tree,
            own_leaf,
            signer,
            keys: TreePrivateKeys::new(own_leaf, leaf_key),
            epoch,
            interim_transcript_hash: interim.as_bytes().to_vec(),
            confirmation_tag: tag.as_bytes().to_vec(),
            proposals: Vec::new(),
            pending_commit: None,
            past: PastEpochs::default(),
            signature_keys: HashMap::new(),
            external_psks: HashMap::new(),
            resumption_psks: Vec::new(),
            active: true,
            reinitialized: false,
        })
    }
}
