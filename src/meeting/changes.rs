//! Changes a participant makes: commits (add, remove, rotate, policy and governance
//! changes) that stay pending until the delivery service confirms them, leave requests, the
//! application's admission of join requests, and the GroupInfo for external joiners.

use crate::crypto::Rng;
use crate::error::{ApiMisuse, Result};
use crate::mls::group::CommitOptions;
use crate::mls::wire::{Add, GroupContextExtensions, KeyPackage, MlsMessage, Proposal, Remove};
use crate::routing::Policy;

use super::*;

impl Meeting {
    fn start_commit(
        &mut self,
        proposals: Vec<Proposal>,
        intent: CommitIntent,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        if self.pending.is_some() {
            return Err(ApiMisuse::CommitPending.into());
        }
        let proposals = proposals.into_iter().map(crate::mls::Proposal).collect();
        let out = self.group.commit(proposals, &CommitOptions::at(now), rng)?;
        let bytes = match crate::codec::Encode::to_bytes(&out.commit) {
            Ok(b) => b,
            Err(e) => {
                self.group.discard_pending_commit();
                return Err(e);
            }
        };
        self.pending = Some(PendingCommit {
            bytes,
            welcome: out.welcome,
            intent,
        });
        Ok(Outgoing { commit: out.commit })
    }

    /// Adds participants by their KeyPackages (one commit, one Welcome). `now` (Unix
    /// seconds) is checked against each KeyPackage's lifetime (RFC 9420 §7.3).
    ///
    /// # Errors
    /// [`ApiMisuse::CommitPending`] while a commit of ours is unconfirmed;
    /// [`ApiMisuse::KeyPackageExpired`] for a KeyPackage outside its lifetime;
    /// [`PeerMisbehaved::UnsupportedCapability`](crate::error::PeerMisbehaved::UnsupportedCapability) when a KeyPackage does not support the
    /// meeting extensions; the errors of [`Group::commit`].
    pub fn add(
        &mut self,
        key_packages: &[KeyPackage],
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let proposals = key_packages
            .iter()
            .map(|kp| {
                Proposal::Add(Box::new(Add {
                    key_package: kp.clone(),
                }))
            })
            .collect();
        self.start_commit(
            proposals,
            CommitIntent::Add(key_packages.to_vec()),
            now,
            rng,
        )
    }

    /// Removes the participant at `leaf`.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for our own leaf (use [`Meeting::leave`]); as
    /// [`Meeting::add`].
    pub fn remove(&mut self, leaf: u32, now: u64, rng: &mut impl Rng) -> Result<Outgoing> {
        if leaf == self.own_leaf() {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        self.start_commit(
            vec![Proposal::Remove(Remove { removed: leaf })],
            CommitIntent::Remove(leaf),
            now,
            rng,
        )
    }

    /// Rotates our keys now: a commit with a fresh UpdatePath (post-compromise security),
    /// committing the admitted proposals of this epoch (leave requests, admitted join
    /// requests) that are still valid.
    ///
    /// # Errors
    /// As [`Meeting::add`].
    pub fn rotate(&mut self, now: u64, rng: &mut impl Rng) -> Result<Outgoing> {
        self.start_commit(Vec::new(), CommitIntent::Rotate, now, rng)
    }

    /// Rotates if the schedule says so: the first call starts the schedule at `now`; a
    /// rotation is due `rotation_interval` seconds after the last scheduled one.
    ///
    /// # Errors
    /// As [`Meeting::rotate`].
    pub fn rotate_if_due(&mut self, now: u64, rng: &mut impl Rng) -> Result<Option<Outgoing>> {
        self.media.expire(now);
        let Some(interval) = self.config.rotation_interval else {
            return Ok(None);
        };
        match self.next_rotation_at {
            None => {
                self.next_rotation_at = Some(now.saturating_add(interval));
                Ok(None)
            }
            Some(due) if now >= due && self.pending.is_none() => {
                let out = self.rotate(now, rng)?;
                self.next_rotation_at = Some(now.saturating_add(interval));
                Ok(Some(out))
            }
            Some(_) => Ok(None),
        }
    }

    /// Changes the meeting's geofence: a GroupContextExtensions commit, visible to every
    /// member as [`Event::PolicyChanged`]. Any participant may narrow the fence; widening it
    /// in any way takes a policy admin of the meeting's [`Governance`].
    ///
    /// # Errors
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`](crate::error::PeerMisbehaved::PolicyChangeUnauthorized) for a widening by a non-admin (nothing
    /// is sent); as [`Meeting::add`].
    pub fn set_policy(
        &mut self,
        policy: &Policy,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let extensions = policy_ext::replace_policy(&self.group.context().extensions, policy);
        self.start_commit(
            vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            })],
            CommitIntent::SetPolicy(policy.clone()),
            now,
            rng,
        )
    }

    /// Changes the meeting's governance (admins, external joins): policy admins only.
    ///
    /// # Errors
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`](crate::error::PeerMisbehaved::PolicyChangeUnauthorized) unless we are a policy admin; as
    /// [`Meeting::add`].
    pub fn set_governance(
        &mut self,
        governance: &Governance,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let mut extensions: Vec<_> = self
            .group
            .context()
            .extensions
            .iter()
            .filter(|e| e.extension_type != GOVERNANCE_EXTENSION)
            .cloned()
            .collect();
        extensions.push(governance.extension());
        let policy = self.policy.clone();
        let extensions = policy_ext::replace_policy(&extensions, &policy);
        self.start_commit(
            vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            })],
            CommitIntent::SetGovernance(governance.clone()),
            now,
            rng,
        )
    }

    /// Asks to leave: a Remove proposal for our leaf that another participant commits. We
    /// get [`Event::Left`] when that commit arrives.
    ///
    /// # Errors
    /// The errors of [`Group::propose_leave`].
    pub fn leave(&mut self, rng: &mut impl Rng) -> Result<MlsMessage> {
        self.group.propose_leave(rng)
    }

    /// Admits a proposal this epoch stored (see [`Event::ProposalReceived`] and
    /// [`Event::JoinRequested`]): our next commit ([`Meeting::rotate`]) includes it. Nothing
    /// from a non-member, and no member's proposal other than a leave request or an Update,
    /// is ever committed by us without this call.
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no such proposal is stored in this epoch.
    pub fn admit(&mut self, reference: &[u8]) -> Result<()> {
        self.group.admit_proposal(reference)?;
        self.events.push_back(Event::CommitNeeded {
            epoch: self.epoch(),
        });
        Ok(())
    }

    /// Withdraws a proposal's admission (a member's leave request, say, stays stored).
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no such proposal is stored in this epoch.
    pub fn refuse(&mut self, reference: &[u8]) -> Result<()> {
        self.group.refuse_proposal(reference)
    }

    /// Whether an admitted proposal of another participant waits for a commit (a leave
    /// request, an admitted join request): call [`Meeting::rotate`].
    #[must_use]
    pub fn commit_needed(&self) -> bool {
        self.group.commit_needed()
    }

    /// The GroupInfo of the current epoch (with the ratchet tree) for external joiners.
    ///
    /// # Errors
    /// The errors of [`Group::group_info`].
    pub fn group_info(&self) -> Result<MlsMessage> {
        self.group.group_info(true)
    }

    /// Merges our pending commit: the delivery service accepted it.
    ///
    /// # Errors
    /// [`ApiMisuse::NoPendingCommit`] without one; the errors of
    /// [`Group::merge_pending_commit`].
    pub fn confirm_pending(&mut self) -> Result<()> {
        if self.pending.is_none() {
            return Err(ApiMisuse::NoPendingCommit.into());
        }
        let staged = self
            .group
            .pending_commit()
            .ok_or(ApiMisuse::NoPendingCommit)?;
        let next = self.stage_epoch(staged)?;
        let before = self.snapshot();
        let own = self.own_leaf();
        self.group.merge_pending_commit()?;
        if let Some(p) = self.pending.take() {
            self.released_welcome = p.welcome;
        }
        self.after_epoch_change(before, own, None, next);
        Ok(())
    }

    /// Drops our pending commit: the delivery service refused it or another commit won.
    pub fn discard_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.group.discard_pending_commit();
            self.events.push_back(Event::PendingCommitDiscarded {
                epoch: self.epoch(),
                intent: p.intent,
            });
        }
    }
}
