//! The geofence policy an account owner sets, its intersection, and its canonical encoding.
//!
//! A policy is a set of constraints; every operation on it after [`Policy::new`] can only
//! narrow the fence, and nothing in a directory is ever read into it. A meeting's policy and
//! a client's own combine with [`Policy::intersect`]: a relay passes the result only if it
//! passes both.
//!
//! The canonical encoding (MLS presentation language, RFC 9420 §2.1) is what the meeting's
//! GroupContext extension will carry and what [`Policy::hash`] covers:
//!
//! ```text
//! struct {
//!     uint8 encoding_version = 1;
//!     opaque home_regions<V>;              // Region, strictly ascending
//!     optional<Jurisdiction allowed<V>>;   // 2 ASCII bytes each, strictly ascending
//!     Jurisdiction denied<V>;              // empty whenever `allowed` is present
//!     uint8 max_primaries;
//!     uint8 max_secondaries;
//!     uint8 secondaries_outside_home;      // 0 or 1
//! } GeofencePolicy;
//! struct { opaque name<V>; } Region;       // 1..64 bytes of [A-Za-z0-9._-]
//! ```

use std::collections::BTreeSet;

use super::directory::{check_label, MAX_LABEL_LEN};
use super::jurisdiction::{Jurisdiction, JurisdictionSet};
use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{sha256, Digest};
use crate::error::{InvalidMessage, Result, RoutingDocument};

const ENCODING_VERSION: u8 = 1;
/// The most home regions a policy may list.
pub(crate) const MAX_HOME_REGIONS: usize = 64;
const MAX_REGIONS_BYTES: usize = MAX_HOME_REGIONS * (MAX_LABEL_LEN + 1);
const MAX_CODES_BYTES: usize = 2 * 26 * 26;

/// A geofence: where a client's calls may be relayed, and how far it may fall back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    home_regions: BTreeSet<String>,
    /// `None`: every jurisdiction not denied. Invariant: `Some` ⇒ `denied` is empty.
    allowed: Option<JurisdictionSet>,
    denied: JurisdictionSet,
    max_primaries: u8,
    max_secondaries: u8,
    secondaries_outside_home: bool,
}

impl Policy {
    /// A policy for `home_region` that allows every jurisdiction, tries up to 3 primaries
    /// and 2 secondaries, and keeps secondaries inside the home region.
    ///
    /// # Errors
    /// [`RoutingDocument::InvalidField`] for a region name that is not 1 to 64 bytes of
    /// `A-Z a-z 0-9 . _ -`.
    pub fn new(home_region: &str) -> Result<Self> {
        check_label(home_region)?;
        Ok(Self {
            home_regions: BTreeSet::from([home_region.to_owned()]),
            allowed: None,
            denied: JurisdictionSet::EMPTY,
            max_primaries: 3,
            max_secondaries: 2,
            secondaries_outside_home: false,
        })
    }

    /// Allows only jurisdictions in `codes` (and in any allow-list set before): narrows.
    #[must_use]
    pub fn allow_only(mut self, codes: impl IntoIterator<Item = Jurisdiction>) -> Self {
        let codes: JurisdictionSet = codes.into_iter().collect();
        let allowed = self.allowed.unwrap_or_else(JurisdictionSet::all);
        self.allowed = Some(allowed.intersection(&codes).difference(&self.denied));
        self.denied = JurisdictionSet::EMPTY;
        self
    }

    /// Denies the jurisdictions in `codes`: narrows.
    #[must_use]
    pub fn deny(mut self, codes: impl IntoIterator<Item = Jurisdiction>) -> Self {
        let codes: JurisdictionSet = codes.into_iter().collect();
        match &mut self.allowed {
            Some(allowed) => *allowed = allowed.difference(&codes),
            None => self.denied = self.denied.union(&codes),
        }
        self
    }

    /// Sets how many primaries (in the home region) a route may list.
    #[must_use]
    pub const fn with_max_primaries(mut self, n: u8) -> Self {
        self.max_primaries = n;
        self
    }

    /// Sets how many secondaries a route may list after the primaries.
    #[must_use]
    pub const fn with_max_secondaries(mut self, n: u8) -> Self {
        self.max_secondaries = n;
        self
    }

    /// Sets whether secondaries outside the home region may be used at all.
    #[must_use]
    pub const fn with_secondaries_outside_home(mut self, allowed: bool) -> Self {
        self.secondaries_outside_home = allowed;
        self
    }

    /// The policy that allows only what both `self` and `other` allow: the intersection of
    /// home regions and jurisdictions, the smaller limits, and secondaries outside the home
    /// region only if both allow them.
    #[must_use]
    pub fn intersect(&self, other: &Self) -> Self {
        let allowed = match (self.allowed, other.allowed) {
            (None, None) => None,
            (Some(a), None) | (None, Some(a)) => Some(a),
            (Some(a), Some(b)) => Some(a.intersection(&b)),
        };
        let denied = self.denied.union(&other.denied);
        let (allowed, denied) = match allowed {
            Some(a) => (Some(a.difference(&denied)), JurisdictionSet::EMPTY),
            None => (None, denied),
        };
        Self {
            home_regions: self
                .home_regions
                .intersection(&other.home_regions)
                .cloned()
                .collect(),
            allowed,
            denied,
            max_primaries: self.max_primaries.min(other.max_primaries),
            max_secondaries: self.max_secondaries.min(other.max_secondaries),
            secondaries_outside_home: self.secondaries_outside_home
                && other.secondaries_outside_home,
        }
    }

    /// Whether `self` allows nothing that `wider` does not: every route `self` permits,
    /// `wider` permits too (the home regions, the fence, the limits and the
    /// outside-home rule are each at most as permissive).
    #[must_use]
    pub(crate) fn is_within(&self, wider: &Self) -> bool {
        self.home_regions.is_subset(&wider.home_regions)
            && self.fence().difference(&wider.fence()) == JurisdictionSet::EMPTY
            && self.max_primaries <= wider.max_primaries
            && self.max_secondaries <= wider.max_secondaries
            && (!self.secondaries_outside_home || wider.secondaries_outside_home)
    }

    /// The jurisdictions a relay may be in.
    #[must_use]
    pub fn fence(&self) -> JurisdictionSet {
        self.allowed
            .unwrap_or_else(|| JurisdictionSet::all().difference(&self.denied))
    }

    /// Whether a relay in `j` is inside the fence.
    #[must_use]
    pub fn permits_jurisdiction(&self, j: Jurisdiction) -> bool {
        self.fence().contains(j)
    }

    /// Whether `region` is a home region (an intersection may leave none).
    #[must_use]
    pub fn is_home_region(&self, region: &str) -> bool {
        self.home_regions.contains(region)
    }

    /// The home regions, in ascending order.
    #[cfg(test)]
    pub(crate) fn home_regions(&self) -> impl Iterator<Item = &str> + '_ {
        self.home_regions.iter().map(String::as_str)
    }

    /// How many primaries a route may list.
    #[must_use]
    pub const fn max_primaries(&self) -> u8 {
        self.max_primaries
    }

    /// How many secondaries a route may list.
    #[must_use]
    pub const fn max_secondaries(&self) -> u8 {
        self.max_secondaries
    }

    /// Whether secondaries outside the home region may be used.
    #[must_use]
    pub const fn secondaries_outside_home(&self) -> bool {
        self.secondaries_outside_home
    }

    /// The canonical encoding (see the module docs).
    #[must_use]
    pub fn encode_canonical(&self) -> Vec<u8> {
        // Cannot overflow: at most 64 home regions of 64 bytes and two sets of 676 codes,
        // far below the 2^30-byte varint limit.
        let mut w = Writer::with_capacity(64);
        self.encode(&mut w);
        debug_assert!(!w.overflowed());
        w.as_bytes().to_vec()
    }

    /// Decodes a canonical encoding, rejecting any other encoding of the same policy.
    ///
    /// # Errors
    /// Codec errors ([`InvalidMessage::Truncated`](crate::error::InvalidMessage::Truncated),
    /// `TrailingBytes`, `LengthTooLarge`, …); [`RoutingDocument::NonCanonical`] for an
    /// unknown encoding version, unsorted or repeated members, a denied list next to an
    /// allow-list, or a flag other than 0 or 1; [`RoutingDocument::TooLarge`] for more than
    /// 64 home regions; [`RoutingDocument::InvalidJurisdiction`] and
    /// [`RoutingDocument::InvalidField`] for bad codes and region names.
    pub fn decode_canonical(bytes: &[u8]) -> Result<Self> {
        Self::decode_exact(bytes)
    }

    /// SHA-256 of the canonical encoding: names this exact fence in audit records.
    #[must_use]
    pub fn hash(&self) -> Digest {
        sha256(&self.encode_canonical())
    }
}

fn write_codes(w: &mut Writer, set: &JurisdictionSet) {
    w.write_prefixed(|w| set.iter().for_each(|j| w.write_raw(&j.to_bytes())));
}

fn read_codes(r: &mut Reader<'_>) -> Result<JurisdictionSet> {
    let mut sub = r.sub(MAX_CODES_BYTES)?;
    let mut set = JurisdictionSet::EMPTY;
    let mut prev: Option<Jurisdiction> = None;
    while !sub.is_empty() {
        let j = Jurisdiction::from_bytes(sub.take_array()?)?;
        if prev.is_some_and(|p| p >= j) {
            return Err(RoutingDocument::NonCanonical.into());
        }
        set.insert(j);
        prev = Some(j);
    }
    Ok(set)
}

fn read_flag(r: &mut Reader<'_>) -> Result<bool> {
    match r.read_u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(RoutingDocument::NonCanonical.into()),
    }
}

impl Encode for Policy {
    fn encode(&self, w: &mut Writer) {
        w.write_u8(ENCODING_VERSION);
        w.write_prefixed(|w| {
            for region in &self.home_regions {
                w.write_opaque(region.as_bytes());
            }
        });
        match &self.allowed {
            None => w.write_u8(0),
            Some(allowed) => {
                w.write_u8(1);
                write_codes(w, allowed);
            }
        }
        write_codes(w, &self.denied);
        w.write_u8(self.max_primaries);
        w.write_u8(self.max_secondaries);
        w.write_u8(u8::from(self.secondaries_outside_home));
    }
}

impl Decode for Policy {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        if r.read_u8()? != ENCODING_VERSION {
            return Err(RoutingDocument::NonCanonical.into());
        }
        let mut regions = r.sub(MAX_REGIONS_BYTES)?;
        let mut home_regions = BTreeSet::new();
        while !regions.is_empty() {
            let name = core::str::from_utf8(regions.read_opaque(MAX_LABEL_LEN)?)
                .map_err(|_| RoutingDocument::InvalidField)?;
            check_label(name)?;
            if home_regions
                .last()
                .is_some_and(|last: &String| last.as_str() >= name)
            {
                return Err(RoutingDocument::NonCanonical.into());
            }
            if home_regions.len() >= MAX_HOME_REGIONS {
                return Err(RoutingDocument::TooLarge.into());
            }
            home_regions.insert(name.to_owned());
        }
        let allowed = match r.read_u8()? {
            0 => None,
            1 => Some(read_codes(r)?),
            _ => return Err(InvalidMessage::InvalidOptionalPresence.into()),
        };
        let denied = read_codes(r)?;
        if allowed.is_some() && !denied.is_empty() {
            return Err(RoutingDocument::NonCanonical.into());
        }
        Ok(Self {
            home_regions,
            allowed,
            denied,
            max_primaries: r.read_u8()?,
            max_secondaries: r.read_u8()?,
            secondaries_outside_home: read_flag(r)?,
        })
    }
}
