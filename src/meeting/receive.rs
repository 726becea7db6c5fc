//! What the delivery service hands a participant: the echo of its own commit, another
//! member's commit (merged, after the meeting's media keys and policy for the new epoch were
//! staged, so an error leaves the meeting unchanged), proposals, and handshakes that come
//! early.

use crate::error::{ApiMisuse, Result};
use crate::mls::group::{ProcessedMessage, StagedCommit};
use crate::mls::wire::{MlsMessage, Proposal, Sender};

use super::*;

impl Meeting {
    /// Processes a handshake message from the delivery service: the echo of our own commit
    /// (merges it), a commit of another member (discards ours if we had one: theirs won),
    /// or a proposal (validated and stored; [`Event::ProposalReceived`] or
    /// [`Event::JoinRequested`] tells the UI, and only an admitted one goes into our next
    /// commit). Application messages are not used by meetings and are refused.
    ///
    /// # Errors
    /// The errors of [`Group::process_message`] and [`Group::merge_staged_commit`];
    /// [`PeerMisbehaved::MeetingPolicyMissing`](crate::error::PeerMisbehaved::MeetingPolicyMissing) for a commit that drops the meeting policy;
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`](crate::error::PeerMisbehaved::PolicyChangeUnauthorized) for a commit that widens the fence
    /// without a policy admin; [`PeerMisbehaved::ExternalJoinRefused`](crate::error::PeerMisbehaved::ExternalJoinRefused);
    /// [`ApiMisuse::UnexpectedContentType`] for application data. The meeting is unchanged
    /// on error.
    ///
    /// A handshake of a later epoch (it came before the commit that leads there) is kept,
    /// up to 64 messages, 4 MiB and 16 epochs ahead ([`Event::HandshakeBuffered`]), and
    /// processed as soon as the meeting reaches its epoch; beyond those bounds it is
    /// [`Stale::FutureEpoch`](crate::error::Stale::FutureEpoch). One of an earlier epoch is
    /// [`Stale::PastEpoch`](crate::error::Stale::PastEpoch).
    ///
    /// Delivery is idempotent for proposals: the delivery service's echo of our own proposal,
    /// or a proposal delivered twice, is already stored and changes nothing (`Ok`).
    pub fn process(&mut self, message: &MlsMessage) -> Result<()> {
        let result = match self.process_one(message) {
            Err(crate::error::Error::Stale(crate::error::Stale::DuplicateProposal)) => Ok(()),
            other => other,
        };
        if early::is_future(&result) {
            return self.keep_early(message);
        }
        result?;
        self.process_early();
        Ok(())
    }

    pub(super) fn process_one(&mut self, message: &MlsMessage) -> Result<()> {
        if let Some(pending) = &self.pending {
            if crate::codec::Encode::to_bytes(message).is_ok_and(|b| b == pending.bytes) {
                return self.confirm_pending();
            }
        }
        match self.group.process_message(message)? {
            ProcessedMessage::Commit(staged) => self.merge_theirs(*staged),
            ProcessedMessage::Proposal {
                sender,
                proposal,
                reference,
                admitted,
            } => {
                let epoch = self.epoch();
                let summary = events::summarize(&proposal.0, &self.group, &self.policy);
                if let (Sender::NewMemberProposal, Proposal::Add(add)) = (sender, &proposal.0) {
                    self.events.push_back(Event::JoinRequested {
                        epoch,
                        reference,
                        identity: identity_of(&add.key_package.leaf_node.credential),
                    });
                } else {
                    self.events.push_back(Event::ProposalReceived {
                        epoch,
                        reference,
                        from: sender,
                        summary,
                        admitted,
                    });
                }
                if admitted {
                    self.events.push_back(Event::CommitNeeded { epoch });
                }
                Ok(())
            }
            ProcessedMessage::Application { .. } => Err(ApiMisuse::UnexpectedContentType.into()),
        }
    }

    fn merge_theirs(&mut self, staged: StagedCommit) -> Result<()> {
        // (The meeting's rules, the policy's presence among them, ran while staging.)
        let before = self.snapshot();
        let committer = staged.committer().0;
        let removes_us = staged.removes_us();
        let rejoin_of = staged.rejoin_of().map(|l| l.0);
        // Everything of the new epoch that can fail is computed first: an error leaves the
        // meeting exactly as it was.
        let next = if removes_us {
            None
        } else {
            Some(self.stage_epoch(&staged)?)
        };
        self.group.merge_staged_commit(staged)?;
        if let Some(p) = self.pending.take() {
            // Another commit won this epoch; ours can never apply, nor its Welcome.
            self.group.discard_pending_commit();
            self.events.push_back(Event::PendingCommitDiscarded {
                epoch: before.epoch,
                intent: p.intent,
            });
        }
        match next {
            Some(next) => self.after_epoch_change(before, committer, rejoin_of, next),
            None => {
                self.events.push_back(Event::Left {
                    epoch: self.group.epoch(),
                });
                self.media.clear();
            }
        }
        Ok(())
    }

    /// What the meeting needs of a staged epoch, computed before the group merges it: the
    /// policy in its GroupContext and its media keys.
    pub(super) fn stage_epoch(&self, staged: &StagedCommit) -> Result<StagedEpoch> {
        let extensions = &staged.new_context().extensions;
        let policy = policy_ext::policy_of(extensions)?;
        let exporter =
            |label: &[u8], len| staged.export_secret(self.group.suite(), label, b"", len);
        let media = match media_ext::media_of(extensions)? {
            Some(params) if params != self.media.params() => {
                self.media
                    .stage_replaced(params, &self.config, staged.new_epoch(), exporter)?
            }
            _ => self.media.stage(staged.new_epoch(), exporter)?,
        };
        Ok(StagedEpoch { policy, media })
    }

    pub(super) fn snapshot(&self) -> events::Snapshot {
        events::Snapshot {
            epoch: self.group.epoch(),
            participants: self.participants(),
        }
    }

    pub(super) fn after_epoch_change(
        &mut self,
        before: events::Snapshot,
        committer: u32,
        rejoin_of: Option<u32>,
        next: StagedEpoch,
    ) {
        let StagedEpoch { policy, media } = next;
        let policy_changed = policy != self.policy;
        self.policy = policy;
        let early = self.media.install(media);
        let after = self.participants();
        let epoch = self.group.epoch();
        self.events
            .push_back(Event::EpochChanged { epoch, committer });
        if early.released > 0 || early.refused > 0 {
            self.events.push_back(Event::EarlyFramesReleased {
                epoch,
                released: early.released,
                refused: early.refused,
            });
        }
        let membership_changed =
            events::push_membership(&mut self.events, &before, &after, rejoin_of, committer);
        if policy_changed {
            self.events.push_back(Event::PolicyChanged {
                epoch,
                policy: self.policy.clone(),
            });
        }
        if !membership_changed && !policy_changed {
            self.events.push_back(Event::Rotated {
                epoch,
                leaf: committer,
            });
        }
    }
}
