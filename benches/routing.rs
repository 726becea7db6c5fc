//! Routing benchmarks: `select` per call, and verify + parse of a signed directory, over
//! directories of 100 and 10 000 relays.
//!
//! Targets (2-core machine): `select` over 10 000 relays under 200 µs median; verify +
//! parse of a 10 000-relay directory under 20 ms.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark setup fails loudly"
)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use meetkey::routing::{
    select, DirectoryIn, DirectoryVerifier, Health, Jurisdiction, Policy, Relay, SignedDirectory,
    Tier,
};
use meetkey::SignaturePrivateKey;

const NOW: u64 = 1_800_000_000;
const SIZES: [usize; 2] = [100, 10_000];
const CODES: [&str; 8] = ["US", "CA", "CN", "DE", "FR", "JP", "BR", "IN"];

/// A deterministic directory of `n` relays over 20 regions and 8 jurisdictions, half
/// primaries, signed by a fixed key; and observations of every tenth relay.
fn fixture(n: usize, key: &SignaturePrivateKey) -> (Vec<u8>, Health) {
    let mut health = Health::new();
    let relays = (0..n)
        .map(|i| {
            let id = format!("relay-{i:05}");
            let region = format!("region-{}", i % 20);
            let j = Jurisdiction::parse(CODES[i % CODES.len()]).unwrap();
            let tier = if i % 2 == 0 {
                Tier::Primary
            } else {
                Tier::Secondary
            };
            let weight = u32::try_from((i * 7919) % 1000).unwrap();
            if i % 10 == 0 {
                match i % 30 {
                    0 => health.record_success(&id, NOW - 5),
                    10 => health.record_congestion(&id, NOW + 60),
                    _ => (0..3).for_each(|_| health.record_failure(&id, NOW - 5)),
                }
            }
            Relay::new(
                &id,
                &region,
                j,
                tier,
                &format!("{id}.relay.example.net:443"),
                weight,
            )
            .unwrap()
        })
        .collect();
    let payload = DirectoryIn {
        version: 1,
        issued_at: NOW - 60,
        expires_at: NOW + 86_400,
        relays,
    }
    .to_json()
    .unwrap();
    let document = SignedDirectory::sign(&payload, key)
        .unwrap()
        .to_json()
        .unwrap();
    (document, health)
}

fn policy() -> Policy {
    let j = |c| Jurisdiction::parse(c).unwrap();
    Policy::new("region-0")
        .unwrap()
        .allow_only([j("US"), j("CA"), j("DE"), j("FR")])
        .with_max_primaries(3)
        .with_max_secondaries(3)
        .with_secondaries_outside_home(true)
}

fn bench_select(c: &mut Criterion) {
    let key = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
    let mut group = c.benchmark_group("routing_select");
    for n in SIZES {
        let (document, health) = fixture(n, &key);
        let dir = DirectoryVerifier::new([key.public_key()])
            .verify(&document, NOW)
            .unwrap();
        let policy = policy();
        assert!(select(&policy, &dir, &health, NOW).route().is_some());
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("select", n), &n, |b, _| {
            b.iter(|| select(black_box(&policy), black_box(&dir), &health, NOW));
        });
    }
    group.finish();
}

fn bench_verify(c: &mut Criterion) {
    let key = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
    let mut group = c.benchmark_group("routing_directory");
    for n in SIZES {
        let (document, _) = fixture(n, &key);
        let verifier = DirectoryVerifier::new([key.public_key()]);
        group.throughput(Throughput::Bytes(document.len() as u64));
        group.bench_with_input(BenchmarkId::new("verify_parse", n), &n, |b, _| {
            b.iter(|| verifier.clone().verify(black_box(&document), NOW).unwrap());
        });
    }
    group.finish();
}

criterion_group!(benches, bench_select, bench_verify);
criterion_main!(benches);
