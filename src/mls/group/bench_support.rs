//! Building large populated trees for benchmarks (cargo feature `bench-internals`; never
//! enable it in an application).
//!
//! The MLS group issue measures rotation in a *populated* tree: every member has committed
//! once, so every parent node holds a key and no leaf is unmerged. Through the public API
//! that costs O(n²) — n members each processing n commits, or n external joins each
//! validating the whole tree. [`populate`] gets the same tree in O(n log n): one throwaway
//! group state ("the actor") takes on each member's identity in turn — which needs that
//! member's real private keys, from its [`KeyPackageBundle`] — and makes that member's
//! commit through the ordinary [`Group::commit`]; the measured members process every commit
//! through [`Group::process_message`]. The commits are real, signed by each member's own key;
//! nothing is shortcut but the bookkeeping of members nobody measures.

use crate::crypto::Rng;
use crate::error::{ApiMisuse, Result};
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::TreePrivateKeys;

use super::{CommitOptions, Group, KeyPackageBundle, ProcessedMessage};

impl Group {
    /// Turns this state into the state of member `leaf`, who has not committed since it
    /// joined: its leaf still holds the LeafNode of the KeyPackage in `bundle`.
    ///
    /// Only the group's public state and epoch secrets (shared by all members) are kept;
    /// our private path keys, pending commit and cached proposals are dropped.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`] if `leaf` is blank or does not hold `bundle`'s encryption
    /// and signature keys.
    pub fn act_as_member(&mut self, leaf: LeafIndex, bundle: KeyPackageBundle) -> Result<()> {
        let node = self.tree.leaf(leaf).ok_or(ApiMisuse::NotAMember)?;
        let encryption_key = bundle.leaf_key.public_key()?;
        if node.encryption_key.as_slice() != encryption_key.as_bytes().as_slice()
            || node.signature_key.as_slice() != bundle.signer.public_key().to_bytes().as_slice()
        {
            return Err(ApiMisuse::NotAMember.into());
        }
        self.own_leaf = leaf;
        self.keys = TreePrivateKeys::new(leaf, bundle.leaf_key);
        self.signer = bundle.signer;
        self.proposals.clear();
        self.pending_commit = None;
        self.active = true;
        Ok(())
    }
}

/// Leaf indices `0 .. 2^k` in bit-reversed order: 0, 2^(k-1), 2^(k-2), 3·2^(k-2), …
///
/// Committing in this order keeps each commit cheap: when a leaf commits, the subtrees it
/// must encrypt to were, as far as possible, already covered by an earlier commit, so their
/// resolution is one node; the whole sweep costs O(n log n) HPKE encryptions instead of
/// O(n²) in index order.
fn bit_reversed(width: u32) -> impl Iterator<Item = LeafIndex> {
    let bits = width.trailing_zeros();
    (0..width).map(move |i| {
        let r = if bits == 0 {
            0
        } else {
            i.reverse_bits() >> (32 - bits)
        };
        LeafIndex(r)
    })
}

/// Makes every member of the group commit once (an empty commit with path), so the tree is
/// populated.
///
/// `members` are the states the caller keeps (e.g. the committer and the processor of a
/// benchmark): each commits itself when its turn comes and processes every other commit.
/// `actor` is a throwaway member state of the same group and epoch; it acts as every other
/// member in turn, with the bundle `bundle_of(leaf)` returns. The group should have no
/// pending proposals. Leaves commit in bit-reversed order from leaf 0 (see the module
/// documentation); every state ends at the same epoch.
///
/// # Errors
/// The first error of a commit, of processing it, or of [`Group::act_as_member`].
pub fn populate(
    members: &mut [&mut Group],
    actor: &mut Group,
    mut bundle_of: impl FnMut(LeafIndex) -> Result<KeyPackageBundle>,
    options: &CommitOptions,
    rng: &mut impl Rng,
) -> Result<()> {
    let width = actor.tree.size().leaves();
    for leaf in bit_reversed(width) {
        if actor.tree.leaf(leaf).is_none() {
            continue;
        }
        let committer = members.iter().position(|m| m.own_leaf == leaf);
        let message = match committer.and_then(|i| members.get_mut(i)) {
            Some(member) => {
                let out = member.commit(vec![], options, rng)?;
                member.merge_pending_commit()?;
                // The actor is a real member (the last one it acted as) and follows along.
                process_commit(actor, &out.commit)?;
                out.commit
            }
            None => {
                actor.act_as_member(leaf, bundle_of(leaf)?)?;
                let out = actor.commit(vec![], options, rng)?;
                actor.merge_pending_commit()?;
                out.commit
            }
        };
        for (i, member) in members.iter_mut().enumerate() {
            if Some(i) != committer {
                process_commit(member, &message)?;
            }
        }
    }
    Ok(())
}

/// Processes and merges one commit.
fn process_commit(group: &mut Group, message: &crate::mls::wire::MlsMessage) -> Result<()> {
    match group.process_message(message)? {
        ProcessedMessage::Commit(staged) => group.merge_staged_commit(*staged),
        _ => Err(ApiMisuse::UnexpectedContentType.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_reversed_order_is_a_permutation_starting_at_zero() {
        let order: Vec<u32> = bit_reversed(8).map(|l| l.0).collect();
        assert_eq!(order, [0, 4, 2, 6, 1, 5, 3, 7]);
        assert_eq!(bit_reversed(1).map(|l| l.0).collect::<Vec<_>>(), [0]);
        let mut all: Vec<u32> = bit_reversed(1024).map(|l| l.0).collect();
        all.sort_unstable();
        assert_eq!(all, (0..1024).collect::<Vec<_>>());
    }
}
