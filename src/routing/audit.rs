//! The audit record of a routing decision: which directory and fence, and why each relay was
//! chosen or left out.
//!
//! A record borrows the directory's relays rather than copying them, so auditing a decision
//! over 10 000 relays costs one small entry per relay. It serializes to JSON:
//!
//! ```text
//! { "directory_version": 7, "directory_hash": "<hex>", "policy_hash": "<hex>", "now": 1767225700,
//!   "denial": null | "NoRelayInsideFence" | …,
//!   "relays": [ { "id": "cn-1", "region": "cn-north", "jurisdiction": "CN", "tier": "secondary",
//!                 "weight": 50, "health": "Congested", "reason": { "kind": "OutsideFence" } }, … ] }
//! ```

use serde::ser::{SerializeSeq, SerializeStruct};
use serde::{Serialize, Serializer};

use super::directory::{Relay, Tier};
use super::health::HealthStatus;
use super::hex;
use super::jurisdiction::Jurisdiction;
use crate::crypto::Digest;
use crate::error::{Error, Result};

/// Why a relay is or is not in the route. Checks run in this order; the first that fails is
/// the reason recorded.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind")]
pub enum Reason {
    /// In the route, at this position (0 is tried first).
    Chosen {
        /// Position in the route.
        position: u32,
    },
    /// Its jurisdiction is not allowed by the policy (allow-list or deny-list).
    OutsideFence,
    /// A primary outside the home region, or a secondary outside it while the policy keeps
    /// secondaries at home.
    OutsideHomeRegion,
    /// The operator drained it (weight 0).
    Drained,
    /// The client's observations say it is down.
    Unhealthy,
    /// A usable primary, but the policy's primary limit was reached by better ones.
    OverPrimaryLimit,
    /// A usable secondary, but the policy's secondary limit was reached by better ones.
    OverSecondaryLimit,
    /// The directory itself had expired at decision time: none of its relays is used.
    DirectoryExpired,
}

impl Reason {
    /// Whether the relay was left out because of the fence (jurisdiction or home region).
    #[must_use]
    pub const fn is_fence_exclusion(self) -> bool {
        matches!(self, Self::OutsideFence | Self::OutsideHomeRegion)
    }
}

/// Why a decision has no route (it fails closed).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Denial {
    /// No relay of the directory lies inside the fence (jurisdiction and home-region rules).
    NoRelayInsideFence,
    /// Relays lie inside the fence, but all are down or drained.
    NoHealthyRelay,
    /// Usable relays exist, but the policy's limits allow none of their kind.
    LimitsAllowNone,
    /// The directory's `expires_at` had passed: an expired directory may list relays that
    /// were since withdrawn (or moved), so it is not routed over at all.
    DirectoryExpired,
}

/// One relay's verdict in an [`AuditRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Why it was chosen or left out.
    pub reason: Reason,
    /// Its health status at decision time.
    pub health: HealthStatus,
}

/// The serializable account of one decision: inputs by hash, and a verdict per relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord<'d> {
    pub(super) directory_version: u64,
    pub(super) directory_hash: Digest,
    pub(super) policy_hash: Digest,
    pub(super) now: u64,
    pub(super) denial: Option<Denial>,
    pub(super) relays: &'d [Relay],
    pub(super) verdicts: Vec<Verdict>,
}

impl<'d> AuditRecord<'d> {
    /// The version of the directory routed over.
    #[must_use]
    pub const fn directory_version(&self) -> u64 {
        self.directory_version
    }

    /// SHA-256 of the directory payload routed over.
    #[must_use]
    pub const fn directory_hash(&self) -> Digest {
        self.directory_hash
    }

    /// SHA-256 of the canonical encoding of the (combined) policy applied.
    #[must_use]
    pub const fn policy_hash(&self) -> Digest {
        self.policy_hash
    }

    /// The time the decision was made for (Unix seconds).
    #[must_use]
    pub const fn now(&self) -> u64 {
        self.now
    }

    /// Why the decision was a denial, if it was.
    #[must_use]
    pub const fn denial(&self) -> Option<Denial> {
        self.denial
    }

    /// Every relay of the directory with its verdict, in directory order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = (&'d Relay, Verdict)> + '_ {
        self.relays.iter().zip(self.verdicts.iter().copied())
    }

    /// The verdict on the relay with this id.
    #[must_use]
    pub fn verdict(&self, id: &str) -> Option<Verdict> {
        self.entries().find(|(r, _)| r.id() == id).map(|(_, v)| v)
    }

    /// The record as JSON.
    ///
    /// # Errors
    /// [`Error::Internal`] only if serialization fails, which it cannot for this type.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|_| Error::Internal("audit record JSON"))
    }
}

#[derive(Serialize)]
struct EntryJson<'a> {
    id: &'a str,
    region: &'a str,
    jurisdiction: Jurisdiction,
    tier: Tier,
    weight: u32,
    health: HealthStatus,
    reason: Reason,
}

struct Entries<'a, 'd>(&'a AuditRecord<'d>);

impl Serialize for Entries<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.verdicts.len()))?;
        for (r, v) in self.0.entries() {
            seq.serialize_element(&EntryJson {
                id: r.id(),
                region: r.region(),
                jurisdiction: r.jurisdiction(),
                tier: r.tier(),
                weight: r.weight(),
                health: v.health,
                reason: v.reason,
            })?;
        }
        seq.end()
    }
}

impl Serialize for AuditRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("AuditRecord", 6)?;
        st.serialize_field("directory_version", &self.directory_version)?;
        st.serialize_field(
            "directory_hash",
            &hex::encode(self.directory_hash.as_bytes()),
        )?;
        st.serialize_field("policy_hash", &hex::encode(self.policy_hash.as_bytes()))?;
        st.serialize_field("now", &self.now)?;
        st.serialize_field("denial", &self.denial)?;
        st.serialize_field("relays", &Entries(self))?;
        st.end()
    }
}
