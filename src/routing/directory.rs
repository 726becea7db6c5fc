//! The relay directory: its JSON form, field validation, and the verified [`Directory`].
//!
//! ```text
//!  payload bytes ──DirectoryIn::parse──► DirectoryIn (well-formed, NOT authenticated)
//!  signed document ──DirectoryVerifier::verify──► Directory (signed, fresh, no rollback)
//! ```
//!
//! The payload is a JSON object; unknown fields and repeated keys are rejected, so every
//! reader sees the same document:
//!
//! ```text
//! { "version": 7, "issued_at": 1767225600, "expires_at": 1767312000,
//!   "relays": [ { "id": "us-east-1a", "region": "us-east", "jurisdiction": "US",
//!                 "tier": "primary", "endpoint": "relay1.example.net:443", "weight": 100 } ] }
//! ```

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::jurisdiction::Jurisdiction;
use crate::crypto::Digest;
use crate::error::{Error, Result, RoutingDocument};

/// The largest directory document (signed envelope or payload) accepted, in bytes.
pub(crate) const MAX_DIRECTORY_BYTES: usize = 8 << 20;

/// The most relays one directory may list.
pub(crate) const MAX_RELAYS: usize = 100_000;

/// The longest relay `id` or `region`, in bytes.
pub(crate) const MAX_LABEL_LEN: usize = 64;

/// The longest relay `endpoint`, in bytes.
pub(crate) const MAX_ENDPOINT_LEN: usize = 255;

/// A relay's role: tried first in its home region, or a fallback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Tried first by clients whose home region it is in.
    Primary,
    /// Used only as a fallback, within the policy's secondary limit.
    Secondary,
}

impl Tier {
    /// Parses `"primary"` or `"secondary"`.
    ///
    /// # Errors
    /// [`RoutingDocument::UnknownTier`] for anything else.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "primary" => Ok(Self::Primary),
            "secondary" => Ok(Self::Secondary),
            _ => Err(RoutingDocument::UnknownTier.into()),
        }
    }

    /// The JSON name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Secondary => "secondary",
        }
    }
}

/// One relay (datacenter) of a directory, with validated fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    id: String,
    region: String,
    jurisdiction: Jurisdiction,
    tier: Tier,
    endpoint: String,
    weight: u32,
}

impl Relay {
    /// A relay from its fields, validated as a directory's would be.
    ///
    /// `id` and `region` are 1 to 64 bytes of `A-Z a-z 0-9 . _ -`; `endpoint` is 1 to 255
    /// printable ASCII bytes without spaces; a `weight` of 0 marks a drained relay.
    ///
    /// # Errors
    /// [`RoutingDocument::InvalidField`] for a bad `id`, `region` or `endpoint`.
    pub fn new(
        id: &str,
        region: &str,
        jurisdiction: Jurisdiction,
        tier: Tier,
        endpoint: &str,
        weight: u32,
    ) -> Result<Self> {
        check_label(id)?;
        check_label(region)?;
        check_endpoint(endpoint)?;
        Ok(Self {
            id: id.to_owned(),
            region: region.to_owned(),
            jurisdiction,
            tier,
            endpoint: endpoint.to_owned(),
            weight,
        })
    }

    /// The unique id within the directory.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The operator's region name (compared with a policy's home regions).
    #[must_use]
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The ISO 3166-1 jurisdiction the relay is in.
    #[must_use]
    pub const fn jurisdiction(&self) -> Jurisdiction {
        self.jurisdiction
    }

    /// Primary or secondary.
    #[must_use]
    pub const fn tier(&self) -> Tier {
        self.tier
    }

    /// Where to connect (host:port or URL), as the operator wrote it.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The operator's preference among equally healthy relays; 0 means drained.
    #[must_use]
    pub const fn weight(&self) -> u32 {
        self.weight
    }
}

/// `id` and `region`: 1..=64 bytes of `[A-Za-z0-9._-]`.
pub(super) fn check_label(s: &str) -> Result<()> {
    let ok_char = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-');
    if (1..=MAX_LABEL_LEN).contains(&s.len()) && s.as_bytes().iter().all(ok_char) {
        Ok(())
    } else {
        Err(RoutingDocument::InvalidField.into())
    }
}

fn check_endpoint(s: &str) -> Result<()> {
    if (1..=MAX_ENDPOINT_LEN).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(RoutingDocument::InvalidField.into())
    }
}

/// A parsed, well-formed directory payload that has **not** been authenticated.
///
/// Only [`DirectoryVerifier`](super::DirectoryVerifier) turns a payload into a
/// [`Directory`] that selection accepts; this type serves signing tools and fuzzing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryIn {
    /// The operator's version number; a client never accepts a lower one after a higher.
    pub version: u64,
    /// When the operator issued it (Unix seconds).
    pub issued_at: u64,
    /// When it stops being valid (Unix seconds); later than `issued_at`.
    pub expires_at: u64,
    /// The relays, in the operator's order, with unique ids.
    pub relays: Vec<Relay>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadJson {
    version: u64,
    issued_at: u64,
    expires_at: u64,
    relays: Vec<RelayJson>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RelayJson {
    id: String,
    region: String,
    jurisdiction: String,
    tier: String,
    endpoint: String,
    weight: u32,
}

impl DirectoryIn {
    /// Parses and validates payload JSON. Does not check any signature.
    ///
    /// # Errors
    /// [`RoutingDocument::TooLarge`] above 8 MiB or 100 000 relays;
    /// [`RoutingDocument::MalformedJson`] for bad JSON, missing or unknown fields;
    /// [`RoutingDocument::UnknownTier`], [`RoutingDocument::InvalidJurisdiction`],
    /// [`RoutingDocument::InvalidField`], [`RoutingDocument::DuplicateRelayId`] and
    /// [`RoutingDocument::InvalidValidity`] for bad values.
    pub fn parse(payload: &[u8]) -> Result<Self> {
        if payload.len() > MAX_DIRECTORY_BYTES {
            return Err(RoutingDocument::TooLarge.into());
        }
        let json: PayloadJson =
            serde_json::from_slice(payload).map_err(|_| RoutingDocument::MalformedJson)?;
        if json.relays.len() > MAX_RELAYS {
            return Err(RoutingDocument::TooLarge.into());
        }
        if json.expires_at <= json.issued_at {
            return Err(RoutingDocument::InvalidValidity.into());
        }
        let relays = json
            .relays
            .iter()
            .map(|r| {
                Relay::new(
                    &r.id,
                    &r.region,
                    Jurisdiction::parse(&r.jurisdiction)?,
                    Tier::parse(&r.tier)?,
                    &r.endpoint,
                    r.weight,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let dir = Self {
            version: json.version,
            issued_at: json.issued_at,
            expires_at: json.expires_at,
            relays,
        };
        dir.check_unique_ids()?;
        Ok(dir)
    }

    /// Serializes to compact payload JSON with fields in a fixed order, after checking the
    /// same rules as [`DirectoryIn::parse`] (so the output always parses back).
    ///
    /// # Errors
    /// As [`DirectoryIn::parse`] for values that break a rule.
    pub fn to_json(&self) -> Result<Vec<u8>> {
        if self.expires_at <= self.issued_at {
            return Err(RoutingDocument::InvalidValidity.into());
        }
        if self.relays.len() > MAX_RELAYS {
            return Err(RoutingDocument::TooLarge.into());
        }
        self.check_unique_ids()?;
        let json = PayloadJson {
            version: self.version,
            issued_at: self.issued_at,
            expires_at: self.expires_at,
            relays: self
                .relays
                .iter()
                .map(|r| RelayJson {
                    id: r.id.clone(),
                    region: r.region.clone(),
                    jurisdiction: r.jurisdiction.as_str().to_owned(),
                    tier: r.tier.as_str().to_owned(),
                    endpoint: r.endpoint.clone(),
                    weight: r.weight,
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&json).map_err(|_| Error::Internal("directory JSON"))?;
        if bytes.len() > MAX_DIRECTORY_BYTES {
            return Err(RoutingDocument::TooLarge.into());
        }
        Ok(bytes)
    }

    fn check_unique_ids(&self) -> Result<()> {
        let mut seen = HashSet::with_capacity(self.relays.len());
        if self.relays.iter().all(|r| seen.insert(r.id.as_str())) {
            Ok(())
        } else {
            Err(RoutingDocument::DuplicateRelayId.into())
        }
    }

    /// The relay positions by id; fails on a repeated id.
    fn id_index(&self) -> Result<HashMap<String, u32>> {
        let mut index = HashMap::with_capacity(self.relays.len());
        for (i, r) in self.relays.iter().enumerate() {
            let i = u32::try_from(i).map_err(|_| RoutingDocument::TooLarge)?;
            if index.insert(r.id.clone(), i).is_some() {
                return Err(RoutingDocument::DuplicateRelayId.into());
            }
        }
        Ok(index)
    }
}

/// A relay directory whose signature, freshness and version a
/// [`DirectoryVerifier`](super::DirectoryVerifier) has checked: the only input
/// [`select`](super::select) routes over.
#[derive(Debug, Clone)]
pub struct Directory {
    contents: DirectoryIn,
    hash: Digest,
    /// Relay position by id, for the client's health observations.
    index: HashMap<String, u32>,
    /// The distinct regions, and each relay's position in that list.
    regions: Vec<String>,
    region_of: Vec<u32>,
}

impl Directory {
    /// Wraps a verified payload. Only the verifier calls this.
    pub(super) fn from_verified(contents: DirectoryIn, hash: Digest) -> Result<Self> {
        let index = contents.id_index()?;
        let mut region_pos: HashMap<&str, u32> = HashMap::new();
        let mut regions = Vec::new();
        let mut region_of = Vec::with_capacity(contents.relays.len());
        for r in &contents.relays {
            let next = u32::try_from(regions.len()).map_err(|_| RoutingDocument::TooLarge)?;
            let pos = *region_pos.entry(r.region.as_str()).or_insert_with(|| {
                regions.push(r.region.clone());
                next
            });
            region_of.push(pos);
        }
        Ok(Self {
            contents,
            hash,
            index,
            regions,
            region_of,
        })
    }

    /// The operator's version number.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.contents.version
    }

    /// When it was issued (Unix seconds).
    #[must_use]
    pub const fn issued_at(&self) -> u64 {
        self.contents.issued_at
    }

    /// When it expires (Unix seconds).
    #[must_use]
    pub const fn expires_at(&self) -> u64 {
        self.contents.expires_at
    }

    /// SHA-256 of the exact payload bytes that were signed.
    #[must_use]
    pub const fn hash(&self) -> Digest {
        self.hash
    }

    /// The relays, in the operator's order.
    #[must_use]
    pub fn relays(&self) -> &[Relay] {
        &self.contents.relays
    }

    /// The relay with this id, if listed.
    #[must_use]
    pub fn relay(&self, id: &str) -> Option<&Relay> {
        let i = usize::try_from(*self.index.get(id)?).ok()?;
        self.contents.relays.get(i)
    }

    /// The position of the relay with this id.
    pub(super) fn position(&self, id: &str) -> Option<usize> {
        usize::try_from(*self.index.get(id)?).ok()
    }

    /// The distinct region names, and for each relay the position of its region there.
    pub(super) fn regions(&self) -> (&[String], &[u32]) {
        (&self.regions, &self.region_of)
    }
}
