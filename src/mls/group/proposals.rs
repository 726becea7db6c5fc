//! The proposal store of an epoch (RFC 9420 §12.1, §12.2, §12.4): proposals are validated
//! and de-duplicated on receipt, bounded in number, admitted by the application before our
//! own commits include them, and filtered at commit time to a list that is valid, so that
//! no stored proposal can block a commit.

use std::collections::HashSet;

use crate::error::{ApiMisuse, PeerMisbehaved, Result, Stale};
use crate::mls::tree::TreeDiff;
use crate::mls::wire::{Proposal, ProposalOrRef, Sender};

use super::apply::{self, Applied};
use super::{Group, PendingProposal};

/// A proposal stored in this epoch, as the application sees it.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct ProposalInfo<'a> {
    /// Its ProposalRef (RFC 9420 §5.2): what [`Group::admit_proposal`] takes.
    pub reference: &'a [u8],
    /// Who proposed it.
    pub sender: Sender,
    /// The proposal.
    pub proposal: &'a crate::mls::Proposal,
    /// Whether our next commit includes it (our own proposals, a member's leave request or
    /// Update, and what the application admitted).
    pub admitted: bool,
}

/// Whether a proposal is admitted on receipt: a member asking to leave (a Remove of its own
/// leaf) or refreshing its own leaf (an Update). Everything else — any proposal from a
/// non-member, a member's Add, a Remove of someone else, an extension change, a PSK, a
/// ReInit — waits for the application.
pub(super) const fn admitted_on_receipt(proposal: &Proposal, sender: Sender) -> bool {
    match (proposal, sender) {
        (Proposal::Remove(r), Sender::Member(from)) => r.removed == from,
        (Proposal::Update(_), Sender::Member(_)) => true,
        _ => false,
    }
}

/// The conflict keys of a proposal (RFC 9420 §12.2): two proposals with a common key cannot
/// be in one commit.
fn conflict_keys(p: &Proposal, sender: Sender) -> Vec<Vec<u8>> {
    let leaf = |l: u32| [b"leaf".as_slice(), &l.to_be_bytes()].concat();
    match p {
        Proposal::Update(_) => match sender {
            Sender::Member(l) => vec![leaf(l)],
            _ => vec![b"invalid".to_vec()],
        },
        Proposal::Remove(r) => vec![leaf(r.removed)],
        Proposal::Add(a) => {
            vec![[b"sig".as_slice(), &a.key_package.leaf_node.signature_key].concat()]
        }
        Proposal::GroupContextExtensions(_) => vec![b"gce".to_vec()],
        Proposal::ReInit(_) => vec![b"reinit".to_vec(), b"exclusive".to_vec()],
        Proposal::PreSharedKey(psk) => {
            let mut w = crate::codec::Writer::new();
            crate::codec::Encode::encode(&psk.psk, &mut w);
            vec![[b"psk".as_slice(), w.as_bytes()].concat()]
        }
        Proposal::ExternalInit(_) => vec![b"invalid".to_vec()],
    }
}

/// A commit's proposals, each with its proposer, and how the commit names each one.
pub(super) type CommitList = (Vec<(Proposal, Sender)>, Vec<ProposalOrRef>);

impl Group {
    /// Stores a received, authenticated proposal (RFC 9420 §12.1): refused if already
    /// stored (a replay), if the store of its sender's class is full, or if it is invalid
    /// on its own in the current epoch. The group is unchanged on error.
    pub(super) fn store_proposal(
        &mut self,
        reference: Vec<u8>,
        proposal: &Proposal,
        sender: Sender,
    ) -> Result<()> {
        if self.proposals.iter().any(|p| p.reference == reference) {
            return Err(Stale::DuplicateProposal.into());
        }
        let member = matches!(sender, Sender::Member(_));
        let same_class = self
            .proposals
            .iter()
            .filter(|p| matches!(p.sender, Sender::Member(_)) == member)
            .count();
        if same_class >= self.config.limits.max_stored_proposals {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }
        self.trial(&[(proposal.clone(), sender)], None)?;
        self.proposals.push(PendingProposal {
            reference,
            proposal: crate::mls::Proposal(proposal.clone()),
            sender,
            admitted: admitted_on_receipt(proposal, sender),
        });
        Ok(())
    }

    /// Validates `list` against the current epoch as a commit from `committer` would
    /// (without a path), including the application's commit rules when a committer is
    /// given.
    pub(super) fn trial(
        &self,
        list: &[(Proposal, Sender)],
        committer: Option<&Sender>,
    ) -> Result<Applied> {
        let mut diff = TreeDiff::new(&self.tree);
        let applied = apply::apply_proposals(
            &mut diff,
            &self.context,
            committer,
            list,
            &self.params(),
            &self.config,
        )?;
        if let Some(sender) = committer {
            let new_extensions = applied
                .extensions
                .as_deref()
                .unwrap_or(&self.context.extensions);
            self.config.rules.check_commit(&super::rules::CommitCheck {
                context: &self.context,
                tree: &self.tree,
                sender,
                committer: self.own_leaf,
                path_leaf: None,
                proposals: list,
                new_extensions,
                removed: &applied.removed,
                rejoin_of: None,
            })?;
        }
        Ok(applied)
    }

    /// The proposals stored in this epoch, oldest first.
    pub fn pending_proposals(&self) -> impl Iterator<Item = ProposalInfo<'_>> + '_ {
        self.proposals.iter().map(|p| ProposalInfo {
            reference: &p.reference,
            sender: p.sender,
            proposal: &p.proposal,
            admitted: p.admitted,
        })
    }

    /// Admits a stored proposal: our next commit includes it (if it is still valid then).
    /// This is how a join request (an Add from a `new_member_proposal` sender) or a
    /// proposal of the delivery service (an `external` sender) gets in — only because the
    /// application said so.
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no proposal with this reference is stored.
    pub fn admit_proposal(&mut self, reference: &[u8]) -> Result<()> {
        self.set_admitted(reference, true)
    }

    /// Withdraws admission of a stored proposal (it stays stored: a commit of another
    /// member may still include it by reference).
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no proposal with this reference is stored.
    pub fn refuse_proposal(&mut self, reference: &[u8]) -> Result<()> {
        self.set_admitted(reference, false)
    }

    fn set_admitted(&mut self, reference: &[u8], admitted: bool) -> Result<()> {
        let p = self
            .proposals
            .iter_mut()
            .find(|p| p.reference == reference)
            .ok_or(ApiMisuse::UnknownProposal)?;
        p.admitted = admitted;
        Ok(())
    }

    /// Whether a stored proposal our next commit would include is waiting (a member's
    /// leave request, say): the application should commit soon.
    #[must_use]
    pub fn commit_needed(&self) -> bool {
        let me = Sender::Member(self.own_leaf.0);
        self.proposals
            .iter()
            .any(|p| p.admitted && p.sender != me && self.committable(p))
    }

    /// Whether we may commit a stored proposal at all: not our own Update (RFC 9420 §12.4:
    /// a committer's Update goes into its path instead), not our own removal.
    fn committable(&self, p: &PendingProposal) -> bool {
        let me = Sender::Member(self.own_leaf.0);
        let own_update = matches!(p.proposal.0, Proposal::Update(_)) && p.sender == me;
        let removes_us =
            matches!(&p.proposal.0, Proposal::Remove(r) if r.removed == self.own_leaf.0);
        !own_update && !removes_us
    }

    /// The proposal list of our next commit (RFC 9420 §12.4): `by_value` first, then the
    /// admitted stored proposals that conflict with nothing before them and are valid on
    /// their own, all validated together. When the combination still fails (an
    /// application rule refusing a pair, say), the stored proposals are left out, so that
    /// `by_value` — a Remove of the very member whose proposal is bad — always gets through.
    pub(super) fn commit_list(
        &self,
        by_value: Vec<Proposal>,
        include_stored: bool,
    ) -> Result<CommitList> {
        let me = Sender::Member(self.own_leaf.0);
        let mut list: Vec<(Proposal, Sender)> = Vec::new();
        let mut refs: Vec<ProposalOrRef> = Vec::new();
        let mut keys: HashSet<Vec<u8>> = HashSet::new();
        for p in &by_value {
            keys.extend(conflict_keys(p, me));
        }
        // A ReInit stands alone (§12.2): nothing stored joins a ReInit by value, and a
        // stored ReInit only goes into an otherwise empty commit.
        let exclusive = keys.contains(b"exclusive".as_slice());
        let limit = self.config.limits.max_commit_proposals;
        if include_stored && !exclusive {
            for p in self
                .proposals
                .iter()
                .filter(|p| p.admitted && self.committable(p))
            {
                if list.len() + by_value.len() >= limit {
                    break;
                }
                let ks = conflict_keys(&p.proposal.0, p.sender);
                let alone = ks.iter().any(|k| k == b"exclusive");
                if (alone && !(list.is_empty() && by_value.is_empty()))
                    || keys.contains(b"exclusive".as_slice())
                    || ks
                        .iter()
                        .any(|k| keys.contains(k) || k.as_slice() == b"invalid")
                {
                    continue;
                }
                if self
                    .trial(&[(p.proposal.0.clone(), p.sender)], Some(&me))
                    .is_err()
                    || !self.psks_available(&p.proposal.0)
                {
                    continue;
                }
                keys.extend(ks);
                list.push((p.proposal.0.clone(), p.sender));
                refs.push(ProposalOrRef::Reference(p.reference.clone()));
            }
        }
        let stored = list.len();
        for p in by_value {
            list.push((p.clone(), me));
            refs.push(ProposalOrRef::Proposal(p));
        }
        if stored > 0 && self.trial(&list, Some(&me)).is_err() {
            list.drain(..stored);
            refs.drain(..stored);
        }
        Ok((list, refs))
    }

    /// Whether the PSK a proposal names (if any) is available to us.
    fn psks_available(&self, p: &Proposal) -> bool {
        match p {
            Proposal::PreSharedKey(psk) => self.psk_secret(core::slice::from_ref(&psk.psk)).is_ok(),
            _ => true,
        }
    }
}
