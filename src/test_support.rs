//! Test support inside the crate: the loader of the official test vectors in `vectors/`, seeded
//! RNGs and small group helpers shared by the vector and RFC-MUST tests.
//!
//! Each vector test reads its file with [`load`], converts hex with [`hex`], and counts the
//! cases it ran (and skipped) per cipher suite with a [`Tally`], which prints the counts and
//! fails the test if nothing ran.
// Test support: a broken vector file should fail loudly.
#![allow(clippy::panic, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand_core::SeedableRng;
use serde::de::DeserializeOwned;

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

/// Parses `vectors/<rel>` as JSON.
pub(crate) fn load<T: DeserializeOwned>(rel: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("vectors")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Decodes a hex string.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// Counts cases run and skipped per cipher suite (0 = file without suites).
pub(crate) struct Tally {
    file: &'static str,
    ran: BTreeMap<u16, usize>,
    skipped: BTreeMap<u16, usize>,
}

impl Tally {
    /// A tally for `file`.
    pub(crate) fn new(file: &'static str) -> Self {
        Self {
            file,
            ran: BTreeMap::new(),
            skipped: BTreeMap::new(),
        }
    }

    /// One case of `suite` passed.
    pub(crate) fn ran(&mut self, suite: u16) {
        *self.ran.entry(suite).or_default() += 1;
    }

    /// One case of `suite` was skipped (unsupported suite).
    pub(crate) fn skipped(&mut self, suite: u16) {
        *self.skipped.entry(suite).or_default() += 1;
    }

    /// Prints the counts and fails if no case ran.
    pub(crate) fn finish(self) {
        let total: usize = self.ran.values().sum();
        println!("{}: {total} cases passed", self.file);
        for (suite, n) in &self.ran {
            println!("  suite {suite}: {n} passed");
        }
        for (suite, n) in &self.skipped {
            println!("  suite {suite}: {n} skipped (unsupported)");
        }
        assert!(total > 0, "{}: no case ran", self.file);
    }
}

/// A deterministic CSPRNG for tests (ChaCha20 from a fixed seed).
pub(crate) fn seeded_rng(seed: u64) -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(seed)
}

/// The seeded RNG of the group tests.
pub(crate) type Rng = rand_chacha::ChaCha20Rng;

/// A seeded RNG.
pub(crate) fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// Members that agree on the epoch, tree hash, group context, `epoch_authenticator` and an
/// exported secret.
pub(crate) fn assert_agree(groups: &[&crate::mls::group::Group]) {
    let first = groups[0];
    for g in &groups[1..] {
        assert_eq!(g.epoch(), first.epoch());
        assert_eq!(g.tree_hash(), first.tree_hash());
        assert_eq!(g.context(), first.context());
        assert_eq!(g.epoch_authenticator(), first.epoch_authenticator());
        assert_eq!(
            g.export_secret(b"test", b"ctx", 32).expect("export"),
            first.export_secret(b"test", b"ctx", 32).expect("export")
        );
    }
}

/// A KeyPackage bundle with a basic credential `name`, valid for four weeks from `NOW`.
pub(crate) fn bundle(suite: u16, name: &str, rng: &mut Rng) -> crate::mls::group::KeyPackageBundle {
    crate::mls::group::KeyPackageBundle::with_suite(
        &crate::crypto::CipherSuite(suite).suite().expect("suite"),
        crate::mls::wire::Credential::Basic {
            identity: name.as_bytes().to_vec(),
        },
        crate::crypto::SignaturePrivateKey::generate(rng),
        crate::mls::wire::Lifetime::starting_at(NOW, KP_LIFETIME),
        &[],
        rng,
    )
    .expect("KeyPackage bundle")
}
