//! MLS key rotation against group size (the MLS group issue): groups of 10, 100, 1 000,
//! 5 000 and 10 000 members in suites 0x0001 and 0x0003, in two tree shapes: "sparse" (built
//! by one commit that adds everyone) and "populated" (then every member committed once; ids
//! `…/populated`, built with the `bench-internals` feature, see `populated`):
//!
//! - `build_commit_create`: the commit adding n-1 KeyPackages (sparse);
//! - `join_from_welcome`: a new member joining from that commit's Welcome;
//! - `self_update_create` / `self_update_process`: a self-update commit, and its processing
//!   by another member;
//! - `remove_create` / `remove_process`: a remove commit, and its processing;
//! - `external_join`: joining by external commit from a GroupInfo with the tree;
//! - `application_1KiB_protect_unprotect` (sparse; it does not depend on the tree).
//!
//! Every member's KeyPackage comes from its own seeded RNG, so a member's bundle (with its
//! private keys) can be made again for each join iteration. Setup stays out of the timed
//! part. Run: `cargo bench --bench key_rotation`; `MEETKEY_BENCH_MAX=1000` caps the size.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::mls::bench_support;
use meetkey::mls::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use meetkey::mls::{Credential, GroupInfo, LeafIndex, Lifetime, MlsMessage, Proposal, Welcome};
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_core::SeedableRng;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

type Rng = rand_chacha::ChaCha20Rng;

/// Member `i`'s KeyPackage bundle, the same every time for the same `(suite, seed, i)`.
fn bundle(suite: u16, seed: u64, i: usize) -> KeyPackageBundle {
    let mut r = Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    let s = CipherSuite(suite);
    let credential = Credential::Basic {
        identity: format!("member-{i}").into_bytes(),
    };
    let lifetime = Lifetime::starting_at(NOW, KP_LIFETIME);
    KeyPackageBundle::new(
        s,
        credential,
        SignaturePrivateKey::generate(&mut r),
        lifetime,
        &[],
        &mut r,
    )
    .unwrap()
}

fn config() -> GroupConfig {
    GroupConfig::default()
}

fn adds(suite: u16, seed: u64, n: usize) -> Vec<Proposal> {
    (1..n)
        .map(|i| Proposal::add(bundle(suite, seed, i).key_package))
        .collect()
}

fn join(welcome: &Welcome, bundle: KeyPackageBundle) -> Group {
    Group::join_welcome(config(), welcome, bundle, None, vec![]).unwrap()
}

fn commit(g: &mut Group, proposals: Vec<Proposal>, r: &mut Rng) -> MlsMessage {
    let out = g.commit(proposals, &CommitOptions::at(NOW), r).unwrap();
    g.discard_pending_commit();
    out.commit
}

/// A populated tree: the group is built by one commit adding n-1 members, then every member
/// commits once (`bench_support::populate`, feature `bench-internals`: one throwaway state acts
/// as each unmeasured member in turn, in O(n log n)), so every parent node holds a key and no
/// leaf is unmerged. Returns the creator (leaf 0) and the last member (leaf n-1), both at the
/// latest epoch, and the RNG where the setup left it (restarting it from the seed would make
/// the creator draw the setup's path secrets again, and so keys already in the tree).
fn populated(suite: u16, seed: u64, n: usize) -> (Group, Group, Rng) {
    let mut r = Rng::seed_from_u64(seed);
    let mut creator = Group::create(
        config(),
        bundle(suite, seed, 0),
        b"populated",
        vec![],
        &mut r,
    )
    .unwrap();
    let welcome = commit_adds(&mut creator, suite, seed, n, &mut r);
    let mut last = join(&welcome, bundle(suite, seed, n - 1));
    let mut actor = join(&welcome, bundle(suite, seed, 1));
    bench_support::populate(
        &mut [&mut creator, &mut last],
        &mut actor,
        |leaf| Ok(bundle(suite, seed, leaf.0 as usize)),
        &CommitOptions::at(NOW),
        &mut r,
    )
    .unwrap();
    assert_eq!(creator.epoch_authenticator(), last.epoch_authenticator());
    (creator, last, r)
}

/// Commits the Adds of members 1..n, merges, and returns the Welcome.
fn commit_adds(creator: &mut Group, suite: u16, seed: u64, n: usize, r: &mut Rng) -> Welcome {
    let out = creator
        .commit(adds(suite, seed, n), &CommitOptions::at(NOW), r)
        .unwrap();
    creator.merge_pending_commit().unwrap();
    Welcome::try_from(out.welcome.unwrap()).unwrap()
}

fn sizes() -> Vec<usize> {
    let max: usize = std::env::var("MEETKEY_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    [10, 100, 1_000, 5_000, 10_000]
        .into_iter()
        .filter(|&n| n <= max)
        .collect()
}

fn benches(c: &mut Criterion) {
    for suite in [1u16, 3] {
        for n in sizes() {
            let id = |name: &str| BenchmarkId::new(format!("{name}/suite{suite}"), n);
            let seed = n as u64 * 10 + u64::from(suite);
            let mut r = Rng::seed_from_u64(seed);
            let mut creator =
                Group::create(config(), bundle(suite, seed, 0), b"bench", vec![], &mut r).unwrap();
            let welcome = commit_adds(&mut creator, suite, seed, n, &mut r);
            let mut bob = join(&welcome, bundle(suite, seed, n - 1));
            let carol_leaf = u32::try_from(n - 2).unwrap();

            let mut g = c.benchmark_group("mls");
            g.sample_size(10);
            {
                g.bench_function(id("build_commit_create"), |b| {
                    b.iter_batched(
                        || {
                            let mut r = Rng::seed_from_u64(seed);
                            let creator = Group::create(
                                config(),
                                bundle(suite, seed, 0),
                                b"bench",
                                vec![],
                                &mut r,
                            )
                            .unwrap();
                            (creator, adds(suite, seed, n), r)
                        },
                        |(mut creator, adds, mut r)| {
                            creator
                                .commit(adds, &CommitOptions::at(NOW), &mut r)
                                .unwrap()
                        },
                        BatchSize::PerIteration,
                    );
                });
            }
            g.bench_function(id("join_from_welcome"), |b| {
                b.iter_batched(
                    || bundle(suite, seed, n - 2),
                    |kp| join(&welcome, kp),
                    BatchSize::PerIteration,
                );
            });
            bench_rotation(&mut g, &id, &mut creator, &mut bob, carol_leaf, &mut r);
            bench_external_join(&mut g, id("external_join"), &creator, suite, seed, n);
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
        // Populated trees (every member has committed once).
        for n in sizes() {
            let id = |name: &str| BenchmarkId::new(format!("{name}/suite{suite}/populated"), n);
            let seed = n as u64 * 10 + u64::from(suite) + 5;
            let (mut creator, mut bob, mut r) = populated(suite, seed, n);
            let mut g = c.benchmark_group("mls");
            g.sample_size(10);
            let victim = u32::try_from(n - 2).unwrap();
            bench_rotation(&mut g, &id, &mut creator, &mut bob, victim, &mut r);
            bench_external_join(&mut g, id("external_join"), &creator, suite, seed, n);
            g.finish();
        }
    }
}

/// Self-update and remove (of leaf `victim`) commits by `creator`: create, and process by
/// `bob` (staged, not merged, so every iteration processes the same commit).
fn bench_rotation(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &dyn Fn(&str) -> BenchmarkId,
    creator: &mut Group,
    bob: &mut Group,
    victim: u32,
    r: &mut Rng,
) {
    g.bench_function(id("self_update_create"), |b| {
        b.iter(|| commit(creator, vec![], r))
    });
    let update = commit(creator, vec![], r);
    g.bench_function(id("self_update_process"), |b| {
        b.iter(|| match bob.process_message(&update).unwrap() {
            ProcessedMessage::Commit(staged) => staged,
            _ => panic!(),
        });
    });
    let remove = Proposal::remove(LeafIndex(victim));
    g.bench_function(id("remove_create"), |b| {
        b.iter(|| commit(creator, vec![remove.clone()], r))
    });
    let removal = commit(creator, vec![remove.clone()], r);
    g.bench_function(id("remove_process"), |b| {
        b.iter(|| match bob.process_message(&removal).unwrap() {
            ProcessedMessage::Commit(staged) => staged,
            _ => panic!(),
        });
    });
}

/// A new client joining by external commit from `creator`'s GroupInfo (with the tree).
fn bench_external_join(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    creator: &Group,
    suite: u16,
    seed: u64,
    n: usize,
) {
    let gi = GroupInfo::try_from(creator.group_info(true).unwrap()).unwrap();
    g.bench_function(id, |b| {
        b.iter_batched(
            || bundle(suite, seed, n + 1),
            |kp| Group::join_external(config(), &gi, kp, None, &mut Rng::seed_from_u64(3)).unwrap(),
            BatchSize::PerIteration,
        );
    });
}

criterion_group! {
    name = key_rotation;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(key_rotation);
