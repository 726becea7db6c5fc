//! The events a meeting queues for the UI, and how membership changes are found.

use std::collections::VecDeque;

use super::Participant;
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
    /// Our pending commit was dropped: refused, or another member's commit won the epoch.
    PendingCommitDiscarded {
        /// The epoch the commit was for.
        epoch: u64,
    },
}

/// The membership before a change, to compute the events after it.
#[derive(Debug)]
pub(super) struct Snapshot {
    pub(super) epoch: u64,
    pub(super) participants: Vec<Participant>,
}

/// Queues ParticipantLeft / ParticipantJoined for the difference; returns whether there was
/// any. A leaf whose identity changed counts as one leaving and one joining.
pub(super) fn push_membership(
    events: &mut VecDeque<Event>,
    before: &Snapshot,
    after: &[Participant],
) -> bool {
    let epoch = before.epoch.saturating_add(1);
    let mut changed = false;
    for p in &before.participants {
        if !after.contains(p) {
            events.push_back(Event::ParticipantLeft {
                epoch,
                participant: p.clone(),
            });
            changed = true;
        }
    }
    for p in after {
        if !before.participants.contains(p) {
            events.push_back(Event::ParticipantJoined {
                epoch,
                participant: p.clone(),
            });
            changed = true;
        }
    }
    changed
}
