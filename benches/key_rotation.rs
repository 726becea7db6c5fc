//! MLS key rotation against group size (issue: the MLS group): for groups of 10, 100, 1 000
//! and 10 000 members in suites 0x0001 and 0x0003, with the group built by one commit that
//! adds everyone (a "sparse" tree):
//!
//! - `build`: the commit adding n-1 KeyPackages (create), and joining from its Welcome;
//! - `self_update`: a member's self-update commit (create) and its processing by another;
//! - `remove`: a remove commit (create) and its processing by another;
//! - `external_join`: joining by external commit from a GroupInfo;
//! - `application_1KiB`: protect + unprotect of a 1 KiB application message.
//!
//! Setup stays out of the timed part (`iter_batched`). Run: `cargo bench --bench key_rotation`;
//! `MEETKEY_BENCH_MAX=1000` caps the group size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::crypto::{CipherSuite, SignaturePrivateKey};
use meetkey::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use meetkey::mls::wire::{Add, Credential, Lifetime, MlsMessage, MlsMessageBody, Proposal, Remove};
use rand_core::SeedableRng;

type Rng = rand_chacha::ChaCha20Rng;

fn bundle(suite: u16, i: usize, rng: &mut Rng) -> KeyPackageBundle {
    let s = CipherSuite(suite).suite().unwrap();
    let credential = Credential::Basic {
        identity: format!("member-{i}").into_bytes(),
    };
    let lifetime = Lifetime {
        not_before: 0,
        not_after: u64::MAX,
    };
    KeyPackageBundle::new(
        &s,
        credential,
        SignaturePrivateKey::generate(rng),
        lifetime,
        &[],
        rng,
    )
    .unwrap()
}

fn config() -> GroupConfig {
    // The benchmarks measure the protocol, not the GroupInfo tree copy.
    GroupConfig {
        ratchet_tree_extension: true,
        ..GroupConfig::default()
    }
}

/// A creator, the commit adding n-1 members with its Welcome, and two of the members' bundles
/// (the last two added).
struct Built {
    creator: Group,
    welcome: MlsMessage,
    joiners: Vec<KeyPackageBundle>,
}

fn build(suite: u16, n: usize, seed: u64) -> Built {
    let mut r = Rng::seed_from_u64(seed);
    let creator_bundle = bundle(suite, 0, &mut r);
    let mut creator = Group::create(config(), creator_bundle, b"bench", vec![], &mut r).unwrap();
    let mut bundles: Vec<KeyPackageBundle> = (1..n).map(|i| bundle(suite, i, &mut r)).collect();
    let adds = bundles
        .iter()
        .map(|b| {
            Proposal::Add(Box::new(Add {
                key_package: b.key_package.clone(),
            }))
        })
        .collect();
    let out = creator
        .commit(adds, &CommitOptions::default(), &mut r)
        .unwrap();
    creator.merge_pending_commit().unwrap();
    let joiners = bundles.split_off(bundles.len().saturating_sub(2));
    Built {
        creator,
        welcome: out.welcome.unwrap(),
        joiners,
    }
}

fn join_owned(welcome: &MlsMessage, bundle: KeyPackageBundle) -> Group {
    let MlsMessageBody::Welcome(w) = &welcome.body else {
        unreachable!()
    };
    Group::join_welcome(config(), w, bundle, None, vec![]).unwrap()
}

fn sizes() -> Vec<usize> {
    let max: usize = std::env::var("MEETKEY_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    [10, 100, 1_000, 10_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

fn benches(c: &mut Criterion) {
    for suite in [1u16, 3] {
        for n in sizes() {
            let id = |name: &str| BenchmarkId::new(format!("{name}/suite{suite}"), n);
            let seed = n as u64 * 10 + u64::from(suite);
            let mut built = build(suite, n, seed);
            let bob_bundle = built.joiners.pop().unwrap();
            let carol_bundle = built.joiners.pop().unwrap();
            let mut bob = join_owned(&built.welcome, bob_bundle);
            let carol = join_owned(&built.welcome, carol_bundle);
            let mut creator = built.creator;
            let mut r = Rng::seed_from_u64(seed + 1);

            let mut g = c.benchmark_group("mls");
            g.sample_size(10);
            if n <= 1_000 {
                g.bench_function(id("build_commit_create"), |b| {
                    b.iter_batched(
                        || {
                            let mut r = Rng::seed_from_u64(seed + 2);
                            let creator = Group::create(
                                config(),
                                bundle(suite, 0, &mut r),
                                b"bench",
                                vec![],
                                &mut r,
                            )
                            .unwrap();
                            let adds: Vec<Proposal> = (1..n)
                                .map(|i| {
                                    Proposal::Add(Box::new(Add {
                                        key_package: bundle(suite, i, &mut r).key_package,
                                    }))
                                })
                                .collect();
                            (creator, adds, r)
                        },
                        |(mut creator, adds, mut r)| {
                            creator
                                .commit(adds, &CommitOptions::default(), &mut r)
                                .unwrap()
                        },
                        BatchSize::PerIteration,
                    );
                });
            }
            g.bench_function(id("self_update_create"), |b| {
                b.iter(|| {
                    let out = creator
                        .commit(vec![], &CommitOptions::default(), &mut r)
                        .unwrap();
                    creator.discard_pending_commit();
                    out
                });
            });
            let out = creator
                .commit(vec![], &CommitOptions::default(), &mut r)
                .unwrap();
            g.bench_function(id("self_update_process"), |b| {
                b.iter(|| match bob.process_message(&out.commit).unwrap() {
                    ProcessedMessage::Commit(staged) => staged,
                    _ => panic!(),
                });
            });
            creator.discard_pending_commit();
            let remove = Proposal::Remove(Remove {
                removed: carol.own_leaf().0,
            });
            g.bench_function(id("remove_create"), |b| {
                b.iter(|| {
                    let out = creator
                        .commit(vec![remove.clone()], &CommitOptions::default(), &mut r)
                        .unwrap();
                    creator.discard_pending_commit();
                    out
                });
            });
            let out = creator
                .commit(vec![remove.clone()], &CommitOptions::default(), &mut r)
                .unwrap();
            creator.discard_pending_commit();
            g.bench_function(id("remove_process"), |b| {
                b.iter(|| match bob.process_message(&out.commit).unwrap() {
                    ProcessedMessage::Commit(staged) => staged,
                    _ => panic!(),
                });
            });
            let MlsMessageBody::GroupInfo(gi) = creator.group_info(true).unwrap().body else {
                unreachable!()
            };
            g.bench_function(id("external_join"), |b| {
                b.iter_batched(
                    || bundle(suite, n + 1, &mut r),
                    |kp| {
                        Group::join_external(config(), &gi, None, kp, &mut Rng::seed_from_u64(3))
                            .unwrap()
                    },
                    BatchSize::PerIteration,
                );
            });
            let payload = vec![7u8; 1024];
            g.throughput(Throughput::Bytes(1024));
            g.bench_function(id("application_1KiB_protect_unprotect"), |b| {
                b.iter(|| {
                    let msg = creator.encrypt_application(&payload, b"", &mut r).unwrap();
                    bob.process_message(&msg).unwrap()
                });
            });
            g.finish();
        }
    }
}

criterion_group! {
    name = key_rotation;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(key_rotation);
