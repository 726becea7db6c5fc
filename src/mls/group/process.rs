//! Processing received messages (RFC 9420 §6, §12.4.2): application data, proposals, and
//! commits staged for a later merge.

use std::collections::HashMap;

use crate::codec::Encode;
use crate::crypto::{HpkePrivateKey, Mac, Secret, SignaturePublicKey};
use crate::error::{ApiMisuse, Error, PeerMisbehaved, Result, Stale};
use crate::mls::framing;
use crate::mls::key_schedule::{CommitSecret, InitSecret, PskInput, PskSecret};
use crate::mls::transcript;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::{treekem, PathSecret, TreeChanges, TreeDiff};
use crate::mls::validate::{self, GroupParams, LeafContext};
use crate::mls::wire::{
    AuthenticatedContent, Commit, ContentType, Extension, ExternalSender, FramedContentBody,
    GroupContext, MlsMessage, MlsMessageBody, PreSharedKeyId, Proposal, ProposalOrRef, Psk, ReInit,
    Sender, UpdatePath, WireFormat,
};

use super::apply::{self, Applied};
use super::epoch::{EpochKeys, NextEpoch, PastEpoch};
use super::Group;

/// The HPKE export label of an external commit's init secret (RFC 9420 §8.3).
pub(super) const EXTERNAL_INIT_LABEL: &[u8] = b"MLS 1.0 external init secret";

/// What a processed message turned out to be.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessedMessage {
    /// Application data from a member (decrypted and authenticated).
    Application {
        /// The sender's leaf.
        sender: LeafIndex,
        /// The epoch it was sent in (may be a retained past epoch).
        epoch: u64,
        /// The application data.
        data: Vec<u8>,
        /// The sender's `authenticated_data`.
        authenticated_data: Vec<u8>,
    },
    /// A proposal, validated and now stored for the next commit.
    Proposal {
        /// Who proposed it.
        sender: Sender,
        /// The proposal.
        proposal: Box<crate::mls::Proposal>,
        /// Its ProposalRef, for [`Group::admit_proposal`].
        reference: Vec<u8>,
        /// Whether our next commit includes it without the application admitting it (a
        /// member's leave request or Update).
        admitted: bool,
    },
    /// A commit, staged: inspect it, then [`Group::merge_staged_commit`] it or drop it.
    Commit(Box<StagedCommit>),
}

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
    /// Processes a message from the delivery service.
    ///
    /// # Errors
    /// [`Stale::PastEpoch`] / [`Stale::FutureEpoch`] for an earlier / a later epoch; [`PeerMisbehaved::WrongGroup`] for another
    /// group; [`Error::AuthenticationFailed`] when a tag, MAC or signature does not verify;
    /// the detailed [`PeerMisbehaved`] rule a commit breaks. A proposal from an `external`
    /// sender (RFC 9420 §12.1.8) fails with [`PeerMisbehaved::NoExternalSenders`] when the
    /// group has no `external_senders` extension, [`PeerMisbehaved::UnknownExternalSender`]
    /// for a `sender_index` outside it, [`PeerMisbehaved::ExternalProposalType`] for an
    /// Update or ExternalInit, [`PeerMisbehaved::MembershipTagPresence`] with a membership
    /// tag, and [`PeerMisbehaved::UnexpectedContentType`] for a commit or application data.
    /// On error the group is unchanged.
    pub fn process_message(&mut self, message: &MlsMessage) -> Result<ProcessedMessage> {
        self.check_usable()?;
        match &message.body {
            MlsMessageBody::PublicMessage(pm) => {
                self.check_group_and_epoch(&pm.content.group_id, pm.content.epoch)?;
                let membership = matches!(pm.content.sender, Sender::Member(_))
                    .then_some(&self.epoch.membership_key);
                let auth = framing::unprotect_public(&self.suite, pm, membership, &self.context)?;
                self.handle(auth)
            }
            MlsMessageBody::PrivateMessage(pm) => {
                if pm.group_id != self.context.group_id {
                    return Err(PeerMisbehaved::WrongGroup.into());
                }
                if pm.epoch == self.context.epoch {
                    // Opening stages the secret tree's change; it is committed (the key
                    // deleted) only once the whole message was accepted.
                    let opened = framing::decrypt_private(
                        &self.suite,
                        pm,
                        &self.epoch.secret_tree,
                        &self.epoch.sender_data,
                        &self.context,
                    )?;
                    let processed = self.handle(opened.content)?;
                    self.epoch.secret_tree.commit_open(opened.staged);
                    Ok(processed)
                } else if pm.epoch > self.context.epoch {
                    Err(Stale::FutureEpoch.into())
                } else if pm.content_type == ContentType::Application {
                    self.process_past_application(pm)
                } else {
                    Err(Stale::PastEpoch.into())
                }
            }
            _ => Err(PeerMisbehaved::UnexpectedContentType.into()),
        }
    }

    fn check_group_and_epoch(&self, group_id: &[u8], epoch: u64) -> Result<()> {
        if group_id != self.context.group_id {
            return Err(PeerMisbehaved::WrongGroup.into());
        }
        if epoch < self.context.epoch {
            return Err(Stale::PastEpoch.into());
        }
        if epoch > self.context.epoch {
            return Err(Stale::FutureEpoch.into());
        }
        Ok(())
    }

    fn handle(&mut self, auth: AuthenticatedContent) -> Result<ProcessedMessage> {
        // A proposal waits in the store for a commit (or the application): bound its size
        // before spending a signature check over it.
        if let FramedContentBody::Proposal(p) = &auth.content.body {
            if p.to_bytes()?.len() > self.config.limits.max_proposal_size {
                return Err(PeerMisbehaved::LimitExceeded.into());
            }
        }
        let key = self.sender_key(&auth)?;
        let auth = framing::verify_content(&self.suite, &key, auth, &self.context)?;
        match &auth.content.body {
            FramedContentBody::Application(data) => {
                let Sender::Member(leaf) = auth.content.sender else {
                    return Err(PeerMisbehaved::UnexpectedContentType.into());
                };
                Ok(ProcessedMessage::Application {
                    sender: LeafIndex(leaf),
                    epoch: auth.content.epoch,
                    data: data.clone(),
                    authenticated_data: auth.content.authenticated_data.clone(),
                })
            }
            FramedContentBody::Proposal(proposal) => {
                if matches!(auth.content.sender, Sender::NewMemberCommit) {
                    return Err(PeerMisbehaved::UnexpectedContentType.into());
                }
                let reference = framing::proposal_ref(&self.suite, &auth)?;
                self.store_proposal(reference.clone(), proposal, auth.content.sender)?;
                let admitted = self
                    .pending_proposals()
                    .any(|p| p.reference == reference.as_slice() && p.admitted);
                Ok(ProcessedMessage::Proposal {
                    sender: auth.content.sender,
                    proposal: Box::new(crate::mls::Proposal(proposal.clone())),
                    reference,
                    admitted,
                })
            }
            FramedContentBody::Commit(commit) => {
                if auth.content.sender == Sender::Member(self.own_leaf.0) {
                    return Err(ApiMisuse::OwnCommit.into());
                }
                let staged = self.stage_commit(&auth, commit, None)?;
                Ok(ProcessedMessage::Commit(Box::new(staged)))
            }
        }
    }

    /// The signature key of a message's sender (RFC 9420 §6.1).
    fn sender_key(&mut self, auth: &AuthenticatedContent) -> Result<SignaturePublicKey> {
        match (&auth.content.sender, &auth.content.body) {
            (Sender::Member(leaf), _) => self.signature_key(LeafIndex(*leaf)),
            (Sender::NewMemberCommit, FramedContentBody::Commit(c)) => {
                let path = c
                    .path
                    .as_ref()
                    .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
                SignaturePublicKey::from_bytes(&path.leaf_node.signature_key)
            }
            (Sender::NewMemberProposal, FramedContentBody::Proposal(Proposal::Add(add))) => {
                SignaturePublicKey::from_bytes(&add.key_package.leaf_node.signature_key)
            }
            (Sender::External(index), FramedContentBody::Proposal(proposal)) => {
                self.external_sender_key(*index, auth, proposal)
            }
            // Framing (§6.1) lets no other sender type send other content.
            _ => Err(PeerMisbehaved::UnexpectedContentType.into()),
        }
    }

    /// The signature key of `external(index)` for a proposal (RFC 9420 §6.1, §12.1.8): the
    /// proposal type must be one external senders may send, the message a PublicMessage
    /// (the sender has no keys for a PrivateMessage), and `index` an entry of the group's
    /// `external_senders` extension (validated when it entered the group).
    fn external_sender_key(
        &self,
        index: u32,
        auth: &AuthenticatedContent,
        proposal: &Proposal,
    ) -> Result<SignaturePublicKey> {
        if !validate::external_sender_may_propose(proposal.proposal_type()) {
            return Err(PeerMisbehaved::ExternalProposalType.into());
        }
        if auth.wire_format != WireFormat::MLS_PUBLIC_MESSAGE {
            return Err(PeerMisbehaved::UnexpectedContentType.into());
        }
        let senders = ExternalSender::from_extensions(&self.context.extensions)?
            .ok_or(PeerMisbehaved::NoExternalSenders)?;
        let sender = usize::try_from(index)
            .ok()
            .and_then(|i| senders.get(i))
            .ok_or(PeerMisbehaved::UnknownExternalSender)?;
        SignaturePublicKey::from_bytes(&sender.signature_key)
    }

    /// An application message of a retained past epoch.
    fn process_past_application(
        &mut self,
        pm: &crate::mls::wire::PrivateMessage,
    ) -> Result<ProcessedMessage> {
        let past = self.past.get(pm.epoch)?;
        let opened = framing::decrypt_private(
            &self.suite,
            pm,
            &past.secret_tree,
            &past.sender_data,
            &past.context,
        )?;
        let leaf = LeafIndex(opened.sender_data.leaf_index);
        // Only the leaves a later commit changed have other keys than the current tree's.
        let key_bytes = past
            .replaced_keys
            .get(&leaf)
            .cloned()
            .or_else(|| self.past.keys_after(pm.epoch).get(&leaf).cloned())
            .or_else(|| self.tree.leaf(leaf).map(|l| l.signature_key.clone()))
            .ok_or(PeerMisbehaved::UnknownSender)?;
        let key = SignaturePublicKey::from_bytes(&key_bytes)?;
        let auth = framing::verify_content(&self.suite, &key, opened.content, &past.context)?
            .into_content();
        let FramedContentBody::Application(data) = auth.content.body else {
            return Err(Stale::PastEpoch.into());
        };
        self.past
            .get_mut(pm.epoch)?
            .secret_tree
            .commit_open(opened.staged);
        Ok(ProcessedMessage::Application {
            sender: leaf,
            epoch: pm.epoch,
            data,
            authenticated_data: auth.content.authenticated_data,
        })
    }

    /// The group parameters leaves are validated against. (The required capabilities are
    /// filled in per use: see [`Group::check_path_leaf`] and `apply_proposals`.)
    pub(super) fn params(&self) -> GroupParams<'_> {
        GroupParams {
            suite: &self.suite,
            required_extensions: &[],
            required_proposals: &[],
            required_credentials: &[],
            credentials: &*self.config.credentials,
            max_key_package_lifetime: self.config.limits.max_key_package_lifetime,
        }
    }

    /// Resolves the proposals of a commit: by value from the committer, by reference from
    /// this epoch's store.
    fn resolve(&self, commit: &Commit, committer: &Sender) -> Result<Vec<(Proposal, Sender)>> {
        commit
            .proposals
            .iter()
            .map(|p| match p {
                ProposalOrRef::Proposal(p) => Ok((p.clone(), *committer)),
                ProposalOrRef::Reference(r) => self
                    .proposals
                    .iter()
                    .find(|pp| &pp.reference == r)
                    .map(|pp| (pp.proposal.0.clone(), pp.sender))
                    .ok_or_else(|| PeerMisbehaved::UnknownProposalRef.into()),
            })
            .collect()
    }

    /// The PSK secret of `psks`, looked up in this group's stores (RFC 9420 §8.4).
    pub(super) fn psk_secret(&self, psks: &[PreSharedKeyId]) -> Result<PskSecret> {
        psk_secret_from(
            &self.suite,
            psks,
            &self.external_psks,
            &self.context.group_id,
            &self.resumption_psks,
        )
    }

    /// Validates a commit and derives the next epoch without changing the group
    /// (RFC 9420 §12.4.2).
    ///
    /// `own_leaf_secret` is given only to stage our own commit again from a saved state: the
    /// `path_secret[0]` of its UpdatePath, from which our new path keys are derived (we
    /// cannot decrypt our own path).
    pub(super) fn stage_commit(
        &self,
        auth: &framing::VerifiedContent,
        commit: &Commit,
        own_leaf_secret: Option<&PathSecret>,
    ) -> Result<StagedCommit> {
        let suite = self.suite;
        let sender = auth.content.sender;
        let next_epoch = self.next_epoch()?;
        let external = matches!(sender, Sender::NewMemberCommit);
        self.check_commit_shape(commit, external)?;
        let proposals = self.resolve(commit, &sender)?;
        let mut diff = TreeDiff::new(&self.tree);
        let params = self.params();
        let applied: Applied = apply::apply_proposals(
            &mut diff,
            &self.context,
            Some(&sender),
            &proposals,
            &params,
            &self.config,
        )?;
        if applied.path_required && commit.path.is_none() {
            return Err(PeerMisbehaved::MissingPath.into());
        }
        let committer = committer_of(&sender, commit, &mut diff)?;
        let rejoin_of = if external {
            self.check_rejoin(commit, &applied)?
        } else {
            None
        };
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        let added: Vec<LeafIndex> = applied.added.iter().map(|(l, _)| *l).collect();
        let removed_us = applied.removed.contains(&self.own_leaf);

        let (commit_secret, new_private_keys) = match &commit.path {
            None => (CommitSecret::zero(&suite)?, Vec::new()),
            Some(path) => {
                let to = PathReceipt {
                    committer,
                    sender: &sender,
                    extensions: &extensions,
                    next_epoch,
                    added: &added,
                    removed_us,
                    own_leaf_secret,
                };
                self.receive_path(&mut diff, path, &to)?
            }
        };
        // The application's rules, exactly as the committer ran them before sending.
        self.config.rules.check_commit(&super::rules::CommitCheck {
            context: &self.context,
            tree: &self.tree,
            sender: &sender,
            committer,
            path_leaf: commit.path.as_ref().map(|p| &p.leaf_node),
            proposals: &proposals,
            new_extensions: &extensions,
            removed: &applied.removed,
            rejoin_of,
        })?;

        let external_init = self.external_init_secret(&applied)?;
        let init = external_init.as_ref().unwrap_or(&self.epoch.init_next);
        let psk_secret = self.psk_secret(&applied.psks)?;
        let context = self.next_context(auth, next_epoch, &mut diff, extensions)?;
        let tag_bytes = auth
            .auth
            .confirmation_tag
            .as_deref()
            .ok_or(PeerMisbehaved::UnexpectedContentType)?;
        let tag = Mac::from_slice(tag_bytes).map_err(|_| Error::AuthenticationFailed)?;
        let (keys, interim) = if removed_us {
            (None, Vec::new())
        } else {
            let ctx = context.to_bytes()?;
            let (next, _) = NextEpoch::from_init(&suite, init, &commit_secret, &psk_secret, &ctx)?;
            let keys = next.keys(&suite, &ctx, diff.size(), self.config.ratchet)?;
            // §12.4.2: the confirmation tag proves the committer derived the same epoch.
            keys.confirmation_key
                .verify(&suite, &context.confirmed_transcript_hash, &tag)?;
            let interim = transcript::interim_transcript_hash(
                &suite,
                &context.confirmed_transcript_hash,
                &tag,
            )?;
            (Some(keys), interim.as_bytes().to_vec())
        };
        Ok(StagedCommit {
            base_epoch: self.context.epoch,
            sender,
            committer,
            changes: diff.into_changes(),
            context,
            keys,
            confirmation_tag: tag.as_bytes().to_vec(),
            interim_transcript_hash: interim,
            new_private_keys,
            added,
            removed: applied.removed,
            updated: applied.updated,
            reinit: applied.reinit,
            rejoin_of,
            own_source: None,
        })
    }

    /// Bounds and §12.4.3.2 on the list before anything is resolved: at most
    /// `max_commit_proposals`, and no proposal by reference in an external commit (the
    /// joiner cannot know which proposals the group holds).
    fn check_commit_shape(&self, commit: &Commit, external: bool) -> Result<()> {
        if commit.proposals.len() > self.config.limits.max_commit_proposals {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }
        let by_reference = |p: &ProposalOrRef| matches!(p, ProposalOrRef::Reference(_));
        if external && commit.proposals.iter().any(by_reference) {
            return Err(PeerMisbehaved::ProposalByReference.into());
        }
        Ok(())
    }

    /// A received UpdatePath (§12.4.2): its leaf checked as the committer checked it, merged
    /// into `diff`, and decrypted (unless the commit removes us). Returns the commit secret
    /// and our new path keys.
    fn receive_path(
        &self,
        diff: &mut TreeDiff<'_>,
        path: &UpdatePath,
        to: &PathReceipt<'_>,
    ) -> Result<(CommitSecret, Vec<(NodeIndex, HpkePrivateKey)>)> {
        self.check_path_leaf(diff, to.committer, to.sender, path, to.extensions, false)?;
        let fdp = treekem::merge_path(diff, to.committer, path)?;
        let provisional = GroupContext {
            epoch: to.next_epoch,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            extensions: to.extensions.to_vec(),
            ..self.context.clone()
        }
        .to_bytes()?;
        if to.removed_us {
            return Ok((CommitSecret::zero(&self.suite)?, Vec::new()));
        }
        if to.committer == self.own_leaf {
            let leaf_secret = to.own_leaf_secret.ok_or(ApiMisuse::OwnCommit)?;
            return treekem::own_path(&self.suite, to.committer, path, &fdp, leaf_secret);
        }
        let d = treekem::decrypt_path(diff, &self.keys, path, &fdp, &provisional, to.added)?;
        Ok((d.commit_secret, d.keys))
    }

    /// §8.3: the `init_secret` an external commit's ExternalInit carries (decapsulated with
    /// this epoch's `external_priv`), or `None` for a member's commit.
    fn external_init_secret(&self, applied: &Applied) -> Result<Option<InitSecret>> {
        let Some(kem_output) = &applied.external_init else {
            return Ok(None);
        };
        let suite = self.suite;
        let (external_priv, _) = self.epoch.external.key_pair(&suite)?;
        let ctx = crate::crypto::hpke::setup_receiver(
            suite.hpke_aead(),
            crate::crypto::hpke::ReceiverMode::Base,
            kem_output,
            &external_priv,
            &[],
        )?;
        Ok(Some(InitSecret(
            ctx.export(EXTERNAL_INIT_LABEL, suite.hash_len())?,
        )))
    }

    /// RFC 9420 §12.2, §12.4.3.2: the Remove of an external commit removes the joiner's
    /// own previous leaf. The new leaf must meet an Update's criteria for it (§12.1.2: the
    /// same client for the application, a new encryption key) and keep its signature key,
    /// unless the application's validator approves the change. Returns that leaf.
    fn check_rejoin(&self, commit: &Commit, applied: &Applied) -> Result<Option<LeafIndex>> {
        let [old_leaf] = applied.removed.as_slice() else {
            return Ok(None);
        };
        let path = commit
            .path
            .as_ref()
            .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
        let new = &path.leaf_node;
        let old = self
            .tree
            .leaf(*old_leaf)
            .ok_or(PeerMisbehaved::InvalidProposalList)?;
        let credentials = &self.config.credentials;
        if !credentials.same_client(&old.credential, &new.credential)
            || old.encryption_key == new.encryption_key
            || (old.signature_key != new.signature_key
                && !credentials.approve_signature_key_change(old, new))
        {
            return Err(PeerMisbehaved::RejoinMismatch.into());
        }
        Ok(Some(*old_leaf))
    }

    /// RFC 9420 §12.4.2: the path's leaf is a valid `commit` leaf of the committer (§7.3,
    /// including the required capabilities of the new epoch's extensions), with a new
    /// encryption key, the same client as before, and none of the path's keys — nor its
    /// signature key — already in the tree elsewhere. Run by receivers and, on its own
    /// commit, by the committer.
    pub(super) fn check_path_leaf(
        &self,
        diff: &TreeDiff<'_>,
        committer: LeafIndex,
        sender: &Sender,
        path: &UpdatePath,
        new_extensions: &[Extension],
        merged: bool,
    ) -> Result<()> {
        let leaf = &path.leaf_node;
        let (exts, props, creds) = validate::required_capabilities(new_extensions)?;
        let params = GroupParams {
            required_extensions: &exts,
            required_proposals: &props,
            required_credentials: &creds,
            ..self.params()
        };
        validate::validate_leaf_node(
            leaf,
            LeafContext::Commit {
                group_id: &self.context.group_id,
                leaf_index: committer.0,
            },
            &params,
        )?;
        if let (Sender::Member(_), Some(old)) = (sender, self.tree.leaf(committer)) {
            if old.encryption_key == leaf.encryption_key {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
            if !self
                .config
                .credentials
                .same_client(&old.credential, &leaf.credential)
            {
                return Err(PeerMisbehaved::CredentialRejected.into());
            }
        }
        // §7.3: the signature key is unique in the tree (another leaf holding it would be
        // the same client twice).
        if diff
            .find_signature_key(&leaf.signature_key)
            .is_some_and(|l| l != committer)
        {
            return Err(PeerMisbehaved::DuplicateKey.into());
        }
        // §7.3: the leaf's credential type is supported by every (other) member of the
        // epoch, and the leaf supports every credential type they use.
        validate::CredentialTypes::of(
            self.tree
                .leaves()
                .filter(|(l, _)| *l != committer)
                .map(|(_, l)| l),
        )
        .check(leaf)?;
        // §12.4.2: none of the path's keys appears in any node of the new tree (the tree
        // after the proposals, before the path is merged); each is a valid HPKE key. The
        // committer's leaf is exempt (its old key was compared above; an external joiner's
        // new leaf is already in place). The committer checks its own commit after merging
        // its path (`merged`): there its direct path holds these very keys.
        let mut replaced: Vec<NodeIndex> = vec![committer.node()];
        if merged {
            replaced.extend(diff.size().direct_path(committer.node())?);
        }
        let keys = core::iter::once(&leaf.encryption_key)
            .chain(path.nodes.iter().map(|n| &n.encryption_key));
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            crate::crypto::HpkePublicKey::validated(k)?;
            let clash = diff
                .find_encryption_key(k)
                .is_some_and(|n| !replaced.contains(&n));
            if clash || !seen.insert(k.as_slice()) {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
        }
        Ok(())
    }

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

/// The PSK secret of `psks` (RFC 9420 §8.4), from external PSKs by id and the resumption
/// PSKs of `group_id` by epoch.
///
/// # Errors
/// [`PeerMisbehaved::PskNotFound`] when one is not available.
pub(super) fn psk_secret_from(
    suite: &crate::crypto::Suite,
    psks: &[PreSharedKeyId],
    external: &HashMap<Vec<u8>, Secret>,
    group_id: &[u8],
    resumption: &[(u64, Secret)],
) -> Result<PskSecret> {
    let values: Vec<&Secret> = psks
        .iter()
        .map(|id| match &id.psk {
            Psk::External { psk_id } => external.get(psk_id).ok_or(PeerMisbehaved::PskNotFound),
            Psk::Resumption {
                psk_group_id,
                psk_epoch,
                ..
            } => {
                if psk_group_id != group_id {
                    return Err(PeerMisbehaved::PskNotFound);
                }
                resumption
                    .iter()
                    .find(|(e, _)| e == psk_epoch)
                    .map(|(_, s)| s)
                    .ok_or(PeerMisbehaved::PskNotFound)
            }
        })
        .collect::<core::result::Result<_, _>>()?;
    let inputs: Vec<PskInput<'_>> = psks
        .iter()
        .zip(values)
        .map(|(id, psk)| PskInput { id, psk })
        .collect();
    PskSecret::from_psks(suite, &inputs)
}

/// The committer's leaf: a member's own, or the leaf an external commit's path adds.
fn committer_of(sender: &Sender, commit: &Commit, diff: &mut TreeDiff<'_>) -> Result<LeafIndex> {
    match sender {
        Sender::Member(l) => Ok(LeafIndex(*l)),
        Sender::NewMemberCommit => {
            let path = commit
                .path
                .as_ref()
                .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
            diff.add_leaf(path.leaf_node.clone())
        }
        // §6.1: only members and new members commit (framing already refused others).
        _ => Err(PeerMisbehaved::UnexpectedContentType.into()),
    }
}

/// Who sent a path and what it is checked and decrypted against.
struct PathReceipt<'a> {
    committer: LeafIndex,
    sender: &'a Sender,
    extensions: &'a [Extension],
    next_epoch: u64,
    added: &'a [LeafIndex],
    removed_us: bool,
    /// Our own `path_secret[0]` when we stage our own commit again (a restore).
    own_leaf_secret: Option<&'a PathSecret>,
}
