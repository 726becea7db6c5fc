//! OpenMLS 0.9.2 in the comparison: `openmls_rust_crypto` provider with its in-memory
//! storage, basic credentials, `ratchet_tree` extension on, PublicMessage handshakes
//! (`PURE_PLAINTEXT_WIRE_FORMAT_POLICY`, as meetkey's default; OpenMLS's own default is
//! PrivateMessage), other group settings at their defaults. OpenMLS writes its group state to
//! the storage provider on every operation: that is part of what it costs.

use std::time::{Duration, Instant};

use openmls::prelude as om;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use tls_codec::{Deserialize as _, Serialize as _};

use super::report::MemoryCell;
use super::{alloc, Built, Library, Pair};

const SUITE: om::Ciphersuite = om::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// The OpenMLS library.
pub(crate) struct OpenMls;

/// A client: its provider (crypto and storage) and signature key.
struct Client {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: om::CredentialWithKey,
}

impl Client {
    fn new(name: &str) -> Self {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let credential = om::CredentialWithKey {
            credential: om::BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        Self {
            provider,
            signer,
            credential,
        }
    }

    /// A fresh KeyPackage, encoded as an MLSMessage (its private keys stay in the storage).
    fn key_package(&self) -> Vec<u8> {
        let bundle = om::KeyPackage::builder()
            .build(SUITE, &self.provider, &self.signer, self.credential.clone())
            .unwrap();
        om::MlsMessageOut::from(bundle.key_package().clone())
            .tls_serialize_detached()
            .unwrap()
    }

    fn create(&self) -> om::MlsGroup {
        om::MlsGroup::builder()
            .ciphersuite(SUITE)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(om::PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
            .build(&self.provider, &self.signer, self.credential.clone())
            .unwrap()
    }

    fn join(&self, welcome: &[u8]) -> om::MlsGroup {
        let om::MlsMessageBodyIn::Welcome(w) = om::MlsMessageIn::tls_deserialize_exact(welcome)
            .unwrap()
            .extract()
        else {
            panic!("not a Welcome")
        };
        om::StagedWelcome::new_from_welcome(&self.provider, &join_config(), w, None)
            .unwrap()
            .into_group(&self.provider)
            .unwrap()
    }

    /// Joins by external commit from a GroupInfo (with the tree); returns the commit.
    fn join_external(&self, group_info: &[u8]) -> (om::MlsGroup, Vec<u8>) {
        let om::MlsMessageBodyIn::GroupInfo(gi) =
            om::MlsMessageIn::tls_deserialize_exact(group_info)
                .unwrap()
                .extract()
        else {
            panic!("not a GroupInfo")
        };
        let (group, bundle) = om::MlsGroup::external_commit_builder()
            .with_config(join_config())
            .build_group(&self.provider, gi, self.credential.clone())
            .unwrap()
            .load_psks(self.provider.storage())
            .unwrap()
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .unwrap()
            .finalize(&self.provider)
            .unwrap();
        let (commit, _, _) = bundle.into_messages();
        (group, commit.tls_serialize_detached().unwrap())
    }
}

fn join_config() -> om::MlsGroupJoinConfig {
    om::MlsGroupJoinConfig::builder()
        .use_ratchet_tree_extension(true)
        .wire_format_policy(om::PURE_PLAINTEXT_WIRE_FORMAT_POLICY)
        .build()
}

fn protocol_message(bytes: &[u8]) -> om::ProtocolMessage {
    om::MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .try_into_protocol_message()
        .unwrap()
}

/// Processes and merges a commit.
fn process_commit(client: &Client, group: &mut om::MlsGroup, commit: &[u8]) {
    let processed = group
        .process_message(&client.provider, protocol_message(commit))
        .unwrap();
    match processed.into_content() {
        om::ProcessedMessageContent::StagedCommitMessage(staged) => {
            group
                .merge_staged_commit(&client.provider, *staged)
                .unwrap();
        }
        _ => panic!("not a commit"),
    }
}

struct OmMember {
    client: Client,
    group: om::MlsGroup,
}

struct OmPair {
    a: OmMember,
    b: OmMember,
}

impl Pair for OmPair {
    fn self_update(&mut self) -> Vec<u8> {
        let a = &mut self.a;
        a.group
            .self_update(
                &a.client.provider,
                &a.client.signer,
                om::LeafNodeParameters::default(),
            )
            .unwrap()
            .into_commit()
            .tls_serialize_detached()
            .unwrap()
    }

    fn remove(&mut self, leaf: u32) -> Vec<u8> {
        let a = &mut self.a;
        a.group
            .remove_members(
                &a.client.provider,
                &a.client.signer,
                &[om::LeafNodeIndex::new(leaf)],
            )
            .unwrap()
            .0
            .tls_serialize_detached()
            .unwrap()
    }

    fn merge(&mut self) {
        self.a
            .group
            .merge_pending_commit(&self.a.client.provider)
            .unwrap();
    }

    fn process(&mut self, commit: &[u8]) {
        process_commit(&self.b.client, &mut self.b.group, commit);
    }

    fn check(&self) {
        assert_eq!(self.a.group.epoch(), self.b.group.epoch(), "epoch");
        assert_eq!(
            self.a.group.epoch_authenticator().as_slice(),
            self.b.group.epoch_authenticator().as_slice(),
            "epoch_authenticator"
        );
    }

    fn app(&mut self, payload: &[u8]) {
        let a = &mut self.a;
        let m = a
            .group
            .create_message(&a.client.provider, &a.client.signer, payload)
            .unwrap()
            .tls_serialize_detached()
            .unwrap();
        let processed = self
            .b
            .group
            .process_message(&self.b.client.provider, protocol_message(&m))
            .unwrap();
        match processed.into_content() {
            om::ProcessedMessageContent::ApplicationMessage(m) => {
                assert_eq!(m.into_bytes(), payload);
            }
            _ => panic!("not application data"),
        }
    }
}

struct OmBuilt {
    welcome: Vec<u8>,
    joiners: Vec<Client>,
    memory_joiner: Option<(Client, isize, isize)>,
    pair: OmPair,
}

impl Built for OmBuilt {
    fn join(&mut self) -> Option<Duration> {
        let joiner = self.joiners.pop()?;
        let t = Instant::now();
        let g = joiner.join(&self.welcome);
        let d = t.elapsed();
        assert_eq!(
            g.epoch_authenticator().as_slice(),
            self.pair.a.group.epoch_authenticator().as_slice()
        );
        drop((g, joiner));
        Some(d)
    }

    fn join_memory(&mut self) -> Option<MemoryCell> {
        let (joiner, client, client_peak) = self.memory_joiner.take()?;
        let (g, join, join_peak) = alloc::measure(|| joiner.join(&self.welcome));
        assert_eq!(
            g.epoch_authenticator().as_slice(),
            self.pair.a.group.epoch_authenticator().as_slice()
        );
        let n = g.members().count();
        Some(MemoryCell::new(n, client, client_peak, join, join_peak))
    }

    fn into_pair(self: Box<Self>) -> Box<dyn Pair> {
        Box::new(self.pair)
    }
}

impl Library for OpenMls {
    fn name(&self) -> &'static str {
        "OpenMLS"
    }

    fn build(&self, n: usize, joiners: usize, memory: bool) -> (Duration, Box<dyn Built>) {
        let a = Client::new("member-0");
        let mut a_group = a.create();
        // Members 1..n-1; B is n-1; joiners (own clients kept) are n-2, n-3, ...; the
        // memory joiner's client is measured from its creation (provider and storage).
        let keep_from = (n - 1).saturating_sub(joiners + 1).max(1);
        let mut kept = Vec::new();
        let mut memory_joiner = None;
        let mut key_packages = Vec::with_capacity(n - 1);
        for i in 1..n {
            if memory && i == keep_from {
                let (c, bytes, peak) = alloc::measure(|| {
                    let c = Client::new(&format!("member-{i}"));
                    let kp = c.key_package();
                    (c, kp)
                });
                // The encoded KeyPackage goes to the creator: not the member's.
                let sent = c.1.capacity() as isize;
                key_packages.push(c.1);
                memory_joiner = Some((c.0, bytes - sent, peak));
                continue;
            }
            let c = Client::new(&format!("member-{i}"));
            key_packages.push(c.key_package());
            if i >= keep_from {
                kept.push(c);
            }
        }
        let t = Instant::now();
        let kps: Vec<om::KeyPackage> = key_packages
            .iter()
            .map(|b| {
                let om::MlsMessageBodyIn::KeyPackage(kp) =
                    om::MlsMessageIn::tls_deserialize_exact(b)
                        .unwrap()
                        .extract()
                else {
                    panic!("not a KeyPackage")
                };
                kp.validate(a.provider.crypto(), om::ProtocolVersion::Mls10)
                    .unwrap()
            })
            .collect();
        let (commit, welcome, _) = a_group.add_members(&a.provider, &a.signer, &kps).unwrap();
        let commit = commit.tls_serialize_detached().unwrap();
        let welcome = welcome.tls_serialize_detached().unwrap();
        let d = t.elapsed();
        drop((commit, kps, key_packages));
        a_group.merge_pending_commit(&a.provider).unwrap();
        let b = kept.pop().unwrap();
        let b_group = b.join(&welcome);
        let pair = OmPair {
            a: OmMember {
                client: a,
                group: a_group,
            },
            b: OmMember {
                client: b,
                group: b_group,
            },
        };
        pair.check();
        (
            d,
            Box::new(OmBuilt {
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
        let a = Client::new("member-0");
        let mut a_group = a.create();
        let mut b = None;
        for i in 1..n {
            let gi = a_group
                .export_group_info(a.provider.crypto(), &a.signer, true)
                .unwrap()
                .tls_serialize_detached()
                .unwrap();
            let joiner = Client::new(&format!("member-{i}"));
            let (group, commit) = joiner.join_external(&gi);
            process_commit(&a, &mut a_group, &commit);
            b = Some(OmMember {
                client: joiner,
                group,
            });
        }
        let pair = OmPair {
            a: OmMember {
                client: a,
                group: a_group,
            },
            b: b?,
        };
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
