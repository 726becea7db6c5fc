//! meetkey against OpenMLS on the same MLS operations (issue 7, part 2), each library in a
//! group of its own of n members (built by one commit adding n-1), suites 0x0001 and
//! 0x0003, PublicMessage handshakes, `ratchet_tree` extension on:
//!
//! - `self_update_create`: a commit with an UpdatePath (the commit is then discarded);
//! - `self_update_process`: another member processing that commit (staged, not merged);
//! - `external_join`: joining by external commit from a GroupInfo with the tree;
//! - `application_1KiB`: one member protects 1 KiB, another unprotects it (both with the
//!   encoding to bytes and the decoding in between).
//!
//! OpenMLS writes its state to its storage provider (here the in-memory one) on every
//! operation; that is part of what it costs to use. Run:
//! `cargo bench -p meetkey-interop-openmls -- --warm-up-time 1 --measurement-time 3`;
//! `MEETKEY_BENCH_MAX=1000` adds groups of 1 000 (default: 10 and 100).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use meetkey::codec::{Decode, Encode};
use meetkey::crypto::{CipherSuite, SignaturePrivateKey};
use meetkey::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle};
use meetkey::mls::wire::{Add, Credential, Lifetime, MlsMessage, MlsMessageBody, Proposal};
use openmls::prelude as om;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use rand_core::SeedableRng;
use tls_codec::{Deserialize as _, Serialize as _};

type Rng = rand_chacha::ChaCha20Rng;

fn om_suite(suite: u16) -> om::Ciphersuite {
    match suite {
        1 => om::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        _ => om::Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519,
    }
}

fn mk_bundle(suite: u16, name: &str, r: &mut Rng) -> KeyPackageBundle {
    KeyPackageBundle::new(
        &CipherSuite(suite).suite().unwrap(),
        Credential::Basic {
            identity: name.as_bytes().to_vec(),
        },
        SignaturePrivateKey::generate(r),
        Lifetime {
            not_before: 0,
            not_after: u64::MAX,
        },
        &[],
        r,
    )
    .unwrap()
}

/// An OpenMLS client with its provider (key store) and signature key.
struct OmClient {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: om::CredentialWithKey,
    suite: om::Ciphersuite,
}

impl OmClient {
    fn new(name: &str, suite: u16) -> Self {
        let suite = om_suite(suite);
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let credential = om::CredentialWithKey {
            credential: om::BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Self {
            provider,
            signer,
            credential,
            suite,
        }
    }

    fn key_package(&self) -> om::KeyPackage {
        om::KeyPackage::builder()
            .build(
                self.suite,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .unwrap()
            .key_package()
            .clone()
    }
}

fn om_join_config() -> om::MlsGroupJoinConfig {
    om::MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(om::PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build()
}

fn om_protocol_message(bytes: &[u8]) -> om::ProtocolMessage {
    om::MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .try_into_protocol_message()
        .unwrap()
}

/// meetkey: creator and a member who joined from the Welcome, in a group of `n`.
fn mk_group(suite: u16, n: usize, r: &mut Rng) -> (Group, Group) {
    let mut creator = Group::create(
        GroupConfig::default(),
        mk_bundle(suite, "member-0", r),
        b"bench",
        vec![],
        r,
    )
    .unwrap();
    let mut bundles: Vec<KeyPackageBundle> = (1..n)
        .map(|i| mk_bundle(suite, &format!("member-{i}"), r))
        .collect();
    let adds = bundles
        .iter()
        .map(|b| {
            Proposal::Add(Box::new(Add {
                key_package: b.key_package.clone(),
            }))
        })
        .collect();
    let out = creator.commit(adds, &CommitOptions::default(), r).unwrap();
    creator.merge_pending_commit().unwrap();
    let MlsMessageBody::Welcome(w) = &out.welcome.unwrap().body else {
        unreachable!()
    };
    let last = bundles.pop().unwrap();
    let member = Group::join_welcome(GroupConfig::default(), w, last, None, vec![]).unwrap();
    (creator, member)
}

/// OpenMLS: creator and a member who joined from the Welcome, in a group of `n`.
fn om_group(suite: u16, n: usize) -> ((OmClient, om::MlsGroup), (OmClient, om::MlsGroup)) {
    let creator = OmClient::new("member-0", suite);
    let mut creator_group = om::MlsGroup::builder()
        .ciphersuite(creator.suite)
        .use_ratchet_tree_extension(true)
        .with_wire_format_policy(om::PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build(
            &creator.provider,
            &creator.signer,
            creator.credential.clone(),
        )
        .unwrap();
    let last = OmClient::new(&format!("member-{}", n - 1), suite);
    let mut kps: Vec<om::KeyPackage> = (1..n - 1)
        .map(|i| OmClient::new(&format!("member-{i}"), suite).key_package())
        .collect();
    kps.push(last.key_package());
    let (_, welcome, _) = creator_group
        .add_members(&creator.provider, &creator.signer, &kps)
        .unwrap();
    creator_group
        .merge_pending_commit(&creator.provider)
        .unwrap();
    let om::MlsMessageBodyIn::Welcome(w) =
        om::MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap())
            .unwrap()
            .extract()
    else {
        unreachable!()
    };
    let member_group =
        om::StagedWelcome::new_from_welcome(&last.provider, &om_join_config(), w, None)
            .unwrap()
            .into_group(&last.provider)
            .unwrap();
    ((creator, creator_group), (last, member_group))
}

fn sizes() -> Vec<usize> {
    let max: usize = std::env::var("MEETKEY_BENCH_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    [10, 100, 1_000].into_iter().filter(|&n| n <= max).collect()
}

fn benches(c: &mut Criterion) {
    let payload = vec![0x42u8; 1024];
    for suite in [1u16, 3] {
        for n in sizes() {
            let mut r = Rng::seed_from_u64(u64::from(suite) * 1_000 + n as u64);
            let (mut mk_creator, mut mk_member) = mk_group(suite, n, &mut r);
            let ((om_c, mut om_creator), (om_m, mut om_member)) = om_group(suite, n);

            // self_update_create
            let mut g = c.benchmark_group(format!("compare/self_update_create/suite{suite}"));
            g.sample_size(10);
            g.bench_function(BenchmarkId::new("meetkey", n), |b| {
                b.iter(|| {
                    let out = mk_creator
                        .commit(vec![], &CommitOptions::default(), &mut r)
                        .unwrap();
                    mk_creator.discard_pending_commit();
                    out
                });
            });
            g.bench_function(BenchmarkId::new("openmls", n), |b| {
                b.iter(|| {
                    let bundle = om_creator
                        .self_update(
                            &om_c.provider,
                            &om_c.signer,
                            om::LeafNodeParameters::default(),
                        )
                        .unwrap();
                    om_creator
                        .clear_pending_commit(om_c.provider.storage())
                        .unwrap();
                    bundle
                });
            });
            g.finish();

            // self_update_process (staged, not merged, so the same commit processes again)
            let mk_commit = mk_creator
                .commit(vec![], &CommitOptions::default(), &mut r)
                .unwrap()
                .commit;
            mk_creator.discard_pending_commit();
            let om_commit = om_creator
                .self_update(
                    &om_c.provider,
                    &om_c.signer,
                    om::LeafNodeParameters::default(),
                )
                .unwrap()
                .into_commit()
                .tls_serialize_detached()
                .unwrap();
            om_creator
                .clear_pending_commit(om_c.provider.storage())
                .unwrap();
            let mut g = c.benchmark_group(format!("compare/self_update_process/suite{suite}"));
            g.sample_size(10);
            g.bench_function(BenchmarkId::new("meetkey", n), |b| {
                b.iter(|| mk_member.process_message(&mk_commit).unwrap());
            });
            g.bench_function(BenchmarkId::new("openmls", n), |b| {
                b.iter_batched(
                    || om_protocol_message(&om_commit),
                    |m| om_member.process_message(&om_m.provider, m).unwrap(),
                    BatchSize::SmallInput,
                );
            });
            g.finish();

            // external_join
            let mk_info = mk_creator.group_info(true).unwrap();
            let MlsMessageBody::GroupInfo(mk_info) = &mk_info.body else {
                unreachable!()
            };
            let om_info = om_creator
                .export_group_info(om_c.provider.crypto(), &om_c.signer, true)
                .unwrap()
                .tls_serialize_detached()
                .unwrap();
            let mut g = c.benchmark_group(format!("compare/external_join/suite{suite}"));
            g.sample_size(10);
            g.bench_function(BenchmarkId::new("meetkey", n), |b| {
                b.iter_batched(
                    || mk_bundle(suite, "joiner", &mut r),
                    |bundle| {
                        let mut jr = Rng::seed_from_u64(7);
                        Group::join_external(GroupConfig::default(), mk_info, None, bundle, &mut jr)
                            .unwrap()
                    },
                    BatchSize::PerIteration,
                );
            });
            g.bench_function(BenchmarkId::new("openmls", n), |b| {
                b.iter_batched(
                    || {
                        let om::MlsMessageBodyIn::GroupInfo(gi) =
                            om::MlsMessageIn::tls_deserialize_exact(&om_info)
                                .unwrap()
                                .extract()
                        else {
                            unreachable!()
                        };
                        (OmClient::new("joiner", suite), gi)
                    },
                    |(joiner, gi)| {
                        let joined = om::MlsGroup::external_commit_builder()
                            .with_config(om_join_config())
                            .build_group(&joiner.provider, gi, joiner.credential.clone())
                            .unwrap()
                            .load_psks(joiner.provider.storage())
                            .unwrap()
                            .build(
                                joiner.provider.rand(),
                                joiner.provider.crypto(),
                                &joiner.signer,
                                |_| true,
                            )
                            .unwrap()
                            .finalize(&joiner.provider)
                            .unwrap();
                        (joiner, joined)
                    },
                    BatchSize::PerIteration,
                );
            });
            g.finish();

            // application_1KiB: protect at one member, unprotect at another.
            let mut g = c.benchmark_group(format!("compare/application_1KiB/suite{suite}"));
            g.throughput(Throughput::Bytes(payload.len() as u64));
            g.bench_function(BenchmarkId::new("meetkey", n), |b| {
                b.iter(|| {
                    let m = mk_creator
                        .encrypt_application(&payload, b"", &mut r)
                        .unwrap()
                        .to_bytes()
                        .unwrap();
                    let m = MlsMessage::decode_exact(&m).unwrap();
                    mk_member.process_message(&m).unwrap()
                });
            });
            g.bench_function(BenchmarkId::new("openmls", n), |b| {
                b.iter(|| {
                    let m = om_creator
                        .create_message(&om_c.provider, &om_c.signer, &payload)
                        .unwrap();
                    let m = om_protocol_message(&m.tls_serialize_detached().unwrap());
                    om_member.process_message(&om_m.provider, m).unwrap()
                });
            });
            g.finish();
        }
    }
}

criterion_group!(compare, benches);
criterion_main!(compare);
