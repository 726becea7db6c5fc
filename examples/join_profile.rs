//! Joins one group from its Welcome (ratchet tree included) again and again, for a profiler:
//! `cargo build --release --example join_profile` then
//! `perf record -F 999 -g target/release/examples/join_profile 10000 20` and `perf report`.
//!
//! Arguments: the group size (default 10 000) and the number of joins (default 20). The
//! group is built by one commit adding n − 1 members (the comparison's sparse tree); each join
//! takes a fresh KeyPackage bundle of a member the Welcome names, so only the join is repeated.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use meetkey::mls::{CommitOptions, Credential, Group, GroupConfig, KeyPackageBundle, Lifetime};
use meetkey::mls::{Proposal, Welcome};
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_core::SeedableRng;

const NOW: u64 = 1_800_000_000;
type Rng = rand_chacha::ChaCha20Rng;

#[allow(
    clippy::disallowed_methods,
    reason = "a profiling run reads the wall clock"
)]
fn stopwatch() -> Instant {
    Instant::now()
}

fn bundle(i: usize) -> KeyPackageBundle {
    let mut r = Rng::seed_from_u64(i as u64);
    KeyPackageBundle::new(
        CipherSuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519,
        Credential::Basic {
            identity: format!("member-{i}").into_bytes(),
        },
        SignaturePrivateKey::generate(&mut r),
        Lifetime::starting_at(NOW, 86_400),
        &[],
        &mut r,
    )
    .unwrap()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let joins: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let mut r = Rng::seed_from_u64(7);
    let mut creator = Group::create(
        GroupConfig::default(),
        bundle(0),
        b"profile",
        vec![],
        &mut r,
    )
    .unwrap();
    let adds = (1..n)
        .map(|i| Proposal::add(bundle(i).key_package))
        .collect();
    let out = creator
        .commit(adds, &CommitOptions::at(NOW), &mut r)
        .unwrap();
    creator.merge_pending_commit().unwrap();
    let welcome = Welcome::try_from(out.welcome.unwrap()).unwrap();
    // Members 1..n are all in the Welcome; cycle through them. Bundles are made first.
    let bundles: Vec<_> = (0..joins).map(|j| bundle(1 + j % (n - 1))).collect();
    let t = stopwatch();
    for b in bundles {
        let g = Group::join_welcome(GroupConfig::default(), &welcome, b, None, vec![]).unwrap();
        assert_eq!(g.epoch_authenticator(), creator.epoch_authenticator());
    }
    let per = t.elapsed().as_secs_f64() * 1000.0 / joins as f64;
    println!("{joins} joins of a {n}-member group: {per:.3} ms each");
}
