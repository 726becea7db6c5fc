//! meetkey in the comparison: default `GroupConfig` (PublicMessage handshakes, `ratchet_tree`
//! extension) and default `CommitOptions` (every commit has a path). Every member's
//! KeyPackage bundle comes from its own seeded RNG, so a joiner's bundle is made again for
//! each join.

use std::time::{Duration, Instant};

use meetkey::mls::bench_support;
use meetkey::mls::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use meetkey::mls::{Credential, KeyPackage, LeafIndex, Lifetime, MlsMessage, Proposal, Welcome};
use meetkey::{CipherSuite, SignaturePrivateKey};
use rand_core::SeedableRng;

use super::report::MemoryCell;
use super::{alloc, Built, Library, Pair};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

type Rng = rand_chacha::ChaCha20Rng;

/// The meetkey library.
pub(crate) struct Meetkey;

/// Member `i`'s KeyPackage bundle, the same every time for the same `(seed, i)`.
fn bundle(seed: u64, i: usize) -> KeyPackageBundle {
    let mut r = Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
    KeyPackageBundle::new(
        CipherSuite(1),
        Credential::Basic {
            identity: format!("member-{i}").into_bytes(),
        },
        SignaturePrivateKey::generate(&mut r),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &[],
        &mut r,
    )
    .unwrap()
}

fn config() -> GroupConfig {
    GroupConfig::default()
}

fn join(welcome: &[u8], bundle: KeyPackageBundle) -> Group {
    let w = Welcome::try_from(MlsMessage::from_bytes(welcome).unwrap()).unwrap();
    Group::join_welcome(config(), &w, bundle, None, vec![]).unwrap()
}

struct MkBuilt {
    seed: u64,
    welcome: Vec<u8>,
    joiners: Vec<usize>,
    memory_joiner: Option<usize>,
    pair: MkPair,
}

impl Built for MkBuilt {
    fn join(&mut self) -> Option<Duration> {
        let i = self.joiners.pop()?;
        let b = bundle(self.seed, i);
        let t = Instant::now();
        let g = join(&self.welcome, b);
        let d = t.elapsed();
        assert!(g.epoch_authenticator() == self.pair.a.epoch_authenticator());
        Some(d)
    }

    fn join_memory(&mut self) -> Option<MemoryCell> {
        let i = self.memory_joiner.take()?;
        let (b, client, client_peak) = alloc::measure(|| bundle(self.seed, i));
        let (g, join, join_peak) = alloc::measure(|| join(&self.welcome, b));
        assert!(g.epoch_authenticator() == self.pair.a.epoch_authenticator());
        let cell = MemoryCell::new(g.member_count(), client, client_peak, join, join_peak);
        drop(g);
        Some(cell)
    }

    fn into_pair(self: Box<Self>) -> Box<dyn Pair> {
        Box::new(self.pair)
    }
}

struct MkPair {
    a: Group,
    b: Group,
    r: Rng,
}

impl MkPair {
    fn commit(&mut self, proposals: Vec<Proposal>) -> Vec<u8> {
        self.a
            .commit(proposals, &CommitOptions::at(NOW), &mut self.r)
            .unwrap()
            .commit
            .to_bytes()
            .unwrap()
    }
}

impl Pair for MkPair {
    fn self_update(&mut self) -> Vec<u8> {
        self.commit(vec![])
    }

    fn remove(&mut self, leaf: u32) -> Vec<u8> {
        self.commit(vec![Proposal::remove(LeafIndex(leaf))])
    }

    fn merge(&mut self) {
        self.a.merge_pending_commit().unwrap();
    }

    fn process(&mut self, commit: &[u8]) {
        let m = MlsMessage::from_bytes(commit).unwrap();
        match self.b.process_message(&m).unwrap() {
            ProcessedMessage::Commit(staged) => self.b.merge_staged_commit(*staged).unwrap(),
            _ => panic!("not a commit"),
        }
    }

    fn check(&self) {
        assert_eq!(self.a.epoch(), self.b.epoch(), "epoch");
        assert!(
            self.a.epoch_authenticator() == self.b.epoch_authenticator(),
            "epoch_authenticator"
        );
    }

    fn app(&mut self, payload: &[u8]) {
        let m = self
            .a
            .encrypt_application(payload, b"", &mut self.r)
            .unwrap()
            .to_bytes()
            .unwrap();
        let m = MlsMessage::from_bytes(&m).unwrap();
        match self.b.process_message(&m).unwrap() {
            ProcessedMessage::Application { data, .. } => assert_eq!(data, payload),
            _ => panic!("not application data"),
        }
    }
}

impl Library for Meetkey {
    fn name(&self) -> &'static str {
        "meetkey"
    }

    fn build(&self, n: usize, joiners: usize, memory: bool) -> (Duration, Box<dyn Built>) {
        let seed = n as u64 * 10 + 1;
        let mut r = Rng::seed_from_u64(seed);
        let mut a = Group::create(config(), bundle(seed, 0), b"bench", vec![], &mut r).unwrap();
        let key_packages: Vec<Vec<u8>> = (1..n)
            .map(|i| bundle(seed, i).key_package.to_bytes().unwrap())
            .collect();
        let t = Instant::now();
        let adds = key_packages
            .iter()
            .map(|kp| Proposal::add(KeyPackage::from_bytes(kp).unwrap()))
            .collect();
        let out = a.commit(adds, &CommitOptions::at(NOW), &mut r).unwrap();
        let commit = out.commit.to_bytes().unwrap();
        let welcome = out.welcome.unwrap().to_bytes().unwrap();
        let d = t.elapsed();
        drop((commit, key_packages));
        a.merge_pending_commit().unwrap();
        let b = join(&welcome, bundle(seed, n - 1));
        // Joiners: leaves n-2, n-3, ... (B is n-1); the memory joiner is the last of them.
        let mut pool: Vec<usize> = (1..n - 1).rev().take(joiners + 1).collect();
        let memory_joiner = if memory { pool.pop() } else { None };
        pool.reverse();
        let pair = MkPair { a, b, r };
        pair.check();
        (
            d,
            Box::new(MkBuilt {
                seed,
                welcome,
                joiners: pool,
                memory_joiner,
                pair,
            }),
        )
    }

    fn populated(&self, n: usize) -> Option<Box<dyn Pair>> {
        if n > self.populated_max() || n < 3 {
            return None;
        }
        let seed = n as u64 * 10 + 7;
        let mut r = Rng::seed_from_u64(seed);
        let mut a = Group::create(config(), bundle(seed, 0), b"populated", vec![], &mut r).unwrap();
        let adds = (1..n)
            .map(|i| Proposal::add(bundle(seed, i).key_package))
            .collect();
        let out = a.commit(adds, &CommitOptions::at(NOW), &mut r).unwrap();
        a.merge_pending_commit().unwrap();
        let welcome = out.welcome.unwrap().to_bytes().unwrap();
        let mut b = join(&welcome, bundle(seed, n - 1));
        let mut actor = join(&welcome, bundle(seed, 1));
        bench_support::populate(
            &mut [&mut a, &mut b],
            &mut actor,
            |leaf| Ok(bundle(seed, leaf.0 as usize)),
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
        let pair = MkPair { a, b, r };
        pair.check();
        Some(Box::new(pair))
    }

    fn populated_max(&self) -> usize {
        10_000
    }

    fn populated_method(&self) -> &'static str {
        "the sparse tree (one commit adding n−1), then every member commits once (an empty \
         commit with path, through the ordinary commit API, signed with the member's own key) \
         in bit-reversed leaf order: `meetkey::mls::bench_support::populate` (cargo \
         feature `bench-internals`, O(n log n) setup), where one throwaway state acts as each \
         unmeasured member with that member's real private keys; A (leaf 0) and B (leaf n−1) \
         process every commit. The same shape as the peers' trees: every parent node set, no \
         unmerged leaf"
    }
}
