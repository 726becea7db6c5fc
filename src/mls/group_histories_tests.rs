//! Seeded random group histories (the MLS group issue, item 6): sequences of add, remove,
//! update (self-update commit or Update proposal committed by another), external join,
//! application messages and rejected garbage, across 2 to 50 members in suites 1 and 3.
//! After every step all members agree on the epoch, tree hash, `epoch_authenticator` and an
//! exporter output; every application message decrypts at every other member; every
//! rejected input leaves the receiver's saved state byte for byte unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::codec::Decode;
use crate::crypto::{CipherSuite, SignaturePrivateKey};
use crate::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use crate::mls::wire::{Add, Credential, Lifetime, MlsMessage, MlsMessageBody, Proposal, Remove};
use rand_core::{RngCore, SeedableRng};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

type Rng = rand_chacha::ChaCha20Rng;

const HISTORIES: u64 = 200;
const STEPS: usize = 10;
const MAX_MEMBERS: usize = 50;

struct History {
    suite: u16,
    config: GroupConfig,
    members: Vec<Group>,
    next_id: usize,
    rng: Rng,
}

impl History {
    fn bundle(&mut self) -> KeyPackageBundle {
        let suite = CipherSuite(self.suite).suite().unwrap();
        self.next_id += 1;
        let credential = Credential::Basic {
            identity: format!("m{}", self.next_id).into_bytes(),
        };
        let lifetime = Lifetime::starting_at(NOW, KP_LIFETIME);
        KeyPackageBundle::with_suite(
            &suite,
            credential,
            SignaturePrivateKey::generate(&mut self.rng),
            lifetime,
            &[],
            &mut self.rng,
        )
        .unwrap()
    }

    fn pick(&mut self) -> usize {
        (self.rng.next_u32() as usize) % self.members.len()
    }

    /// Member `from` commits `proposals`; everyone else processes and merges it.
    fn commit(
        &mut self,
        from: usize,
        proposals: Vec<Proposal>,
        force_path: bool,
    ) -> Option<MlsMessage> {
        let options = CommitOptions {
            force_path,
            ..CommitOptions::at(NOW)
        };
        let out = self.members[from]
            .commit(
                proposals.into_iter().map(crate::mls::Proposal).collect(),
                &options,
                &mut self.rng,
            )
            .unwrap();
        self.members[from].merge_pending_commit().unwrap();
        let mut removed = Vec::new();
        for (i, g) in self.members.iter_mut().enumerate() {
            if i == from {
                continue;
            }
            match g.process_message(&out.commit).unwrap() {
                ProcessedMessage::Commit(staged) => {
                    let gone = staged.removes_us();
                    g.merge_staged_commit(*staged).unwrap();
                    if gone {
                        removed.push(i);
                    }
                }
                other => panic!("expected a commit: {other:?}"),
            }
        }
        for i in removed.into_iter().rev() {
            assert!(!self.members[i].is_active());
            self.members.remove(i);
        }
        out.welcome
    }

    fn check(&self, what: &str) {
        let first = &self.members[0];
        for g in &self.members[1..] {
            assert_eq!(g.epoch(), first.epoch(), "{what}: epoch");
            assert_eq!(g.tree_hash(), first.tree_hash(), "{what}: tree hash");
            assert_eq!(
                g.epoch_authenticator(),
                first.epoch_authenticator(),
                "{what}: epoch authenticator"
            );
            assert_eq!(
                g.export_secret(b"h", b"", 16).unwrap(),
                first.export_secret(b"h", b"", 16).unwrap()
            );
        }
        assert_eq!(
            first.member_count(),
            self.members.len(),
            "{what}: member count"
        );
    }

    fn step(&mut self) -> &'static str {
        let n = self.members.len();
        match self.rng.next_u32() % 7 {
            0 | 1 if n < MAX_MEMBERS => {
                let count = 1 + (self.rng.next_u32() % 3) as usize;
                let bundles: Vec<KeyPackageBundle> = (0..count).map(|_| self.bundle()).collect();
                let adds = bundles
                    .iter()
                    .map(|b| {
                        Proposal::Add(Box::new(Add {
                            key_package: b.key_package.clone(),
                        }))
                    })
                    .collect();
                let from = self.pick();
                let force_path = self.rng.next_u32() % 2 == 0;
                let welcome = self.commit(from, adds, force_path).unwrap();
                let MlsMessageBody::Welcome(w) = &welcome.body else {
                    panic!()
                };
                for b in bundles {
                    self.members.push(
                        Group::join_welcome(self.config.clone(), w, b, None, vec![]).unwrap(),
                    );
                }
                "add"
            }
            2 if n > 2 => {
                let from = self.pick();
                let mut victim = self.pick();
                while victim == from {
                    victim = self.pick();
                }
                let removed = self.members[victim].own_leaf().0;
                self.commit(from, vec![Proposal::Remove(Remove { removed })], true);
                "remove"
            }
            3 => {
                let from = self.pick();
                self.commit(from, vec![], true);
                "self-update"
            }
            4 if n > 1 => {
                // An Update proposal by one member, committed by reference by another.
                let proposer = self.pick();
                let mut committer = self.pick();
                while committer == proposer {
                    committer = self.pick();
                }
                let msg = self.members[proposer]
                    .propose_update(&mut self.rng)
                    .unwrap();
                for (i, g) in self.members.iter_mut().enumerate() {
                    if i != proposer {
                        assert!(matches!(
                            g.process_message(&msg).unwrap(),
                            ProcessedMessage::Proposal { .. }
                        ));
                    }
                }
                self.commit(committer, vec![], true);
                "update proposal"
            }
            5 if n < MAX_MEMBERS => {
                let from = self.pick();
                let MlsMessageBody::GroupInfo(gi) =
                    self.members[from].group_info(true).unwrap().body
                else {
                    panic!()
                };
                let b = self.bundle();
                let (joiner, commit) =
                    Group::join_external(self.config.clone(), &gi, b, None, &mut self.rng).unwrap();
                for g in &mut self.members {
                    match g.process_message(&commit).unwrap() {
                        ProcessedMessage::Commit(staged) => g.merge_staged_commit(*staged).unwrap(),
                        other => panic!("{other:?}"),
                    }
                }
                self.members.push(joiner);
                "external join"
            }
            _ => {
                let from = self.pick();
                let mut data = vec![0u8; (self.rng.next_u32() % 300) as usize];
                self.rng.fill_bytes(&mut data);
                let msg = self.members[from]
                    .encrypt_application(&data, b"ad", &mut self.rng)
                    .unwrap();
                for (i, g) in self.members.iter_mut().enumerate() {
                    if i == from {
                        continue;
                    }
                    match g.process_message(&msg).unwrap() {
                        ProcessedMessage::Application { data: got, .. } => assert_eq!(got, data),
                        other => panic!("{other:?}"),
                    }
                }
                // Garbage to a random member: a tampered copy, then random bytes.
                let victim = self.pick();
                let before = self.members[victim].to_bytes().unwrap();
                let mut bytes = msg.to_bytes().unwrap();
                let i = (self.rng.next_u32() as usize) % bytes.len();
                bytes[i] ^= 1 << (self.rng.next_u32() % 8);
                if let Ok(bad) = MlsMessage::decode_exact(&bytes) {
                    self.members[victim]
                        .process_message(&bad)
                        .expect_err("tampered message accepted");
                }
                let mut noise = vec![0u8; 64];
                self.rng.fill_bytes(&mut noise);
                if let Ok(bad) = MlsMessage::decode_exact(&noise) {
                    let _ = self.members[victim].process_message(&bad);
                }
                assert!(
                    *before == *self.members[victim].to_bytes().unwrap(),
                    "rejected input changed state"
                );
                "application + garbage"
            }
        }
    }
}

#[test]
fn random_group_histories_stay_in_agreement() {
    let mut steps_run = std::collections::BTreeMap::<&str, usize>::new();
    for seed in 0..HISTORIES {
        let mut rng = Rng::seed_from_u64(seed);
        let suite = if seed % 2 == 0 { 1 } else { 3 };
        let config = GroupConfig {
            encrypt_handshake: seed % 3 == 0,
            ..GroupConfig::default()
        };
        let mut h = History {
            suite,
            config,
            members: Vec::new(),
            next_id: 0,
            rng: Rng::seed_from_u64(rng.next_u64()),
        };
        let b = h.bundle();
        let creator = Group::create(
            h.config.clone(),
            b,
            format!("history-{seed}").as_bytes(),
            vec![],
            &mut h.rng,
        )
        .unwrap();
        h.members.push(creator);
        for step in 0..STEPS {
            let what = h.step();
            *steps_run.entry(what).or_default() += 1;
            h.check(&format!("history {seed} step {step} ({what})"));
        }
    }
    println!("{HISTORIES} histories, {STEPS} steps each: {steps_run:?}");
}
