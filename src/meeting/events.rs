//! The events a meeting queues for the UI, and how membership changes are found.

use std::collections::VecDeque;

use super::Participant;
use crate::mls::group::Group;
use crate::mls::wire::{Proposal, Sender};
use crate::routing::Policy;

/// How we came to be in the meeting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinMethod {
    /// We created it.
    Created,
    /// A member added us; we joined from the Welcome.
    Welcome,
    /// We joined by external commit from the meeting's GroupInfo.
    External,
    /// The meeting was restored from saved state.
    Restored,
}

/// Something the UI should show. Queued in order; read with
/// [`Meeting::next_event`](super::Meeting::next_event).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// We are in the meeting, at `epoch`.
    Joined {
        /// The epoch we joined in.
        epoch: u64,
        /// How.
        how: JoinMethod,
    },
    /// A participant joined (by Welcome or external commit).
    ParticipantJoined {
        /// The epoch that added them.
        epoch: u64,
        /// Who.
        participant: Participant,
    },
    /// A participant left or was removed.
    ParticipantLeft {
        /// The epoch that removed them.
        epoch: u64,
        /// Who.
        participant: Participant,
    },
    /// A participant refreshed its keys (a commit that changed neither membership nor
    /// policy).
    Rotated {
        /// The new epoch.
        epoch: u64,
        /// The committer's leaf.
        leaf: u32,
    },
    /// The group moved to a new epoch: new media keys and a new security code.
    EpochChanged {
        /// The new epoch.
        epoch: u64,
        /// Who committed it (our own leaf for our commits).
        committer: u32,
    },
    /// The meeting's geofence changed (a GroupContextExtensions commit).
    PolicyChanged {
        /// The epoch it takes effect in.
        epoch: u64,
        /// The new meeting policy.
        policy: Policy,
    },
    /// We are no longer in the meeting (removed, or our leave request was committed).
    Left {
        /// The epoch that removed us.
        epoch: u64,
    },
    /// A handshake of a later epoch arrived early and is kept until the meeting gets there.
    HandshakeBuffered {
        /// Its epoch.
        epoch: u64,
    },
    /// A kept early handshake was refused when its epoch came (dropped).
    BufferedHandshakeRefused {
        /// Its epoch.
        epoch: u64,
        /// Why.
        error: crate::error::Error,
    },
    /// Media frames of this epoch that arrived before its commit were decrypted: take them
    /// with [`Meeting::take_early_frame`](super::Meeting::take_early_frame).
    EarlyFramesReleased {
        /// The epoch.
        epoch: u64,
        /// How many authenticated and wait to be taken.
        released: u32,
        /// How many did not (forged, or of an epoch that never came) and were dropped.
        refused: u32,
    },
    /// An admitted proposal waits for a commit (a participant's leave request, a join
    /// request the application admitted): call [`Meeting::rotate`](super::Meeting::rotate).
    CommitNeeded {
        /// The epoch the proposal is in.
        epoch: u64,
    },
    /// Our pending commit was dropped: refused, or another member's commit won the epoch.
    /// Its Welcome is never released. [`Meeting::retry`](super::Meeting::retry) re-issues
    /// `intent` in the new epoch.
    PendingCommitDiscarded {
        /// The epoch the commit was for.
        epoch: u64,
        /// What the commit was meant to do.
        intent: super::CommitIntent,
    },
    /// A participant replaced its own previous leaf by external commit (a device that
    /// lost its state rejoined): the same identity and signature key, at a new leaf.
    ParticipantRejoined {
        /// The epoch of the rejoin.
        epoch: u64,
        /// Who, at the new leaf.
        participant: Participant,
        /// The leaf it had before.
        old_leaf: u32,
    },
    /// Someone outside the meeting asks to be let in (an Add of its own KeyPackage, RFC
    /// 9420 §12.1.8 `new_member_proposal`): nothing happens unless the application admits
    /// it with [`Meeting::admit`](super::Meeting::admit).
    JoinRequested {
        /// The epoch the request is for.
        epoch: u64,
        /// Its ProposalRef, for `admit`.
        reference: Vec<u8>,
        /// The identity the requester's credential claims (check it before admitting).
        identity: Vec<u8>,
    },
    /// A proposal was received and stored for this epoch.
    ProposalReceived {
        /// The epoch.
        epoch: u64,
        /// Its ProposalRef, for [`Meeting::admit`](super::Meeting::admit).
        reference: Vec<u8>,
        /// Who sent it (a member, or an `external` sender such as a server).
        from: Sender,
        /// What it would do.
        summary: ProposalSummary,
        /// Whether our next commit includes it without being admitted (a member's leave
        /// request or Update): commit soon.
        admitted: bool,
    },
}

/// What a proposal would do, for the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProposalSummary {
    /// Add the holder of a KeyPackage with this identity.
    Add {
        /// The identity its credential claims.
        identity: Vec<u8>,
    },
    /// Remove a participant (its own leave request if it sent the proposal itself).
    Remove {
        /// The participant.
        participant: Participant,
    },
    /// A participant refreshes its own leaf.
    Update,
    /// Change the meeting's extensions (its fence or governance).
    ExtensionsChange {
        /// The geofence it would set, if it keeps a valid one.
        policy: Option<Policy>,
        /// Whether that fence is wider than the current one in any way.
        widens: bool,
    },
    /// Another proposal (a PSK, a ReInit).
    Other {
        /// Its proposal type.
        proposal_type: u16,
    },
}

/// The UI summary of a stored proposal.
pub(super) fn summarize(proposal: &Proposal, group: &Group, current: &Policy) -> ProposalSummary {
    match proposal {
        Proposal::Add(a) => ProposalSummary::Add {
            identity: super::identity_of(&a.key_package.leaf_node.credential),
        },
        Proposal::Remove(r) => ProposalSummary::Remove {
            participant: Participant {
                leaf: r.removed,
                identity: group
                    .tree()
                    .leaf(crate::mls::tree::math::LeafIndex(r.removed))
                    .map(|l| super::identity_of(&l.credential))
                    .unwrap_or_default(),
            },
        },
        Proposal::Update(_) => ProposalSummary::Update,
        Proposal::GroupContextExtensions(g) => {
            let policy = super::policy_ext::policy_of(&g.extensions).ok();
            let widens = policy.as_ref().is_some_and(|p| !p.is_within(current));
            ProposalSummary::ExtensionsChange { policy, widens }
        }
        other => ProposalSummary::Other {
            proposal_type: other.proposal_type().0,
        },
    }
}

/// The membership before a change, to compute the events after it.
#[derive(Debug)]
pub(super) struct Snapshot {
    pub(super) epoch: u64,
    pub(super) participants: Vec<Participant>,
}

/// Queues ParticipantLeft / ParticipantJoined for the difference (or ParticipantRejoined
/// for an external commit that replaced the committer's own previous leaf); returns
/// whether there was any. A leaf whose identity changed counts as one leaving and one
/// joining.
pub(super) fn push_membership(
    events: &mut VecDeque<Event>,
    before: &Snapshot,
    after: &[Participant],
    rejoin_of: Option<u32>,
    committer: u32,
) -> bool {
    let epoch = before.epoch.saturating_add(1);
    let mut changed = false;
    let rejoined = rejoin_of.and_then(|old| {
        let new = after.iter().find(|p| p.leaf == committer)?;
        before.participants.iter().find(|p| p.leaf == old)?;
        Some((old, new.clone()))
    });
    for p in &before.participants {
        if !after.contains(p) && rejoined.as_ref().is_none_or(|(old, _)| p.leaf != *old) {
            events.push_back(Event::ParticipantLeft {
                epoch,
                participant: p.clone(),
            });
            changed = true;
        }
    }
    for p in after {
        if !before.participants.contains(p)
            && rejoined.as_ref().is_none_or(|(_, new)| new.leaf != p.leaf)
        {
            events.push_back(Event::ParticipantJoined {
                epoch,
                participant: p.clone(),
            });
            changed = true;
        }
    }
    if let Some((old_leaf, participant)) = rejoined {
        events.push_back(Event::ParticipantRejoined {
            epoch,
            participant,
            old_leaf,
        });
        changed = true;
    }
    changed
}
