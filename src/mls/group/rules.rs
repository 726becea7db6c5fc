//! The application's rules for commits: one function that the committer runs on the commit
//! it is about to send and every receiver runs on the commit it is about to merge, so that
//! honest members cannot disagree about a commit's validity.

use crate::error::Result;
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::RatchetTree;
use crate::mls::wire::{Extension, GroupContext, LeafNode, Proposal, Sender};

/// What a rule may look at: the group before the commit and what the commit does. Nothing
/// here depends on who evaluates it, so every member computes the same verdict.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
// The rule interface offers the whole commit; the meeting's rules read part of it.
#[allow(dead_code)]
pub(crate) struct CommitCheck<'a> {
    /// The GroupContext of the epoch the commit leaves.
    pub context: &'a GroupContext,
    /// The ratchet tree of that epoch.
    pub tree: &'a RatchetTree,
    /// Who commits (`member`, or `new_member_commit` for an external commit).
    pub sender: &'a Sender,
    /// The committer's leaf in the new epoch (for an external commit, the joiner's).
    pub committer: LeafIndex,
    /// The committer's new leaf from the UpdatePath, if the commit has one.
    pub path_leaf: Option<&'a LeafNode>,
    /// The committed proposals, each with the sender that proposed it.
    pub proposals: &'a [(Proposal, Sender)],
    /// The GroupContext extensions of the new epoch.
    pub new_extensions: &'a [Extension],
    /// Leaves the commit removes.
    pub removed: &'a [LeafIndex],
    /// For an external commit that removes the joiner's own previous leaf: that leaf.
    pub rejoin_of: Option<LeafIndex>,
}

/// Application rules for commits (e.g. a meeting's geofence governance). Implementations
/// MUST be deterministic functions of the [`CommitCheck`] (no clock, no local setting that
/// members could set differently): a commit one member's rules accept and another's refuse
/// splits the group.
pub(crate) trait CommitRules: core::fmt::Debug + Send + Sync {
    /// Accepts or refuses a commit.
    ///
    /// # Errors
    /// The rule the commit breaks; the commit is then neither sent nor merged.
    fn check_commit(&self, commit: &CommitCheck<'_>) -> Result<()>;
}

/// No rules beyond RFC 9420's.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NoCommitRules;

impl CommitRules for NoCommitRules {
    fn check_commit(&self, _commit: &CommitCheck<'_>) -> Result<()> {
        Ok(())
    }
}
