//! Property tests of `routing::select` over arbitrary directories, policies and health.
//!
//! Each case builds a directory (signed and verified like a real one), a policy (sometimes
//! the intersection of two), the client's observations and a time, then checks:
//! every chosen relay lies inside the fence; none appears twice; the primary and secondary
//! limits hold and are used up before a usable relay is left out; down and drained relays
//! are never chosen; the audit agrees with the route; a denial happens exactly when the
//! route would be empty; and the same input gives the same decision.
//!
//! The runner is seeded, so every run checks the same 10 000 cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers fail loudly"
)]

use std::cell::Cell;
use std::collections::BTreeSet;

use meetkey::routing::{
    select, Denial, Directory, DirectoryIn, DirectoryVerifier, Health, HealthStatus, Jurisdiction,
    Observation, Policy, Reason, Relay, SignedDirectory, Tier,
};
use meetkey::SignaturePrivateKey;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const CASES: u32 = 10_000;
const SEED: [u8; 32] = *b"meetkey routing properties seed!";
const NOW: u64 = 1_800_000_000;
const CODES: [&str; 7] = ["US", "CA", "CN", "DE", "FR", "RU", "JP"];
const REGIONS: [&str; 4] = ["us-east", "us-west", "eu-west", "ap-north"];

#[derive(Debug, Clone)]
struct RelaySpec {
    region: usize,
    code: usize,
    primary: bool,
    weight: u32,
    observation: Option<Observation>,
}

#[derive(Debug, Clone)]
struct PolicySpec {
    home: usize,
    allowed: Option<Vec<usize>>,
    denied: Vec<usize>,
    max_primaries: u8,
    max_secondaries: u8,
    outside_home: bool,
}

fn code(i: usize) -> Jurisdiction {
    Jurisdiction::parse(CODES[i]).unwrap()
}

fn observation() -> impl Strategy<Value = Observation> {
    let time = prop::option::of(NOW - 400..NOW + 400);
    (0u32..5, time.clone(), time.clone(), time).prop_map(|(f, lf, ls, cu)| Observation {
        consecutive_failures: f,
        last_failure: lf,
        last_success: ls,
        congested_until: cu,
    })
}

fn relay_spec() -> impl Strategy<Value = RelaySpec> {
    (
        0..REGIONS.len(),
        0..CODES.len(),
        any::<bool>(),
        prop_oneof![1 => Just(0u32), 6 => 1u32..6, 1 => Just(u32::MAX)],
        prop::option::of(observation()),
    )
        .prop_map(|(region, code, primary, weight, observation)| RelaySpec {
            region,
            code,
            primary,
            weight,
            observation,
        })
}

fn policy_spec() -> impl Strategy<Value = PolicySpec> {
    let codes = prop::collection::vec(0..CODES.len(), 0..5);
    (
        0..REGIONS.len(),
        prop::option::of(codes.clone()),
        codes,
        0u8..5,
        0u8..5,
        any::<bool>(),
    )
        .prop_map(|(home, allowed, denied, p, s, o)| PolicySpec {
            home,
            allowed,
            denied,
            max_primaries: p,
            max_secondaries: s,
            outside_home: o,
        })
}

fn build_policy(s: &PolicySpec) -> Policy {
    let mut p = Policy::new(REGIONS[s.home])
        .unwrap()
        .deny(s.denied.iter().map(|&i| code(i)))
        .with_max_primaries(s.max_primaries)
        .with_max_secondaries(s.max_secondaries)
        .with_secondaries_outside_home(s.outside_home);
    if let Some(a) = &s.allowed {
        p = p.allow_only(a.iter().map(|&i| code(i)));
    }
    p
}

fn build(specs: &[RelaySpec], key: &SignaturePrivateKey) -> (Directory, Health) {
    let mut health = Health::new();
    let relays = specs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let id = format!("r{i}");
            if let Some(o) = s.observation {
                health.set(&id, o);
            }
            let tier = if s.primary {
                Tier::Primary
            } else {
                Tier::Secondary
            };
            let ep = format!("{id}.example:443");
            Relay::new(&id, REGIONS[s.region], code(s.code), tier, &ep, s.weight).unwrap()
        })
        .collect();
    let dir = DirectoryIn {
        version: 1,
        issued_at: NOW - 10,
        // Most cases route over a valid directory; those at NOW + 100 and later see it
        // expired and must be denied.
        expires_at: NOW + 100,
        relays,
    };
    let doc = SignedDirectory::sign(&dir.to_json().unwrap(), key)
        .unwrap()
        .to_json()
        .unwrap();
    let verified = DirectoryVerifier::new([key.public_key()])
        .verify(&doc, NOW)
        .unwrap();
    (verified, health)
}

/// Whether `relay` may be used at all under `p`, in the role its tier gives it.
fn inside(p: &Policy, relay: &Relay) -> bool {
    p.permits_jurisdiction(relay.jurisdiction())
        && (p.is_home_region(relay.region())
            || (relay.tier() == Tier::Secondary && p.secondaries_outside_home()))
}

fn check(policy: &Policy, dir: &Directory, health: &Health, now: u64) -> Result<(), TestCaseError> {
    let d = select(policy, dir, health, now);
    prop_assert_eq!(&d, &select(policy, dir, health, now), "deterministic");
    let hops = d.route().map(|r| r.hops().to_vec()).unwrap_or_default();
    prop_assert_eq!(d.denial().is_some(), hops.is_empty());
    prop_assert_eq!(d.audit.denial(), d.denial());

    let mut ids = BTreeSet::new();
    let (mut primaries, mut secondaries) = (0, 0);
    for (pos, hop) in hops.iter().enumerate() {
        let r = hop.relay;
        prop_assert!(inside(policy, r), "{} outside the fence", r.id());
        prop_assert!(ids.insert(r.id()), "{} twice", r.id());
        prop_assert_eq!(hop.role, r.tier());
        prop_assert!(r.weight() > 0);
        prop_assert_ne!(health.status(r.id(), now), HealthStatus::Down);
        let position = u32::try_from(pos).unwrap();
        prop_assert_eq!(
            d.audit.verdict(r.id()).unwrap().reason,
            Reason::Chosen { position }
        );
        match hop.role {
            Tier::Primary => {
                prop_assert_eq!(secondaries, 0, "primaries come first");
                primaries += 1;
            }
            Tier::Secondary => secondaries += 1,
        }
    }
    prop_assert!(primaries <= usize::from(policy.max_primaries()));
    prop_assert!(secondaries <= usize::from(policy.max_secondaries()));

    prop_assert_eq!(d.audit.entries().len(), dir.relays().len());
    let mut any_inside = false;
    for (r, v) in d.audit.entries() {
        let ok = inside(policy, r);
        any_inside |= ok;
        prop_assert_eq!(
            v.reason.is_fence_exclusion(),
            !ok && now < dir.expires_at(),
            "{}: {:?}",
            r.id(),
            v.reason
        );
        prop_assert_eq!(v.health, health.status(r.id(), now));
        match v.reason {
            Reason::Chosen { .. } => prop_assert!(ids.contains(r.id())),
            Reason::OutsideFence => prop_assert!(!policy.permits_jurisdiction(r.jurisdiction())),
            Reason::Drained => prop_assert_eq!(r.weight(), 0),
            Reason::Unhealthy => prop_assert_eq!(v.health, HealthStatus::Down),
            Reason::OverPrimaryLimit => {
                prop_assert_eq!(primaries, usize::from(policy.max_primaries()));
            }
            Reason::OverSecondaryLimit => {
                prop_assert_eq!(secondaries, usize::from(policy.max_secondaries()));
            }
            Reason::OutsideHomeRegion => {}
            Reason::DirectoryExpired => prop_assert!(now >= dir.expires_at()),
            _ => prop_assert!(false, "unexpected reason {:?}", v.reason),
        }
    }
    if d.denial() == Some(Denial::NoRelayInsideFence) {
        prop_assert!(!any_inside);
    }
    // An expired directory is never routed over (fail closed).
    prop_assert_eq!(
        now >= dir.expires_at(),
        d.denial() == Some(Denial::DirectoryExpired)
    );
    Ok(())
}

#[test]
fn selection_invariants_hold_for_10000_cases() {
    let config = Config {
        cases: CASES,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &SEED));
    let key = SignaturePrivateKey::from_seed(&[0x77; 32]).unwrap();
    let strategy = (
        prop::collection::vec(relay_spec(), 0..40),
        policy_spec(),
        prop::option::of(policy_spec()),
        0u64..600,
    );
    let ran = Cell::new(0u32);
    let routed = Cell::new(0u32);
    runner
        .run(&strategy, |(specs, mine, theirs, dt)| {
            ran.set(ran.get() + 1);
            let (dir, health) = build(&specs, &key);
            let now = NOW - 300 + dt;
            let own = build_policy(&mine);
            let policy = match &theirs {
                Some(t) => {
                    let other = build_policy(t);
                    let both = own.intersect(&other);
                    // Intersection only narrows, in both directions.
                    prop_assert_eq!(&both, &other.intersect(&own));
                    prop_assert!(both.fence().is_subset(&own.fence()));
                    prop_assert!(both.fence().is_subset(&other.fence()));
                    prop_assert!(both.max_primaries() <= own.max_primaries());
                    prop_assert!(both.max_secondaries() <= other.max_secondaries());
                    for r in dir.relays() {
                        if inside(&both, r) {
                            prop_assert!(inside(&own, r) && inside(&other, r));
                        }
                    }
                    both
                }
                None => own,
            };
            let bytes = policy.encode_canonical();
            prop_assert_eq!(&Policy::decode_canonical(&bytes).unwrap(), &policy);
            check(&policy, &dir, &health, now)?;
            if select(&policy, &dir, &health, now).route().is_some() {
                routed.set(routed.get() + 1);
            }
            Ok(())
        })
        .unwrap();
    println!(
        "routing properties: {} cases run ({} routed, {} denied)",
        ran.get(),
        routed.get(),
        ran.get() - routed.get()
    );
    assert!(ran.get() >= CASES);
    assert!(routed.get() > CASES / 10 && routed.get() < CASES - CASES / 10);
}
