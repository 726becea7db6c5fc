//! Our commit between sending and the delivery service's answer: what it was meant to do
//! (given back if it is lost, to re-issue in one call) and its Welcome, released only once
//! the commit is confirmed (a joiner must never enter an epoch that did not happen).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::Rng;
use crate::error::{InvalidMessage, Result};
use crate::mls::wire::{KeyPackage, MlsMessage, MAX_VEC_LEN};
use crate::routing::Policy;

use super::{Governance, Meeting, Outgoing};

/// What a commit of ours was meant to do. [`Event::PendingCommitDiscarded`] gives it back
/// when the commit is lost (another member's commit won the epoch, or the delivery service
/// refused it); [`Meeting::retry`] re-issues it.
///
/// [`Event::PendingCommitDiscarded`]: super::Event::PendingCommitDiscarded
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitIntent {
    /// [`Meeting::add`] of these KeyPackages.
    Add(Vec<KeyPackage>),
    /// [`Meeting::remove`] of this leaf.
    Remove(u32),
    /// [`Meeting::rotate`] (also a scheduled rotation).
    Rotate,
    /// [`Meeting::set_policy`] to this policy.
    SetPolicy(Policy),
    /// [`Meeting::set_governance`] to this governance.
    SetGovernance(Governance),
}

/// Our commit in flight.
#[derive(Debug)]
pub(super) struct PendingCommit {
    /// The encoding of the commit as sent, to recognise the delivery service's echo.
    pub(super) bytes: Vec<u8>,
    /// Its Welcome, held back until the commit is confirmed.
    pub(super) welcome: Option<MlsMessage>,
    /// What it was meant to do.
    pub(super) intent: CommitIntent,
}

impl Meeting {
    /// Re-issues what a lost commit of ours was meant to do (from
    /// [`Event::PendingCommitDiscarded`](super::Event::PendingCommitDiscarded)), against the
    /// epoch the meeting is in now.
    ///
    /// # Errors
    /// As the call the intent names: e.g. an Add whose KeyPackage the winning commit already
    /// added is refused, a Remove of a leaf that is gone is
    /// [`PeerMisbehaved::InvalidProposalList`](crate::error::PeerMisbehaved::InvalidProposalList).
    pub fn retry(
        &mut self,
        intent: &CommitIntent,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        match intent {
            CommitIntent::Add(kps) => self.add(kps, now, rng),
            CommitIntent::Remove(leaf) => self.remove(*leaf, now, rng),
            CommitIntent::Rotate => self.rotate(now, rng),
            CommitIntent::SetPolicy(p) => self.set_policy(p, now, rng),
            CommitIntent::SetGovernance(g) => self.set_governance(g, now, rng),
        }
    }

    /// The Welcome of our last confirmed commit that added participants, once (send it to
    /// them through the delivery service). A commit that was lost never releases its
    /// Welcome.
    pub fn take_welcome(&mut self) -> Option<MlsMessage> {
        self.released_welcome.take()
    }
}

impl CommitIntent {
    /// ```text
    ///  uint8 tag;  1: uint32 n, KeyPackage[n] | 2: uint32 leaf | 3: - |
    ///              4: opaque policy<V> | 5: opaque governance<V>
    /// ```
    pub(super) fn write(&self, w: &mut Writer) {
        match self {
            Self::Add(kps) => {
                w.write_u8(1);
                w.write_u32(u32::try_from(kps.len()).unwrap_or(u32::MAX));
                for kp in kps {
                    kp.encode(w);
                }
            }
            Self::Remove(leaf) => {
                w.write_u8(2);
                w.write_u32(*leaf);
            }
            Self::Rotate => w.write_u8(3),
            Self::SetPolicy(p) => {
                w.write_u8(4);
                w.write_opaque(&p.encode_canonical());
            }
            Self::SetGovernance(g) => {
                w.write_u8(5);
                w.write_opaque(&g.encode_canonical());
            }
        }
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(match r.read_u8()? {
            1 => {
                let n = r.read_u32()?;
                let mut kps = Vec::new();
                for _ in 0..n {
                    kps.push(KeyPackage::decode(r)?);
                }
                Self::Add(kps)
            }
            2 => Self::Remove(r.read_u32()?),
            3 => Self::Rotate,
            4 => Self::SetPolicy(Policy::decode_canonical(r.read_opaque(MAX_VEC_LEN)?)?),
            5 => Self::SetGovernance(Governance::decode_canonical(r.read_opaque(MAX_VEC_LEN)?)?),
            _ => return Err(InvalidMessage::InvalidValue.into()),
        })
    }
}

impl PendingCommit {
    /// ```text
    ///  opaque commit<V>; uint8 has_welcome; [MLSMessage welcome]; CommitIntent intent
    /// ```
    pub(super) fn write(&self, w: &mut Writer) {
        w.write_opaque(&self.bytes);
        write_optional_message(self.welcome.as_ref(), w);
        self.intent.write(w);
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            bytes: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            welcome: read_optional_message(r)?,
            intent: CommitIntent::read(r)?,
        })
    }
}

/// `uint8 present; [opaque message<V>]`.
pub(super) fn write_optional_message(m: Option<&MlsMessage>, w: &mut Writer) {
    match m {
        None => w.write_u8(0),
        Some(m) => {
            w.write_u8(1);
            w.write_prefixed(|w| m.encode(w));
        }
    }
}

pub(super) fn read_optional_message(r: &mut Reader<'_>) -> Result<Option<MlsMessage>> {
    match r.read_u8()? {
        0 => Ok(None),
        1 => Ok(Some(MlsMessage::decode_exact(r.read_opaque(MAX_VEC_LEN)?)?)),
        _ => Err(InvalidMessage::InvalidValue.into()),
    }
}
