//! mls-rs 0.57 in the comparison: `mls-rs-crypto-rustcrypto` provider (pure Rust), the
//! default client configuration (in-memory key package and group state storage, default
//! `MlsRules` but for a path in every commit: PublicMessage handshakes, `ratchet_tree`
//! extension on), `BasicIdentityProvider`. The group state is not written to the
//! storage (mls-rs persists only on `write_to_storage`).

use std::time::{Duration, Instant};

use mls_rs::client_builder::{BaseConfig, WithCryptoProvider, WithIdentityProvider, WithMlsRules};
use mls_rs::group::ReceivedMessage;
use mls_rs::identity::basic::{BasicCredential, BasicIdentityProvider};
use mls_rs::identity::SigningIdentity;
use mls_rs::mls_rules::{CommitOptions, DefaultMlsRules};
use mls_rs::{CipherSuite, CipherSuiteProvider as _, CryptoProvider as _, MlsMessage};
use mls_rs_crypto_rustcrypto::RustCryptoProvider;

use super::report::MemoryCell;
use super::{alloc, Built, Library, Pair};

const SUITE: CipherSuite = CipherSuite::CURVE25519_AES128;

type Config = WithMlsRules<
    DefaultMlsRules,
    WithCryptoProvider<RustCryptoProvider, WithIdentityProvider<BasicIdentityProvider, BaseConfig>>,
>;
type Client = mls_rs::Client<Config>;
type Group = mls_rs::Group<Config>;

/// The mls-rs library.
pub(crate) struct MlsRs;

fn client(name: &str) -> Client {
    let crypto = RustCryptoProvider::default();
    let (secret, public) = crypto
        .cipher_suite_provider(SUITE)
        .unwrap()
        .signature_key_generate()
        .unwrap();
    let identity = SigningIdentity::new(
        BasicCredential::new(name.as_bytes().to_vec()).into_credential(),
        public,
    );
    mls_rs::Client::builder()
        .identity_provider(BasicIdentityProvider)
        .crypto_provider(crypto)
        .signing_identity(identity, secret, SUITE)
        // A path in every commit, as meetkey's default and OpenMLS's add_members: the same
        // tree shapes and the same work for joiners (mls-rs's default omits it from add-only
        // commits).
        .mls_rules(
            DefaultMlsRules::new()
                .with_commit_options(CommitOptions::new().with_path_required(true)),
        )
        .build()
}

/// A fresh KeyPackage message, encoded (its private keys stay in the client's repository).
fn key_package(c: &Client) -> Vec<u8> {
    c.generate_key_package_message(Default::default(), Default::default(), None)
        .unwrap()
        .to_bytes()
        .unwrap()
}

fn join(c: &Client, welcome: &[u8]) -> Group {
    c.join_group(None, &MlsMessage::from_bytes(welcome).unwrap(), None)
        .unwrap()
        .0
}

fn process_commit(g: &mut Group, commit: &[u8]) {
    match g
        .process_incoming_message(MlsMessage::from_bytes(commit).unwrap())
        .unwrap()
    {
        ReceivedMessage::Commit(_) => {}
        _ => panic!("not a commit"),
    }
}

fn authenticator(g: &Group) -> Vec<u8> {
    g.epoch_authenticator().unwrap().as_bytes().to_vec()
}

struct RsPair {
    a: Group,
    b: Group,
}

impl Pair for RsPair {
    fn self_update(&mut self) -> Vec<u8> {
        self.a
            .commit(vec![])
            .unwrap()
            .commit_message
            .to_bytes()
            .unwrap()
    }

    fn remove(&mut self, leaf: u32) -> Vec<u8> {
        self.a
            .commit_builder()
            .remove_member(leaf)
            .unwrap()
            .build()
            .unwrap()
            .commit_message
            .to_bytes()
            .unwrap()
    }

    fn merge(&mut self) {
        self.a.apply_pending_commit().unwrap();
    }

    fn process(&mut self, commit: &[u8]) {
        process_commit(&mut self.b, commit);
    }

    fn check(&self) {
        assert_eq!(self.a.current_epoch(), self.b.current_epoch(), "epoch");
        assert_eq!(
            authenticator(&self.a),
            authenticator(&self.b),
            "epoch_authenticator"
        );
    }

    fn app(&mut self, payload: &[u8]) {
        let m = self
            .a
            .encrypt_application_message(payload, vec![])
            .unwrap()
            .to_bytes()
            .unwrap();
        match self
            .b
            .process_incoming_message(MlsMessage::from_bytes(&m).unwrap())
            .unwrap()
        {
            ReceivedMessage::ApplicationMessage(m) => assert_eq!(m.data(), payload),
            _ => panic!("not application data"),
        }
    }
}

struct RsBuilt {
    welcome: Vec<u8>,
    joiners: Vec<Client>,
    memory_joiner: Option<(Client, isize, isize)>,
    pair: RsPair,
}

impl Built for RsBuilt {
    fn join(&mut self) -> Option<Duration> {
        let joiner = self.joiners.pop()?;
        let t = Instant::now();
        let g = join(&joiner, &self.welcome);
        let d = t.elapsed();
        assert_eq!(authenticator(&g), authenticator(&self.pair.a));
        drop((g, joiner));
        Some(d)
    }

    fn join_memory(&mut self) -> Option<MemoryCell> {
        let (joiner, client, client_peak) = self.memory_joiner.take()?;
        let (g, join, join_peak) = alloc::measure(|| join(&joiner, &self.welcome));
        assert_eq!(authenticator(&g), authenticator(&self.pair.a));
        let n = g.roster().members_iter().count();
        Some(MemoryCell::new(n, client, client_peak, join, join_peak))
    }

    fn into_pair(self: Box<Self>) -> Box<dyn Pair> {
        Box::new(self.pair)
    }
}

impl Library for MlsRs {
    fn name(&self) -> &'static str {
        "mls-rs"
    }

    fn build(&self, n: usize, joiners: usize, memory: bool) -> (Duration, Box<dyn Built>) {
        let a = client("member-0");
        let mut a_group = a
            .create_group(Default::default(), Default::default(), None)
            .unwrap();
        let keep_from = (n - 1).saturating_sub(joiners + 1).max(1);
        let mut kept = Vec::new();
        let mut memory_joiner = None;
        let mut key_packages = Vec::with_capacity(n - 1);
        for i in 1..n {
            if memory && i == keep_from {
                let ((c, kp), bytes, peak) = alloc::measure(|| {
                    let c = client(&format!("member-{i}"));
                    let kp = key_package(&c);
                    (c, kp)
                });
                // The encoded KeyPackage goes to the creator: not the member's.
                let sent = kp.capacity() as isize;
                key_packages.push(kp);
                memory_joiner = Some((c, bytes - sent, peak));
                continue;
            }
            let c = client(&format!("member-{i}"));
            key_packages.push(key_package(&c));
            if i >= keep_from {
                kept.push(c);
            }
        }
        let t = Instant::now();
        let mut builder = a_group.commit_builder();
        for kp in &key_packages {
            builder = builder
                .add_member(MlsMessage::from_bytes(kp).unwrap())
                .unwrap();
        }
        let out = builder.build().unwrap();
        let commit = out.commit_message.to_bytes().unwrap();
        assert_eq!(out.welcome_messages.len(), 1, "one Welcome for all");
        let welcome = out.welcome_messages[0].to_bytes().unwrap();
        let d = t.elapsed();
        drop((commit, out, key_packages));
        a_group.apply_pending_commit().unwrap();
        let b = kept.pop().unwrap();
        let b_group = join(&b, &welcome);
        let pair = RsPair {
            a: a_group,
            b: b_group,
        };
        pair.check();
        (
            d,
            Box::new(RsBuilt {
                welcome,
                joiners: kept,
                memory_joiner,
                pair,
            }),
        )
    }

    fn populated(&self, n: usize) -> Option<Box<dyn Pair>> {
        if n > self.populated_max() {
            return None;
        }
        let a = client("member-0");
        let mut a_group = a
            .create_group(Default::default(), Default::default(), None)
            .unwrap();
        let mut b = None;
        for i in 1..n {
            let gi = a_group
                .group_info_message_allowing_ext_commit(true)
                .unwrap()
                .to_bytes()
                .unwrap();
            let joiner = client(&format!("member-{i}"));
            let (group, commit) = joiner
                .commit_external(MlsMessage::from_bytes(&gi).unwrap())
                .unwrap();
            process_commit(&mut a_group, &commit.to_bytes().unwrap());
            b = Some(group);
        }
        let pair = RsPair { a: a_group, b: b? };
        pair.check();
        Some(Box::new(pair))
    }

    fn populated_max(&self) -> usize {
        1_000
    }

    fn populated_method(&self) -> &'static str {
        "n−1 external joins in turn (the creator processes every commit, B is the last joiner)"
    }
}
