//! The incident this module exists to prevent, replayed through the public API.
//!
//! The server-supplied directory lists US and CA primaries and secondaries, and also CN
//! relays as secondaries (one of them even labelled with the client's home region). The
//! account allows only US and CA. When every US/CA relay is congested, or down, calls must
//! stay on US/CA relays or not be placed at all: never a CN relay. The audit record must
//! name every CN relay as `OutsideFence`.
#![warn(clippy::assertions_on_result_states)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers fail loudly"
)]

use meetkey::routing::{
    select, Decision, Denial, Directory, DirectoryVerifier, Health, Jurisdiction, Policy, Reason,
    SignedDirectory, Tier,
};
use meetkey::SignaturePrivateKey;

const NOW: u64 = 1_767_300_000;

fn relay(id: &str, region: &str, j: &str, tier: &str, weight: u32) -> String {
    format!(
        r#"{{"id":"{id}","region":"{region}","jurisdiction":"{j}","tier":"{tier}","endpoint":"{id}.relay.example.net:443","weight":{weight}}}"#
    )
}

const US_CA: [&str; 7] = [
    "us-e1", "us-e2", "us-e3", "us-e-sec", "us-w-sec", "ca-1", "ca-sec",
];
const CN: [&str; 3] = ["cn-1", "cn-2", "cn-in-us-east"];

fn incident_directory() -> Directory {
    let relays = [
        relay("us-e1", "us-east", "US", "primary", 50),
        relay("us-e2", "us-east", "US", "primary", 40),
        relay("us-e3", "us-east", "US", "primary", 30),
        relay("us-e-sec", "us-east", "US", "secondary", 20),
        relay("us-w-sec", "us-west", "US", "secondary", 20),
        relay("ca-1", "ca-central", "CA", "primary", 40),
        relay("ca-sec", "ca-central", "CA", "secondary", 10),
        // The wrongly included backups: heavier weights, and one in the home region.
        relay("cn-1", "cn-north", "CN", "secondary", 1000),
        relay("cn-2", "cn-east", "CN", "secondary", 1000),
        relay("cn-in-us-east", "us-east", "CN", "secondary", 1000),
    ];
    let payload = format!(
        r#"{{"version":31,"issued_at":{},"expires_at":{},"relays":[{}]}}"#,
        NOW - 600,
        NOW + 86_400,
        relays.join(",")
    );
    let operator = SignaturePrivateKey::from_seed(&[0x5a; 32]).unwrap();
    let document = SignedDirectory::sign(payload.as_bytes(), &operator)
        .unwrap()
        .to_json()
        .unwrap();
    DirectoryVerifier::new([operator.public_key()])
        .verify(&document, NOW)
        .unwrap()
}

fn us_ca_policy() -> Policy {
    let j = |c| Jurisdiction::parse(c).unwrap();
    Policy::new("us-east")
        .unwrap()
        .allow_only([j("US"), j("CA")])
        .with_max_primaries(3)
        .with_max_secondaries(3)
        .with_secondaries_outside_home(true)
}

fn assert_no_cn_and_cn_audited(d: &Decision<'_>) {
    if let Some(route) = d.route() {
        for r in route.relays() {
            assert!(US_CA.contains(&r.id()), "{} is outside the fence", r.id());
            assert_ne!(r.jurisdiction().as_str(), "CN");
        }
    }
    for id in CN {
        let v = d.audit.verdict(id).unwrap();
        assert_eq!(v.reason, Reason::OutsideFence, "{id}");
    }
    let json = d.audit.to_json().unwrap();
    let outside = d
        .audit
        .entries()
        .filter(|(_, v)| v.reason == Reason::OutsideFence);
    let outside = outside.count();
    assert!(outside >= CN.len());
    assert_eq!(json.matches(r#""kind":"OutsideFence""#).count(), outside);
}

#[test]
fn congestion_everywhere_never_routes_to_cn() {
    let dir = incident_directory();
    let mut health = Health::new();
    for id in US_CA {
        health.record_congestion(id, NOW + 300);
    }
    // The client has even had good connections to the CN relays: irrelevant.
    for id in CN {
        health.record_success(id, NOW - 1);
    }
    let d = select(&us_ca_policy(), &dir, &health, NOW);
    assert_no_cn_and_cn_audited(&d);
    let route = d.route().expect("congested US/CA relays are still up");
    let ids: Vec<_> = route.relays().map(|r| r.id()).collect();
    assert_eq!(
        ids,
        ["us-e1", "us-e2", "us-e3", "us-e-sec", "us-w-sec", "ca-sec"]
    );
    let secondaries = route.hops().iter().filter(|h| h.role == Tier::Secondary);
    assert_eq!(secondaries.count(), 3);
    assert_eq!(
        d.audit.verdict("ca-1").unwrap().reason,
        Reason::OutsideHomeRegion
    );
    println!("{}", d.audit.to_json().unwrap());
}

#[test]
fn every_us_ca_relay_down_is_a_denial_not_a_cn_fallback() {
    let dir = incident_directory();
    let mut health = Health::new();
    for id in US_CA {
        for _ in 0..3 {
            health.record_failure(id, NOW - 10);
        }
    }
    for id in CN {
        health.record_success(id, NOW - 1);
    }
    let d = select(&us_ca_policy(), &dir, &health, NOW);
    assert_eq!(d.denial(), Some(Denial::NoHealthyRelay));
    assert!(d.route().is_none());
    assert_no_cn_and_cn_audited(&d);
    assert_eq!(d.audit.denial(), Some(Denial::NoHealthyRelay));
}

#[test]
fn a_meeting_fence_narrows_further_and_a_directory_cannot_widen_it() {
    let dir = incident_directory();
    let j = |c| Jurisdiction::parse(c).unwrap();
    let meeting = Policy::new("us-east").unwrap().allow_only([j("US")]);
    let combined = us_ca_policy().intersect(&meeting);
    let d = select(&combined, &dir, &Health::new(), NOW);
    assert_no_cn_and_cn_audited(&d);
    assert_eq!(
        d.audit.verdict("ca-sec").unwrap().reason,
        Reason::OutsideFence
    );
    assert_eq!(d.audit.policy_hash(), combined.hash());
    // A client that allows CN itself still cannot be widened by the meeting (or vice versa).
    let lax = Policy::new("us-east")
        .unwrap()
        .with_secondaries_outside_home(true);
    let d = select(&lax.intersect(&us_ca_policy()), &dir, &Health::new(), NOW);
    assert_no_cn_and_cn_audited(&d);
}
