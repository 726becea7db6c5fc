//! Proposals from outside the group (RFC 9420 §12.1.8): a party listed in the group's
//! `external_senders` extension (e.g. the meeting server) signs proposals that members
//! then commit by reference.

use crate::crypto::{SignaturePrivateKey, Suite};
use crate::error::{ApiMisuse, Result};
use crate::mls::framing;
use crate::mls::validate;
use crate::mls::wire::{
    Credential, ExternalSender, FramedContent, FramedContentBody, GroupContext, MlsMessage,
    MlsMessageBody, Proposal, ProtocolVersion, Sender, WireFormat,
};

/// An external sender: signs proposals as `external(sender_index)` (RFC 9420 §6.1,
/// §12.1.8).
///
/// `sender_index` is the position of this sender's [`ExternalSender`] entry in the
/// `external_senders` extension of the groups it proposes to; members verify its
/// signatures with that entry's key.
#[derive(Debug)]
pub struct ExternalProposer {
    suite: Suite,
    signer: SignaturePrivateKey,
    sender_index: u32,
}

impl ExternalProposer {
    /// An external sender of groups of `suite`, signing with `signer`, listed at
    /// `sender_index` of their `external_senders` extension.
    #[must_use]
    pub const fn new(suite: Suite, signer: SignaturePrivateKey, sender_index: u32) -> Self {
        Self {
            suite,
            signer,
            sender_index,
        }
    }

    /// The `external_senders` entry of this sender, presenting `credential`, to put into a
    /// group's extension (at index `sender_index`) with [`ExternalSender::extension`].
    #[must_use]
    pub fn external_sender(&self, credential: Credential) -> ExternalSender {
        ExternalSender {
            signature_key: self.signer.public_key().to_bytes().to_vec(),
            credential,
        }
    }

    /// The index of this sender in the groups' `external_senders` extension.
    #[must_use]
    pub const fn sender_index(&self) -> u32 {
        self.sender_index
    }

    /// Creates a proposal message for epoch `epoch` of group `group_id`: a PublicMessage
    /// from `external(sender_index)`, signed over `FramedContentTBS` (which, for an external
    /// sender, does not include the GroupContext, RFC 9420 §6.1) and without a membership
    /// tag (§6.2). It must reach the group in that epoch; a member commits it by reference.
    ///
    /// The proposal is not checked against the group (the sender may not know its tree): a
    /// Remove of an empty leaf, say, is refused by the members when they commit.
    ///
    /// # Errors
    /// [`ApiMisuse::ExternalProposalType`] for `update` and `external_init` proposals
    /// (RFC 9420 §12.1.8); [`ApiMisuse::EncodingOverflow`] for absurdly large content.
    pub fn propose(
        &self,
        group_id: &[u8],
        epoch: u64,
        proposal: Proposal,
        authenticated_data: &[u8],
    ) -> Result<MlsMessage> {
        if !validate::external_sender_may_propose(proposal.proposal_type()) {
            return Err(ApiMisuse::ExternalProposalType.into());
        }
        let content = FramedContent {
            group_id: group_id.to_vec(),
            epoch,
            sender: Sender::External(self.sender_index),
            authenticated_data: authenticated_data.to_vec(),
            body: FramedContentBody::Proposal(proposal),
        };
        // Neither the signature (no group_context for external senders, §6.1) nor the
        // PublicMessage (no membership tag, §6.2) covers the GroupContext: a stand-in with
        // the group id and epoch is enough.
        let context = GroupContext {
            version: ProtocolVersion::MLS10,
            cipher_suite: self.suite.id(),
            group_id: group_id.to_vec(),
            epoch,
            tree_hash: Vec::new(),
            confirmed_transcript_hash: Vec::new(),
            extensions: Vec::new(),
        };
        let auth = framing::sign_content(
            &self.suite,
            &self.signer,
            WireFormat::MLS_PUBLIC_MESSAGE,
            content,
            &context,
        )?;
        let message = framing::protect_public(&self.suite, auth, None, &context)?;
        Ok(MlsMessage {
            version: ProtocolVersion::MLS10,
            body: MlsMessageBody::PublicMessage(Box::new(message)),
        })
    }
}
