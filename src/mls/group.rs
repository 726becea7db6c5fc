//! The MLS group (RFC 9420 §10–§12): the only mutable MLS state.
//!
//! ```text
//!  Group::create ─┐                      ┌─► commit() ──► CommitOutput { commit, welcome, group_info }
//!  join_welcome ──┼─► Group (epoch n) ───┤        └─ pending commit: merge_pending_commit() / discard
//!  join_external ─┘                      └─► process_message(msg) ─► Application | Proposal (stored)
//!                                                                 └─► Commit: StagedCommit ─► merge_staged_commit()
//! ```
//!
//! Every change is staged first: processing a commit builds a [`StagedCommit`] (tree diff,
//! new context, new epoch keys) without touching the group; only a merge changes it. A
//! rejected message leaves the group exactly as it was.

mod apply;
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_support;
mod commit;
mod create;
mod epoch;
mod external;
mod external_join;
#[cfg(feature = "adversary")]
mod forge;
mod invite;
mod join;
mod key_package;
#[cfg(test)]
mod must_tests;
mod persist;
mod process;
mod proposals;
mod rules;
mod send;
mod stage;
mod staged;

use std::collections::HashMap;
use std::sync::Arc;

use crate::crypto::{CipherSuite, Secret, SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::error::{ApiMisuse, Result};

use super::key_schedule::EpochAuthenticator;
use super::secret_tree::RatchetConfig;
use super::tree::math::LeafIndex;
use super::tree::{RatchetTree, TreePrivateKeys};
use super::validate::{AcceptBasicCredentials, CredentialValidator};
use super::wire::{Credential, Extension, GroupContext, Sender};

pub use commit::{CommitOptions, CommitOutput};
pub(crate) use epoch::MAX_EXPORT_LEN;
pub use external::ExternalProposer;
pub use key_package::KeyPackageBundle;
#[cfg(test)]
pub(crate) use persist::STATE_VERSION;
pub use process::{ProcessedMessage, StagedCommit};
pub use proposals::ProposalInfo;
pub(crate) use rules::{CommitCheck, CommitRules, NoCommitRules};

use epoch::{EpochKeys, PastEpochs};

/// Bounds on what untrusted input can make a group store or compute. Every input past a
/// bound is refused with [`PeerMisbehaved::LimitExceeded`] before it is expanded, and the
/// group is unchanged.
///
/// [`PeerMisbehaved::LimitExceeded`]: crate::error::PeerMisbehaved::LimitExceeded
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most leaves a ratchet tree may have (received trees, and trees grown by Adds).
    /// Default 2^16: a 10 000-member meeting fits six times over.
    pub max_leaves: u32,
    /// The most proposals one commit may carry (by value and by reference). Default 2^16.
    pub max_commit_proposals: usize,
    /// The most proposals stored per epoch from members, and again from non-members
    /// (`external` and `new_member_proposal` senders), so that a flood of the latter can
    /// never crowd out a member's leave request. Default 256 each.
    pub max_stored_proposals: usize,
    /// The largest proposal (encoded) stored when received on its own, before its signature
    /// is checked: a join request or an external proposal is held until the application
    /// decides, so it must be small. Default 64 KiB (a KeyPackage is a few hundred bytes).
    pub max_proposal_size: usize,
    /// RFC 9420 §7.2: the longest total lifetime (`not_after − not_before`, seconds) of a
    /// KeyPackage's leaf accepted into the group. Default 91 days (OpenMLS's default
    /// KeyPackages last 12 weeks and an hour). All members of a group must use the same
    /// value: it decides whether a commit adding the KeyPackage is valid.
    pub max_key_package_lifetime: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_leaves: 1 << 16,
            max_commit_proposals: 1 << 16,
            max_stored_proposals: 256,
            max_proposal_size: 64 << 10,
            max_key_package_lifetime: 91 * 24 * 3600,
        }
    }
}

/// How a group behaves; the same for every epoch.
#[derive(Debug, Clone)]
pub struct GroupConfig {
    /// Out-of-order bounds of the secret tree.
    pub ratchet: RatchetConfig,
    /// How many past epochs' application keys to keep so late messages still decrypt.
    pub max_past_epochs: usize,
    /// Pad PrivateMessage content to a multiple of this many bytes (0: no padding).
    pub padding_block: usize,
    /// Send handshake messages as PrivateMessage (true) or PublicMessage (false).
    pub encrypt_handshake: bool,
    /// Put the ratchet tree in Welcome messages and GroupInfo (`ratchet_tree` extension).
    pub ratchet_tree_extension: bool,
    /// The application's credential policy.
    pub credentials: Arc<dyn CredentialValidator>,
    /// The application's rules for commits, run on every commit this member sends and every
    /// commit it receives (the same function both ways, so honest members never disagree).
    // Set by `Meeting` (its governance); hidden until the rule interface is public.
    #[doc(hidden)]
    #[allow(private_interfaces)]
    pub rules: Arc<dyn CommitRules>,
    /// Bounds on untrusted input.
    pub limits: Limits,
    /// The most threads one call may use for its independent public-key work (the HPKE
    /// seals of a commit's path and Welcome, the signature checks of a joined tree and of
    /// added KeyPackages), the calling thread included. `1` switches the internal
    /// parallelism off: no thread is ever spawned (for a C host or a real-time thread that
    /// must not). Default: the machine's parallelism, at most 8. Results are the same for
    /// every value.
    pub max_threads: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        Self {
            ratchet: RatchetConfig::default(),
            max_past_epochs: 3,
            padding_block: 32,
            encrypt_handshake: false,
            ratchet_tree_extension: true,
            credentials: Arc::new(AcceptBasicCredentials),
            rules: Arc::new(NoCommitRules),
            limits: Limits::default(),
            max_threads: crate::parallel::default_threads(),
        }
    }
}

/// A proposal received (or sent) this epoch, kept for commits that include it by reference.
#[derive(Debug, Clone)]
struct PendingProposal {
    reference: Vec<u8>,
    /// Public-wrapped so that [`ProposalInfo`] can lend it out.
    proposal: super::Proposal,
    sender: Sender,
    /// Whether our own commits may include it: our own proposals and the ones the
    /// application admitted ([`Group::admit_proposal`]); a member's leave request and a
    /// member's Update are admitted on receipt. Commits of others may include any.
    admitted: bool,
}

/// One member's view of an MLS group.
#[derive(Debug)]
pub struct Group {
    suite: Suite,
    config: GroupConfig,
    context: GroupContext,
    tree: RatchetTree,
    own_leaf: LeafIndex,
    signer: SignaturePrivateKey,
    keys: TreePrivateKeys,
    epoch: EpochKeys,
    interim_transcript_hash: Vec<u8>,
    /// The confirmation tag of the current epoch (for GroupInfo).
    confirmation_tag: Vec<u8>,
    proposals: Vec<PendingProposal>,
    pending_commit: Option<StagedCommit>,
    past: PastEpochs,
    /// Parsed signature keys of members, by leaf (a cache: parsing costs a decompression).
    signature_keys: HashMap<LeafIndex, SignaturePublicKey>,
    /// External PSKs the application provisioned, by `psk_id`.
    external_psks: HashMap<Vec<u8>, Secret>,
    /// `resumption_psk` of recent epochs, by epoch, for resumption PSKs.
    resumption_psks: Vec<(u64, Secret)>,
    /// False once a commit removed us: the group can no longer send or receive.
    active: bool,
    /// True once a ReInit commit was merged (RFC 9420 §12.1.7): the group is closed.
    reinitialized: bool,
}

impl Group {
    /// The cipher suite's implementation.
    #[must_use]
    pub(crate) const fn suite(&self) -> &Suite {
        &self.suite
    }

    /// The group's cipher suite (RFC 9420 §5.1).
    #[must_use]
    pub const fn cipher_suite(&self) -> CipherSuite {
        self.suite.id()
    }

    /// The group identifier.
    #[must_use]
    pub fn group_id(&self) -> &[u8] {
        &self.context.group_id
    }

    /// The current epoch.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.context.epoch
    }

    /// The current GroupContext.
    #[must_use]
    pub(crate) const fn context(&self) -> &GroupContext {
        &self.context
    }

    /// The GroupContext extensions of the current epoch (RFC 9420 §8.1).
    #[must_use]
    pub fn extensions(&self) -> &[Extension] {
        &self.context.extensions
    }

    /// The public ratchet tree.
    #[must_use]
    pub(crate) const fn tree(&self) -> &RatchetTree {
        &self.tree
    }

    /// The public ratchet tree in its wire form (RFC 9420 §12.4.3.3), for a joiner that
    /// gets the tree out of band.
    #[must_use]
    pub fn ratchet_tree(&self) -> super::wire::RatchetTree {
        self.tree.to_wire()
    }

    /// Our leaf.
    #[must_use]
    pub const fn own_leaf(&self) -> LeafIndex {
        self.own_leaf
    }

    /// The members: leaf index and credential.
    pub fn members(&self) -> impl Iterator<Item = (LeafIndex, &Credential)> + '_ {
        self.tree.leaves().map(|(i, l)| (i, &l.credential))
    }

    /// Whether we are still a member (a commit may have removed us).
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.active
    }

    /// The number of members.
    #[must_use]
    pub fn member_count(&self) -> usize {
        self.tree.leaves().count()
    }

    /// The root tree hash of the current epoch.
    #[must_use]
    #[cfg(any(test, fuzzing))]
    pub(crate) fn tree_hash(&self) -> Vec<u8> {
        self.tree.root_hash().as_bytes().to_vec()
    }

    /// The `epoch_authenticator` of the current epoch (RFC 9420 §8.7): equal at every member
    /// that is not being impersonated.
    /// Not secret from the members: the application may show or compare it.
    #[must_use]
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.epoch.epoch_authenticator.0.as_bytes()
    }

    /// The `epoch_authenticator` as a secret, for derivations inside the crate.
    #[must_use]
    pub(crate) const fn epoch_authenticator_secret(&self) -> &EpochAuthenticator {
        &self.epoch.epoch_authenticator
    }

    /// `MLS-Exporter(label, context, length)` of the current epoch (RFC 9420 §8.5).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] above 64 bytes; [`ApiMisuse::NotAMember`]
    /// once a commit removed us (the epoch's secrets are gone then).
    pub fn export_secret(&self, label: &[u8], context: &[u8], length: usize) -> Result<Secret> {
        if !self.active {
            return Err(ApiMisuse::NotAMember.into());
        }
        if length > MAX_EXPORT_LEN {
            return Err(ApiMisuse::InvalidLength.into());
        }
        self.epoch
            .exporter
            .export(&self.suite, label, context, length)
    }

    /// Makes an external PSK available to commits and Welcomes that name `psk_id`.
    pub fn add_external_psk(&mut self, psk_id: &[u8], psk: Secret) {
        self.external_psks.insert(psk_id.to_vec(), psk);
    }

    /// Whether a commit of ours is waiting for the delivery service's confirmation.
    #[must_use]
    pub const fn has_pending_commit(&self) -> bool {
        self.pending_commit.is_some()
    }

    /// Our pending commit, staged (to inspect before it is merged).
    #[must_use]
    pub(crate) const fn pending_commit(&self) -> Option<&StagedCommit> {
        self.pending_commit.as_ref()
    }

    /// Drops our pending commit (another commit won the epoch, or the send failed).
    pub fn discard_pending_commit(&mut self) {
        self.pending_commit = None;
    }

    /// Merges our pending commit once the delivery service has confirmed it.
    ///
    /// # Errors
    /// [`ApiMisuse::NoPendingCommit`] without one; [`Stale::CommitForOldEpoch`] if the group
    /// moved on meanwhile.
    ///
    /// [`Stale::CommitForOldEpoch`]: crate::error::Stale::CommitForOldEpoch
    pub fn merge_pending_commit(&mut self) -> Result<()> {
        let staged = self
            .pending_commit
            .take()
            .ok_or(ApiMisuse::NoPendingCommit)?;
        self.merge_staged_commit(staged)
    }

    /// Whether the group was closed by a ReInit commit (RFC 9420 §12.1.7); its parameters
    /// are those of the commit that did it.
    #[must_use]
    pub const fn is_reinitialized(&self) -> bool {
        self.reinitialized
    }

    /// Refuses to work with a group we were removed from or that was reinitialized.
    fn check_usable(&self) -> Result<()> {
        if !self.active {
            return Err(ApiMisuse::NotAMember.into());
        }
        if self.reinitialized {
            return Err(crate::error::PeerMisbehaved::GroupReinitialized.into());
        }
        Ok(())
    }

    /// The number of the next epoch.
    fn next_epoch(&self) -> Result<u64> {
        self.context
            .epoch
            .checked_add(1)
            .ok_or_else(|| crate::error::PeerMisbehaved::EpochExhausted.into())
    }

    /// The parsed signature key of member `leaf`.
    fn signature_key(&mut self, leaf: LeafIndex) -> Result<SignaturePublicKey> {
        if let Some(k) = self.signature_keys.get(&leaf) {
            return Ok(*k);
        }
        let bytes = &self
            .tree
            .leaf(leaf)
            .ok_or(crate::error::PeerMisbehaved::UnknownSender)?
            .signature_key;
        let key = SignaturePublicKey::from_bytes(bytes)?;
        self.signature_keys.insert(leaf, key);
        Ok(key)
    }
}
