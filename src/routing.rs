//! Geofenced relay routing that falls back safely and fails closed (docs/ARCHITECTURE.md "Routing").
//!
//! A client connects to relays that forward a meeting's encrypted media and handshake
//! messages. Under load it tries several primaries in its home region, then falls back to
//! secondaries. The failure this module makes impossible: a server-supplied list that
//! includes relays in a jurisdiction the account excluded, so that under congestion calls
//! quietly go there. Servers supply relays; only the client's [`Policy`] says which are
//! inside the fence, and a directory can never widen it.
//!
//! ```text
//!  signed JSON ──DirectoryVerifier (pinned Ed25519 keys, expiry, rollback)──► Directory
//!  account policy ∩ meeting policy ──Policy::intersect──► Policy
//!  client observations ──► Health
//!  select(&policy, &directory, &health, now) ──► Decision { Route | Denied(why), AuditRecord }
//! ```
//!
//! ```
//! use meetkey::SignaturePrivateKey;
//! use meetkey::routing::{select, DirectoryVerifier, Health, Jurisdiction, Policy, SignedDirectory};
//!
//! let operator = SignaturePrivateKey::from_seed(&[7; 32])?;
//! let payload = br#"{"version":1,"issued_at":1000,"expires_at":90000,"relays":[
//!   {"id":"us-1","region":"us-east","jurisdiction":"US","tier":"primary","endpoint":"us-1.example:443","weight":10},
//!   {"id":"cn-1","region":"us-east","jurisdiction":"CN","tier":"secondary","endpoint":"cn-1.example:443","weight":99}]}"#;
//! let document = SignedDirectory::sign(payload, &operator)?.to_json()?;
//!
//! let mut verifier = DirectoryVerifier::new([operator.public_key()]);
//! let directory = verifier.verify(&document, 2000)?;
//! let policy = Policy::new("us-east")?
//!     .allow_only([Jurisdiction::parse("US")?, Jurisdiction::parse("CA")?]);
//! let decision = select(&policy, &directory, &Health::new(), 2000);
//! let route = decision.route().expect("us-1 is inside the fence");
//! assert_eq!(route.relays().map(|r| r.id()).collect::<Vec<_>>(), ["us-1"]);
//! println!("{}", decision.audit.to_json()?);
//! # Ok::<(), meetkey::Error>(())
//! ```

mod audit;
mod directory;
mod health;
mod hex;
mod jurisdiction;
mod policy;
mod select;
mod verify;

/// The SHA-256 digests the audit record carries (of the directory and of the policy).
pub use crate::crypto::Digest;
pub use audit::{AuditRecord, Denial, Reason, Verdict};
pub use directory::{Directory, DirectoryIn, Relay, Tier};
pub use health::{Health, HealthStatus, HealthThresholds, Observation};
pub use jurisdiction::{Jurisdiction, JurisdictionSet};
pub use policy::Policy;
pub use select::{select, Decision, Hop, Outcome, Route};
pub use verify::{Accepted, DirectoryVerifier, SignedDirectory};

#[cfg(test)]
mod tests;
#[cfg(test)]
use directory::{MAX_DIRECTORY_BYTES, MAX_RELAYS};
#[cfg(any(test, fuzzing))]
pub(crate) use verify::DEFAULT_MAX_CLOCK_SKEW;
#[cfg(test)]
use verify::DIRECTORY_SIGNATURE_LABEL;
