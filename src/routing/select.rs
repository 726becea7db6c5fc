//! `select(policy, directory, health, now)`: the ordered route, or a denial, with its audit.
//!
//! ```text
//!  for each relay (directory order), the first failing check is its reason:
//!    jurisdiction ∉ policy fence                          ─► OutsideFence
//!    primary outside home / secondary outside home (¬ok)  ─► OutsideHomeRegion
//!    weight = 0                                           ─► Drained
//!    health = Down                                        ─► Unhealthy
//!    otherwise a candidate of its tier
//!  route = best max_primaries primaries   (by health, then weight, then directory order)
//!        ++ best max_secondaries secondaries (home region first, then as above)
//!  empty route ─► Denied(reason)   — never anything outside the fence
//!  now ≥ directory.expires_at ─► every relay DirectoryExpired, Denied(DirectoryExpired)
//! ```
//!
//! A pure function: no I/O, no clock, no globals, and a total order on candidates, so the
//! same inputs always give the same decision.

use super::audit::{AuditRecord, Denial, Reason, Verdict};
use super::directory::{Directory, Relay, Tier};
use super::health::{Health, HealthStatus};
use super::policy::Policy;

/// One relay of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop<'d> {
    /// The relay to try.
    pub relay: &'d Relay,
    /// Whether it is tried as a primary or as a secondary (fallback).
    pub role: Tier,
    /// Its health status at decision time.
    pub health: HealthStatus,
}

/// A non-empty, ordered list of relays to try, all inside the fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<'d> {
    hops: Vec<Hop<'d>>,
}

impl<'d> Route<'d> {
    /// The relays in the order to try them: primaries, then secondaries.
    #[must_use]
    pub fn hops(&self) -> &[Hop<'d>] {
        &self.hops
    }

    /// The relays in the order to try them.
    pub fn relays(&self) -> impl ExactSizeIterator<Item = &'d Relay> + '_ {
        self.hops.iter().map(|h| h.relay)
    }

    /// The number of relays (at least one).
    #[must_use]
    pub fn len(&self) -> usize {
        self.hops.len()
    }

    /// Always `false`: a decision with no relay is a denial instead.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hops.is_empty()
    }
}

/// What to do: a route, or a denial that says why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'d> {
    /// Relays to try, in order.
    Route(Route<'d>),
    /// No compliant relay is usable: do not connect anywhere.
    Denied(Denial),
}

/// A routing decision and its audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'d> {
    /// The route or the denial.
    pub outcome: Outcome<'d>,
    /// Why, relay by relay.
    pub audit: AuditRecord<'d>,
}

impl<'d> Decision<'d> {
    /// The route, unless the decision is a denial.
    #[must_use]
    pub const fn route(&self) -> Option<&Route<'d>> {
        match &self.outcome {
            Outcome::Route(r) => Some(r),
            Outcome::Denied(_) => None,
        }
    }

    /// The denial reason, unless there is a route.
    #[must_use]
    pub const fn denial(&self) -> Option<Denial> {
        match self.outcome {
            Outcome::Route(_) => None,
            Outcome::Denied(d) => Some(d),
        }
    }
}

/// Chooses the relays a client may use under `policy`, or denies (fails closed).
///
/// `health` is this client's own observations and `now` the current Unix time; nothing here
/// reads a clock or does I/O. The directory can only offer relays: which of them are inside
/// the fence is decided by `policy` alone.
#[must_use]
pub fn select<'d>(
    policy: &Policy,
    directory: &'d Directory,
    health: &Health,
    now: u64,
) -> Decision<'d> {
    let relays = directory.relays();
    let fence = policy.fence();
    let (regions, region_of) = directory.regions();
    let home: Vec<bool> = regions.iter().map(|r| policy.is_home_region(r)).collect();
    let statuses = health.statuses(directory, now);

    let mut verdicts = Vec::with_capacity(relays.len());
    let (mut primaries, mut secondaries) = (Vec::new(), Vec::new());
    let mut inside_fence = false;
    let mut usable = false;
    // Fail closed on an expired directory (however it was obtained: verification checks
    // expiry once, but a client may keep routing over it for hours).
    let expired = now >= directory.expires_at();
    let rows = relays.iter().zip(region_of).zip(&statuses).enumerate();
    for (i, ((relay, &region), &health)) in rows {
        if expired {
            verdicts.push(Verdict {
                reason: Reason::DirectoryExpired,
                health,
            });
            continue;
        }
        let in_home = usize::try_from(region)
            .ok()
            .and_then(|r| home.get(r))
            .copied()
            .unwrap_or(false);
        let reason = if !fence.contains(relay.jurisdiction()) {
            Reason::OutsideFence
        } else if !in_home && (relay.tier() == Tier::Primary || !policy.secondaries_outside_home())
        {
            Reason::OutsideHomeRegion
        } else if relay.weight() == 0 {
            inside_fence = true;
            Reason::Drained
        } else if health == HealthStatus::Down {
            inside_fence = true;
            Reason::Unhealthy
        } else {
            inside_fence = true;
            usable = true;
            let key = sort_key(!in_home, health, relay.weight(), i);
            match relay.tier() {
                Tier::Primary => {
                    primaries.push(key);
                    Reason::OverPrimaryLimit
                }
                Tier::Secondary => {
                    secondaries.push(key);
                    Reason::OverSecondaryLimit
                }
            }
        };
        verdicts.push(Verdict { reason, health });
    }

    let mut hops = Vec::new();
    for (keys, limit, role) in [
        (&mut primaries, policy.max_primaries(), Tier::Primary),
        (&mut secondaries, policy.max_secondaries(), Tier::Secondary),
    ] {
        for key in best(keys, usize::from(limit)) {
            let i = key_index(*key);
            let position = u32::try_from(hops.len()).unwrap_or(u32::MAX);
            if let (Some(relay), Some(v)) = (relays.get(i), verdicts.get_mut(i)) {
                v.reason = Reason::Chosen { position };
                hops.push(Hop {
                    relay,
                    role,
                    health: v.health,
                });
            }
        }
    }

    let outcome = if hops.is_empty() {
        Outcome::Denied(if expired {
            Denial::DirectoryExpired
        } else if !inside_fence {
            Denial::NoRelayInsideFence
        } else if !usable {
            Denial::NoHealthyRelay
        } else {
            Denial::LimitsAllowNone
        })
    } else {
        Outcome::Route(Route { hops })
    };
    let audit = AuditRecord {
        directory_version: directory.version(),
        directory_hash: directory.hash(),
        policy_hash: policy.hash(),
        now,
        denial: match outcome {
            Outcome::Denied(d) => Some(d),
            Outcome::Route(_) => None,
        },
        relays,
        verdicts,
    };
    Decision { outcome, audit }
}

/// Packs the ordering of a candidate into one integer; smaller is better. The directory
/// position makes keys unique, so the order is total and the result deterministic.
fn sort_key(away: bool, health: HealthStatus, weight: u32, index: usize) -> u128 {
    let index = u64::try_from(index).unwrap_or(u64::MAX);
    (u128::from(away) << 104)
        | (u128::from(health.rank()) << 96)
        | (u128::from(u32::MAX - weight) << 64)
        | u128::from(index)
}

fn key_index(key: u128) -> usize {
    usize::try_from(key & u128::from(u64::MAX)).unwrap_or(usize::MAX)
}

/// The `k` smallest keys in ascending order, in O(n + k log k).
fn best(keys: &mut Vec<u128>, k: usize) -> &[u128] {
    if k < keys.len() {
        keys.select_nth_unstable(k);
        keys.truncate(k);
    }
    keys.sort_unstable();
    keys
}
