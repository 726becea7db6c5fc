//! Who may change a meeting's rules, carried in the group so every member checks it the same
//! way, and the meeting's commit rules (run by committer and receivers alike).
//!
//! ```text
//!  Extension {
//!      extension_type = 0xF0A2            (private use, RFC 9420 §17.3)
//!      extension_data = struct {
//!          uint8 encoding_version = 1;
//!          opaque admins<V><V>;           // credential identities, strictly ascending
//!          uint8 external_joins;          // 0 closed, 1 rejoin only, 2 open
//!      } Governance;
//!  }
//! ```
//!
//! Rules, for every commit (see [`MeetingRules`]):
//! - the new epoch still carries a valid geofence policy, and `required_capabilities` still
//!   names the meeting's extensions, so no member without them can be added;
//! - narrowing the fence is open to every member; widening it in any way, or changing the
//!   governance, only to a committer whose identity is one of the admins of the epoch the
//!   commit leaves (a meeting without governance has no admins: its fence only narrows);
//! - an external commit only as `external_joins` allows: never, only to replace the joiner's
//!   own previous leaf (same identity and signature key), or from anyone.

use std::collections::BTreeSet;

use crate::codec::{Reader, Writer};
use crate::error::{InvalidMessage, PeerMisbehaved, Result};
use crate::mls::group::{CommitCheck, CommitRules};
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{Credential, Extension, ExtensionType, Sender};

use super::policy_ext::{self, GEOFENCE_EXTENSION};

/// `meetkey_governance`: the meeting's [`Governance`], canonically encoded.
pub(crate) const GOVERNANCE_EXTENSION: ExtensionType = ExtensionType(0xF0A2);

const ENCODING_VERSION: u8 = 1;
/// The most admins a meeting lists.
pub(crate) const MAX_ADMINS: usize = 256;
const MAX_IDENTITY_LEN: usize = 1024;

/// Who may join a meeting by external commit (RFC 9420 §12.4.3.2), as a meeting rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalJoins {
    /// Never: every new participant is added by a member (a Welcome), e.g. after a join
    /// request was admitted from the waiting room.
    Closed,
    /// Only a participant replacing its own previous leaf (a device that lost its state
    /// rejoins); the default. Whoever holds the GroupInfo — the delivery service — cannot
    /// add itself.
    RejoinOnly,
    /// Anyone the credential validator accepts who holds the GroupInfo.
    Open,
}

/// The meeting's governance: its policy admins and who may join by external commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governance {
    admins: BTreeSet<Vec<u8>>,
    external_joins: ExternalJoins,
}

impl Governance {
    /// Governance with `admins` (credential identities) and the given external-join rule.
    ///
    /// # Errors
    /// [`InvalidMessage::LengthTooLarge`] for more than 256 admins or an identity
    /// over 1 024 bytes; [`InvalidMessage::InvalidValue`] for an empty identity.
    pub fn new<I: AsRef<[u8]>>(
        admins: impl IntoIterator<Item = I>,
        external_joins: ExternalJoins,
    ) -> Result<Self> {
        let admins: BTreeSet<Vec<u8>> = admins.into_iter().map(|a| a.as_ref().to_vec()).collect();
        if admins.len() > MAX_ADMINS || admins.iter().any(|a| a.len() > MAX_IDENTITY_LEN) {
            return Err(InvalidMessage::LengthTooLarge.into());
        }
        if admins.iter().any(Vec::is_empty) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        Ok(Self {
            admins,
            external_joins,
        })
    }

    /// Whether `identity` is a policy admin.
    #[must_use]
    pub fn is_admin(&self, identity: &[u8]) -> bool {
        self.admins.contains(identity)
    }

    /// The admins' identities, in ascending order.
    pub fn admins(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.admins.iter().map(Vec::as_slice)
    }

    /// Who may join by external commit.
    #[must_use]
    pub const fn external_joins(&self) -> ExternalJoins {
        self.external_joins
    }

    /// The canonical encoding (see the module docs).
    #[must_use]
    pub fn encode_canonical(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.write_u8(ENCODING_VERSION);
        w.write_prefixed(|w| {
            for a in &self.admins {
                w.write_opaque(a);
            }
        });
        w.write_u8(match self.external_joins {
            ExternalJoins::Closed => 0,
            ExternalJoins::RejoinOnly => 1,
            ExternalJoins::Open => 2,
        });
        w.as_bytes().to_vec()
    }

    /// Decodes the canonical encoding, refusing any other (unsorted or repeated admins, an
    /// unknown version or value, trailing bytes).
    ///
    /// # Errors
    /// [`InvalidMessage`] for any non-canonical or malformed encoding.
    pub fn decode_canonical(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.read_u8()? != ENCODING_VERSION {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let mut list = r.sub(MAX_ADMINS * (MAX_IDENTITY_LEN + 2))?;
        let mut admins: BTreeSet<Vec<u8>> = BTreeSet::new();
        while !list.is_empty() {
            let a = list.read_opaque(MAX_IDENTITY_LEN)?.to_vec();
            let ascending = admins.last().is_none_or(|last| *last < a);
            if a.is_empty() || !ascending || admins.len() >= MAX_ADMINS {
                return Err(InvalidMessage::InvalidValue.into());
            }
            admins.insert(a);
        }
        let external_joins = match r.read_u8()? {
            0 => ExternalJoins::Closed,
            1 => ExternalJoins::RejoinOnly,
            2 => ExternalJoins::Open,
            _ => return Err(InvalidMessage::InvalidValue.into()),
        };
        r.finish()?;
        Ok(Self {
            admins,
            external_joins,
        })
    }

    /// The extension carrying this governance.
    #[must_use]
    pub fn extension(&self) -> Extension {
        Extension {
            extension_type: GOVERNANCE_EXTENSION,
            extension_data: self.encode_canonical(),
        }
    }
}

/// The governance among GroupContext `extensions`, `None` for a meeting without one.
///
/// # Errors
/// [`PeerMisbehaved::MeetingPolicyMissing`] when the extension does not decode canonically.
pub(super) fn governance_of(extensions: &[Extension]) -> Result<Option<Governance>> {
    extensions
        .iter()
        .find(|e| e.extension_type == GOVERNANCE_EXTENSION)
        .map(|e| {
            Governance::decode_canonical(&e.extension_data)
                .map_err(|_| PeerMisbehaved::MeetingPolicyMissing.into())
        })
        .transpose()
}

/// The identity of a basic credential (others have none a meeting can name).
fn identity(credential: &Credential) -> Option<&[u8]> {
    match credential {
        Credential::Basic { identity } => Some(identity),
        Credential::X509 { .. } => None,
    }
}

/// The extension types a meeting's `required_capabilities` must name.
fn required_ok(extensions: &[Extension], with_governance: bool) -> Result<bool> {
    let (exts, _, _) = crate::mls::validate::required_capabilities(extensions)?;
    Ok(exts.contains(&GEOFENCE_EXTENSION)
        && (!with_governance || exts.contains(&GOVERNANCE_EXTENSION)))
}

/// Leaves of the epoch `c` leads to: the committer, the leaves the Adds take (RFC 9420
/// §12.1.1: the leftmost blank leaf, removed ones included, else a new one on the right)
/// and, with `staying`, the members that stay. Without Adds and `staying` nothing is
/// scanned: a rotation costs no pass over the tree.
fn new_epoch_leaves(c: &CommitCheck<'_>, staying: bool) -> Vec<LeafIndex> {
    let adds = c
        .proposals
        .iter()
        .filter(|(p, _)| matches!(p, crate::mls::wire::Proposal::Add(_)))
        .count();
    if adds == 0 && !staying {
        return vec![c.committer];
    }
    let width = c.tree.size().leaves();
    let mut occupied = vec![false; usize::try_from(width).unwrap_or(0)];
    for (l, _) in c.tree.leaves() {
        if let Some(slot) = usize::try_from(l.0).ok().and_then(|i| occupied.get_mut(i)) {
            *slot = !c.removed.contains(&l);
        }
    }
    let is_occupied = |i: u32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| occupied.get(i))
            .copied()
    };
    let mut leaves: Vec<LeafIndex> = if staying {
        (0..width)
            .filter(|&i| is_occupied(i).unwrap_or(false))
            .map(LeafIndex)
            .collect()
    } else {
        Vec::new()
    };
    let mut blanks = (0..width).filter(|&i| !is_occupied(i).unwrap_or(true));
    let mut next = width;
    for _ in 0..adds {
        let leaf = blanks.next().unwrap_or_else(|| {
            next = next.saturating_add(1);
            next - 1
        });
        leaves.push(LeafIndex(leaf));
    }
    leaves.push(c.committer);
    leaves
}

/// A meeting's commit rules (see the module docs). Every input is group state or the
/// commit, so every member reaches the same verdict.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MeetingRules;

impl CommitRules for MeetingRules {
    fn check_commit(&self, c: &CommitCheck<'_>) -> Result<()> {
        let old_policy = policy_ext::policy_of(&c.context.extensions)?;
        let new_policy = policy_ext::policy_of(c.new_extensions)?;
        let old_gov = governance_of(&c.context.extensions)?;
        let new_gov = governance_of(c.new_extensions)?;
        if !required_ok(c.new_extensions, new_gov.is_some())? {
            return Err(PeerMisbehaved::MeetingPolicyMissing.into());
        }
        let widened = !new_policy.is_within(&old_policy);
        let governance_changed = old_gov != new_gov;
        if widened || governance_changed {
            let admin = match (c.sender, &old_gov) {
                (Sender::Member(l), Some(g)) => c
                    .tree
                    .leaf(LeafIndex(*l))
                    .and_then(|leaf| identity(&leaf.credential))
                    .is_some_and(|id| g.is_admin(id)),
                _ => false,
            };
            if !admin {
                return Err(PeerMisbehaved::PolicyChangeUnauthorized.into());
            }
        }
        super::media_ext::check_commit(&c.context.extensions, c.new_extensions, |staying| {
            new_epoch_leaves(c, staying)
        })?;
        if *c.sender == Sender::NewMemberCommit {
            let rule = old_gov
                .as_ref()
                .map_or(ExternalJoins::Open, Governance::external_joins);
            let allowed = match rule {
                ExternalJoins::Closed => false,
                ExternalJoins::RejoinOnly => c.rejoin_of.is_some(),
                ExternalJoins::Open => true,
            };
            if !allowed {
                return Err(PeerMisbehaved::ExternalJoinRefused.into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn governance_round_trips_and_refuses_non_canonical_encodings() {
        let g = Governance::new([b"bob".as_slice(), b"alice"], ExternalJoins::RejoinOnly).unwrap();
        let bytes = g.encode_canonical();
        assert_eq!(Governance::decode_canonical(&bytes).unwrap(), g);
        assert!(g.is_admin(b"alice") && !g.is_admin(b"carol"));
        // Unsorted admins, a bad join rule, a bad version, trailing bytes.
        let mut w = Writer::new();
        w.write_u8(1);
        w.write_prefixed(|w| {
            w.write_opaque(b"bob");
            w.write_opaque(b"alice");
        });
        w.write_u8(1);
        let unsorted = w.as_bytes().to_vec();
        let mut bad_rule = bytes.clone();
        *bad_rule.last_mut().unwrap() = 3;
        let mut bad_version = bytes.clone();
        bad_version[0] = 2;
        let mut trailing = bytes;
        trailing.push(0);
        for bad in [unsorted, bad_rule, bad_version, trailing] {
            assert!(Governance::decode_canonical(&bad).is_err_and(|e| matches!(
                e,
                crate::Error::InvalidMessage(
                    InvalidMessage::InvalidValue | InvalidMessage::TrailingBytes
                )
            )));
        }
        assert!(Governance::new([b"".as_slice()], ExternalJoins::Open)
            .is_err_and(|e| e == crate::Error::InvalidMessage(InvalidMessage::InvalidValue)));
    }
}
