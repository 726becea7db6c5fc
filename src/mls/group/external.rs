//! Proposals from outside the group (RFC 9420 §12.1.8): a party listed in the group's
//! `external_senders` extension (e.g. the meeting server) signs proposals that members
//! then commit by reference.

use crate::crypto::{CipherSuite, SignaturePrivateKey, Suite};
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
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for a suite
    /// meetkey does not implement.
    pub fn new(suite: CipherSuite, signer: SignaturePrivateKey, sender_index: u32) -> Result<Self> {
        Ok(Self {
            suite: suite.suite()?,
            signer,
            sender_index,
        })
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

    /// Creates a proposal message for epoch `epoch` of group `group_id`: a PublicMessage
    /// from `external(sender_index)`, signed over `FramedContentTBS` (which, for an external
    /// sender, does not include the GroupContext, RFC 9420 §6.1) and without a membership
    /// tag (§6.2). It must reach the group in that epoch; a member commits it by reference.
    ///
    /// The proposal is not checked against the group (the sender may not know its tree): a
    /// Remove of an empty leaf, say, is refused by the members when it arrives.
    ///
    /// # Errors
    /// [`ApiMisuse::ExternalProposalType`] for `update` and `external_init` proposals
    /// (RFC 9420 §12.1.8); [`ApiMisuse::EncodingOverflow`] for absurdly large content.
    pub fn propose(
        &self,
        group_id: &[u8],
        epoch: u64,
        proposal: crate::mls::Proposal,
        authenticated_data: &[u8],
    ) -> Result<MlsMessage> {
        let proposal = proposal.0;
        if !validate::external_sender_may_propose(proposal.proposal_type()) {
            return Err(ApiMisuse::ExternalProposalType.into());
        }
        non_member_proposal(
            &self.suite,
            &self.signer,
            group_id,
            epoch,
            Sender::External(self.sender_index),
            proposal,
            authenticated_data,
        )
    }
}

/// A proposal from a sender outside the group (`external` or `new_member_proposal`), as a
/// PublicMessage: signed over `FramedContentTBS`, which for these senders does not include
/// the GroupContext (RFC 9420 §6.1), and without a membership tag (§6.2), so a stand-in
/// context with the group id and epoch is all it needs.
pub(super) fn non_member_proposal(
    suite: &Suite,
    signer: &SignaturePrivateKey,
    group_id: &[u8],
    epoch: u64,
    sender: Sender,
    proposal: Proposal,
    authenticated_data: &[u8],
) -> Result<MlsMessage> {
    let content = FramedContent {
        group_id: group_id.to_vec(),
        epoch,
        sender,
        authenticated_data: authenticated_data.to_vec(),
        body: FramedContentBody::Proposal(proposal),
    };
    let context = GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: suite.id(),
        group_id: group_id.to_vec(),
        epoch,
        tree_hash: Vec::new(),
        confirmed_transcript_hash: Vec::new(),
        extensions: Vec::new(),
    };
    let auth = framing::sign_content(
        suite,
        signer,
        WireFormat::MLS_PUBLIC_MESSAGE,
        content,
        &context,
    )?;
    let message = framing::protect_public(suite, auth, None, &context)?;
    Ok(MlsMessage {
        version: ProtocolVersion::MLS10,
        body: MlsMessageBody::PublicMessage(Box::new(message)),
    })
}

#[cfg(test)]
mod tests {
    use rand_core::SeedableRng;

    use super::*;
    use crate::error::{Error, PeerMisbehaved};
    use crate::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle};
    use crate::mls::wire::{
        Add, AuthenticatedContent, Commit, GroupContextExtensions, Lifetime, ProposalOrRef, Remove,
    };

    /// The clock of these tests (2027-01-15): time is an input, never read.
    const NOW: u64 = 1_800_000_000;
    /// How long the KeyPackages made here stay valid.
    const KP_LIFETIME: u64 = 28 * 24 * 3600;

    type Rng = rand_chacha::ChaCha20Rng;

    fn bundle(name: &str, rng: &mut Rng) -> KeyPackageBundle {
        let suite = CipherSuite(1).suite().unwrap();
        KeyPackageBundle::with_suite(
            &suite,
            Credential::Basic {
                identity: name.as_bytes().to_vec(),
            },
            SignaturePrivateKey::generate(rng),
            Lifetime::starting_at(NOW, KP_LIFETIME),
            &[],
            rng,
        )
        .unwrap()
    }

    /// Alice and Bob in a group listing `server` as external sender 0.
    fn two(rng: &mut Rng) -> (ExternalProposer, Group, Group) {
        let suite = CipherSuite(1).suite().unwrap();
        let server =
            ExternalProposer::new(suite.id(), SignaturePrivateKey::generate(rng), 0).unwrap();
        let ext = ExternalSender::extension(&[server.external_sender(Credential::Basic {
            identity: b"server".to_vec(),
        })])
        .unwrap();
        let mut alice = Group::create(
            GroupConfig::default(),
            bundle("alice", rng),
            b"g",
            vec![ext],
            rng,
        )
        .unwrap();
        let b = bundle("bob", rng);
        let add = Proposal::Add(Box::new(Add {
            key_package: b.key_package.clone(),
        }));
        let out = alice
            .commit(
                vec![crate::mls::Proposal(add)],
                &CommitOptions::at(NOW),
                rng,
            )
            .unwrap();
        alice.merge_pending_commit().unwrap();
        let MlsMessageBody::Welcome(w) = &out.welcome.unwrap().body else {
            panic!("welcome")
        };
        let bob = Group::join_welcome(GroupConfig::default(), w, b, None, vec![]).unwrap();
        (server, alice, bob)
    }

    /// The ProposalRef of an external proposal message (RFC 9420 §5.2).
    fn reference(msg: &MlsMessage) -> Vec<u8> {
        let MlsMessageBody::PublicMessage(pm) = &msg.body else {
            panic!("public")
        };
        let auth = AuthenticatedContent {
            wire_format: WireFormat::MLS_PUBLIC_MESSAGE,
            content: pm.content.clone(),
            auth: pm.auth.clone(),
        };
        framing::proposal_ref(&CipherSuite(1).suite().unwrap(), &auth).unwrap()
    }

    /// RFC 9420 §12.2 at the receiver: a commit (made by a member that skipped its own
    /// checks) whose proposals, by reference or by value, are invalid is refused, and the
    /// receiver is unchanged. (An invalid external proposal never gets stored: it is
    /// refused on receipt, see `invalid_external_proposals_are_refused_on_receipt`.)
    #[test]
    fn receivers_validate_committed_external_proposals() {
        let mut rng = Rng::seed_from_u64(30);
        let (server, mut alice, mut bob) = two(&mut rng);
        let bad_remove = server
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(Proposal::Remove(Remove { removed: 5 })),
                b"",
            )
            .unwrap();
        let before = bob.to_bytes().unwrap();
        let rejected = ExternalSender::extension(&[server.external_sender(Credential::Basic {
            identity: Vec::new(),
        })])
        .unwrap();
        let cases = [
            (
                ProposalOrRef::Reference(reference(&bad_remove)),
                Error::from(PeerMisbehaved::UnknownProposalRef),
            ),
            (
                ProposalOrRef::Proposal(Proposal::Remove(Remove { removed: 5 })),
                PeerMisbehaved::InvalidProposalList.into(),
            ),
            (
                ProposalOrRef::Reference(vec![0; 32]),
                PeerMisbehaved::UnknownProposalRef.into(),
            ),
            (
                ProposalOrRef::Proposal(Proposal::GroupContextExtensions(GroupContextExtensions {
                    extensions: vec![rejected],
                })),
                PeerMisbehaved::CredentialRejected.into(),
            ),
        ];
        for (p, err) in cases {
            let msg = alice
                .frame_commit_unchecked(
                    Commit {
                        proposals: vec![p],
                        path: None,
                    },
                    &mut rng,
                )
                .unwrap();
            assert_eq!(bob.process_message(&msg).map(|_| ()), Err(err));
            assert!(*before == *bob.to_bytes().unwrap());
        }
    }

    /// RFC 9420 §12.1.8, §12.2: an external proposal that is invalid in the epoch (a
    /// Remove of a blank leaf) is refused when it arrives, so it can never block a commit;
    /// the receiver is unchanged. A valid one is stored but not admitted.
    #[test]
    fn invalid_external_proposals_are_refused_on_receipt() {
        let mut rng = Rng::seed_from_u64(31);
        let (server, _alice, mut bob) = two(&mut rng);
        let before = bob.to_bytes().unwrap();
        let bad_remove = server
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(Proposal::Remove(Remove { removed: 5 })),
                b"",
            )
            .unwrap();
        assert_eq!(
            bob.process_message(&bad_remove).map(|_| ()),
            Err(PeerMisbehaved::InvalidProposalList.into())
        );
        assert!(*before == *bob.to_bytes().unwrap());
        let remove_alice = server
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(Proposal::Remove(Remove { removed: 0 })),
                b"",
            )
            .unwrap();
        bob.process_message(&remove_alice).unwrap();
        let stored: Vec<_> = bob.pending_proposals().collect();
        assert_eq!(stored.len(), 1);
        assert!(!stored[0].admitted);
    }
}
