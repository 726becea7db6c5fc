//! Processing received messages (RFC 9420 §6, §12.4.2): application data, proposals, and
//! commits staged for a later merge.

use crate::codec::Encode;
use crate::crypto::SignaturePublicKey;
use crate::error::{ApiMisuse, PeerMisbehaved, Result, Stale};
use crate::mls::framing;
use crate::mls::tree::math::LeafIndex;
use crate::mls::validate::{self};
use crate::mls::wire::{
    AuthenticatedContent, ContentType, ExternalSender, FramedContentBody, MlsMessage,
    MlsMessageBody, Proposal, Sender, WireFormat,
};

use super::Group;

pub(super) use super::stage::{psk_secret_from, EXTERNAL_INIT_LABEL};
pub(super) use super::staged::OwnCommitSource;
pub use super::staged::StagedCommit;

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

impl Group {
    /// Processes a message from the delivery service.
    ///
    /// # Errors
    /// [`Stale::PastEpoch`] / [`Stale::FutureEpoch`] for an earlier / a later epoch; [`PeerMisbehaved::WrongGroup`] for another
    /// group; [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when a tag, MAC or signature does not verify;
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
}
