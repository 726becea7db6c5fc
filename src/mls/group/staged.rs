//! A validated commit that has not changed the group yet, and merging it (RFC 9420 §12.4.2:
//! the group moves to the new epoch only once the whole commit was accepted).

use std::collections::HashMap;

use crate::crypto::{HpkePrivateKey, Secret};
use crate::error::{ApiMisuse, Result, Stale};
use crate::mls::key_schedule::PskSecret;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::{PathSecret, TreeChanges};
use crate::mls::wire::{Extension, GroupContext, ReInit, Sender};

use super::epoch::{EpochKeys, NextEpoch, PastEpoch};
use super::Group;

/// A validated commit that has not changed the group yet.
#[derive(Debug)]
pub struct StagedCommit {
    pub(super) base_epoch: u64,
    pub(super) sender: Sender,
    pub(super) committer: LeafIndex,
    pub(super) changes: TreeChanges,
    pub(super) context: GroupContext,
    /// `None` when this member is removed by the commit (it cannot derive the new epoch).
    pub(super) keys: Option<EpochKeys>,
    pub(super) confirmation_tag: Vec<u8>,
    pub(super) interim_transcript_hash: Vec<u8>,
    pub(super) new_private_keys: Vec<(NodeIndex, HpkePrivateKey)>,
    pub(super) added: Vec<LeafIndex>,
    pub(super) removed: Vec<LeafIndex>,
    pub(super) updated: Vec<LeafIndex>,
    pub(super) reinit: Option<ReInit>,
    /// For an external commit that replaces the joiner's own previous leaf: that leaf.
    pub(super) rejoin_of: Option<LeafIndex>,
    /// For our own commit: what a saved state needs to stage it again after a restart.
    pub(super) own_source: Option<OwnCommitSource>,
}

/// Our own commit as a saved state keeps it: its signed content (with the confirmation tag)
/// and the `path_secret[0]` of its UpdatePath. [`Group::from_bytes`] stages it again from
/// these, exactly as a receiver would, with our path keys derived instead of decrypted.
#[derive(Debug)]
pub(super) struct OwnCommitSource {
    /// The encoded `AuthenticatedContent` of the commit.
    pub(super) auth: Vec<u8>,
    /// `path_secret[0]`, for a commit with a path.
    pub(super) leaf_secret: Option<PathSecret>,
}

impl StagedCommit {
    /// `MLS-Exporter(label, context, length)` of the staged epoch, before it is merged (a
    /// meeting stages its media keys with it).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] above 64 bytes; [`ApiMisuse::NotAMember`] when the
    /// commit removes us.
    pub(crate) fn export_secret(
        &self,
        suite: &crate::crypto::Suite,
        label: &[u8],
        context: &[u8],
        length: usize,
    ) -> Result<Secret> {
        if length > super::MAX_EXPORT_LEN {
            return Err(ApiMisuse::InvalidLength.into());
        }
        self.keys
            .as_ref()
            .ok_or(ApiMisuse::NotAMember)?
            .exporter
            .export(suite, label, context, length)
    }

    /// The GroupContext of the new epoch, to inspect before merging.
    #[must_use]
    pub(crate) const fn new_context(&self) -> &GroupContext {
        &self.context
    }

    /// The GroupContext extensions of the new epoch, to inspect before merging.
    #[must_use]
    pub fn new_extensions(&self) -> &[Extension] {
        &self.context.extensions
    }

    /// The epoch the commit moves the group to.
    #[must_use]
    pub const fn new_epoch(&self) -> u64 {
        self.context.epoch
    }

    /// Who committed.
    #[must_use]
    pub const fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The committer's leaf (for an external commit, the joiner's new leaf).
    #[must_use]
    pub const fn committer(&self) -> LeafIndex {
        self.committer
    }

    /// Leaves of members the commit adds.
    #[must_use]
    pub fn added(&self) -> &[LeafIndex] {
        &self.added
    }

    /// Leaves of members the commit removes.
    #[must_use]
    pub fn removed(&self) -> &[LeafIndex] {
        &self.removed
    }

    /// Leaves replaced by Update proposals.
    #[must_use]
    pub fn updated(&self) -> &[LeafIndex] {
        &self.updated
    }

    /// Whether the commit removes this member.
    #[must_use]
    pub const fn removes_us(&self) -> bool {
        self.keys.is_none()
    }

    /// If the commit carries a ReInit (RFC 9420 §12.1.5): the new group's id, cipher suite
    /// and extensions.
    #[must_use]
    pub fn reinit(&self) -> Option<(&[u8], crate::CipherSuite, &[Extension])> {
        self.reinit.as_ref().map(|r| {
            (
                r.group_id.as_slice(),
                r.cipher_suite,
                r.extensions.as_slice(),
            )
        })
    }

    /// For an external commit that replaced the joiner's own previous leaf (a "resync",
    /// RFC 9420 §12.4.3.2): the leaf it replaced.
    #[must_use]
    pub const fn rejoin_of(&self) -> Option<LeafIndex> {
        self.rejoin_of
    }
}

impl Group {
    /// Applies a staged commit: the group moves to the new epoch.
    ///
    /// # Errors
    /// [`Stale::CommitForOldEpoch`] if the group is no longer in the epoch the commit was
    /// staged for.
    pub fn merge_staged_commit(&mut self, staged: StagedCommit) -> Result<()> {
        if staged.base_epoch != self.context.epoch {
            return Err(Stale::CommitForOldEpoch.into());
        }

        let StagedCommit {
            changes,
            context,
            keys,
            confirmation_tag,
            interim_transcript_hash,
            new_private_keys,
            reinit,
            ..
        } = staged;
        // Keep what late application messages of the epoch we leave need.
        let changed_leaves: Vec<LeafIndex> = changes
            .changed_nodes()
            .filter_map(NodeIndex::leaf)
            .collect();
        let replaced: HashMap<LeafIndex, Vec<u8>> = changed_leaves
            .iter()
            .filter_map(|l| {
                self.tree
                    .leaf(*l)
                    .map(|leaf| (*l, leaf.signature_key.clone()))
            })
            .collect();
        self.keys.apply(&self.tree, &changes, new_private_keys);
        self.tree.merge(changes)?;
        for l in &changed_leaves {
            self.signature_keys.remove(l);
        }
        self.signature_keys
            .retain(|l, _| self.tree.leaf(*l).is_some());
        let Some(keys) = keys else {
            // Removed: none of the group's secrets stays with us (the epoch's keys give way
            // to keys derived from a public all-zero secret, worthless to anyone).
            self.active = false;
            self.context = context;
            self.forget_secrets()?;
            return Ok(());
        };
        let old = core::mem::replace(&mut self.epoch, keys);
        self.remember_resumption_psk(self.context.epoch, old.resumption_psk.0.duplicate());
        self.past.push(
            PastEpoch {
                epoch: self.context.epoch,
                context: self.context.clone(),
                sender_data: old.sender_data,
                secret_tree: old.secret_tree,
                replaced_keys: replaced,
            },
            self.config.max_past_epochs,
        );
        self.context = context;
        self.interim_transcript_hash = interim_transcript_hash;
        self.confirmation_tag = confirmation_tag;
        self.proposals.clear();
        self.pending_commit = None;
        self.reinitialized = reinit.is_some();
        Ok(())
    }

    /// Drops every secret of the group once we are removed: the epoch keys are replaced by
    /// keys derived from an all-zero secret, past epochs and PSKs are deleted (each
    /// secret zeroizes itself on drop).
    fn forget_secrets(&mut self) -> Result<()> {
        let zero = Secret::zero(self.suite.hash_len())?;
        self.epoch = NextEpoch::from_joiner(&self.suite, &zero, &PskSecret::zero(&self.suite)?)
            .keys(
                &self.suite,
                b"meetkey removed",
                self.tree.size(),
                self.config.ratchet,
            )?;
        self.past = super::epoch::PastEpochs::default();
        self.external_psks.clear();
        self.resumption_psks.clear();
        self.proposals.clear();
        self.pending_commit = None;
        Ok(())
    }

    fn remember_resumption_psk(&mut self, epoch: u64, psk: Secret) {
        self.resumption_psks.push((epoch, psk));
        let keep = self.config.max_past_epochs + 1;
        if self.resumption_psks.len() > keep {
            self.resumption_psks.remove(0);
        }
    }
}
