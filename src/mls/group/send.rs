//! Sending application messages and proposals (RFC 9420 §6, §12.1).

use crate::crypto::{Rng, Secret};
use crate::error::{ApiMisuse, Result};
use crate::mls::framing;
use crate::mls::validate::LEAF_NODE_LABEL;
use crate::mls::wire::{
    FramedContent, FramedContentBody, LeafNodeSource, MlsMessage, Proposal, Sender, Update,
    WireFormat,
};

use super::{Group, PendingProposal};

impl Group {
    /// Encrypts application data as a PrivateMessage of the current epoch.
    ///
    /// # Errors
    /// [`ApiMisuse::ProposalsPending`] while proposals received this epoch are uncommitted
    /// (RFC 9420 §12.4: commit them first); [`ApiMisuse::NotAMember`] after removal.
    pub fn encrypt_application(
        &mut self,
        data: &[u8],
        authenticated_data: &[u8],
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        self.check_usable()?;
        // Only what our next commit would include holds us back: a proposal the
        // application has not admitted (anything a server injects) cannot stall us.
        if self.proposals.iter().any(|p| p.admitted) {
            return Err(ApiMisuse::ProposalsPending.into());
        }
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf.0),
            authenticated_data: authenticated_data.to_vec(),
            body: FramedContentBody::Application(data.to_vec()),
        };
        let auth = framing::sign_content(
            &self.suite,
            &self.signer,
            WireFormat::MLS_PRIVATE_MESSAGE,
            content,
            &self.context,
        )?;
        self.protect(auth, rng)
    }

    /// Sends a proposal (e.g. `Remove` of our own leaf to leave, or an `Update`); it is kept
    /// so that our next commit, or anyone's, can include it by reference.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`] after removal.
    pub fn propose(
        &mut self,
        proposal: crate::mls::Proposal,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        self.check_usable()?;
        let proposal = proposal.0;
        let sender = Sender::Member(self.own_leaf.0);
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender,
            authenticated_data: Vec::new(),
            body: FramedContentBody::Proposal(proposal.clone()),
        };
        let wire_format = self.handshake_wire_format();
        let auth = framing::sign_content(
            &self.suite,
            &self.signer,
            wire_format,
            content,
            &self.context,
        )?;
        let reference = framing::proposal_ref(&self.suite, &auth)?;
        let message = self.protect(auth, rng)?;
        self.proposals.push(PendingProposal {
            reference,
            proposal: crate::mls::Proposal(proposal),
            sender,
            admitted: true,
        });
        Ok(message)
    }

    /// An Update proposal for our own leaf: a fresh encryption key, re-signed (RFC 9420
    /// §12.1.2). Its private key is kept until a commit applies the proposal.
    ///
    /// # Errors
    /// As [`Group::propose`].
    pub fn propose_update(&mut self, rng: &mut impl Rng) -> Result<MlsMessage> {
        let mut leaf = self
            .tree
            .leaf(self.own_leaf)
            .ok_or(ApiMisuse::NotAMember)?
            .clone();
        let (sk, pk) = self
            .suite
            .derive_key_pair(&Secret::random(self.suite.hash_len(), rng)?)?;
        leaf.encryption_key = pk.as_bytes().to_vec();
        leaf.leaf_node_source = LeafNodeSource::Update;
        let tbs = leaf.to_be_signed(&self.context.group_id, self.own_leaf.0)?;
        leaf.signature = self.signer.sign_with_label(LEAF_NODE_LABEL, &tbs)?.to_vec();
        let update = Proposal::Update(Box::new(Update { leaf_node: leaf }));
        let message = self.propose(crate::mls::Proposal(update), rng)?;
        self.keys.add_pending_leaf_key(pk.as_bytes().to_vec(), sk);
        Ok(message)
    }

    /// A proposal to remove ourselves (leaving the group); another member commits it.
    ///
    /// # Errors
    /// As [`Group::propose`].
    pub fn propose_leave(&mut self, rng: &mut impl Rng) -> Result<MlsMessage> {
        self.propose(crate::mls::Proposal::remove(self.own_leaf), rng)
    }
}

#[cfg(any(fuzzing, test))]
impl Group {
    /// Signs and sends `commit` exactly as given, as a malicious member would, with the
    /// current epoch's confirmation tag (which cannot be the right one for the new epoch).
    /// For fuzzing receivers' commit validation only; nothing is checked or staged here.
    pub(crate) fn frame_commit_unchecked(
        &mut self,
        commit: crate::mls::wire::Commit,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf.0),
            authenticated_data: Vec::new(),
            body: FramedContentBody::Commit(Box::new(commit)),
        };
        let mut auth = framing::sign_content(
            &self.suite,
            &self.signer,
            self.handshake_wire_format(),
            content,
            &self.context,
        )?;
        auth.auth.confirmation_tag = Some(self.confirmation_tag.clone());
        self.protect(auth, rng)
    }
}
