//! Interoperability of meetkey's MLS (RFC 9420) with OpenMLS, in suites 0x0001 and 0x0003.
//!
//! Every message crosses between the libraries as bytes: meetkey encodes with
//! `meetkey::codec::Encode` and OpenMLS decodes with `tls_codec`, and the reverse. Each
//! OpenMLS message meetkey decodes must also re-encode to the same bytes (one canonical
//! encoding). Agreement is checked on the epoch, the `epoch_authenticator` and an exporter
//! secret after every epoch, and application messages flow both ways.
//!
//! Scenarios:
//! 1. OpenMLS creates, adds meetkey by Welcome; meetkey self-updates; OpenMLS follows.
//! 2. meetkey creates, adds OpenMLS members; OpenMLS commits an update, an Update proposal,
//!    a remove and a Remove proposal; meetkey follows and commits the proposals.
//! 3. External commits both ways (GroupInfo with the ratchet tree).
//! 4. A mixed group of 6 (3 + 3), 20 seeded random epochs of adds, removes, updates,
//!    Update and Remove proposals committed by reference, and external joins, with
//!    PublicMessage and with PrivateMessage handshakes.
//!
//! And beyond the list: meetkey's Update and leave proposals committed by OpenMLS,
//! late (past-epoch) messages, resync by external commit, GREASE, `required_capabilities`
//! and GroupContextExtensions both ways, external and resumption PSKs (by value, by reference, in
//! Welcomes), trees out of band, `authenticated_data`, out-of-order messages, leaves
//! with a default extension (`application_id`) that their capabilities do not list, and
//! Remove proposals from external senders (`external_senders`) committed by reference.
//!
//! meetkey's randomness is seeded; OpenMLS draws its own (its provider and HPKE seal take
//! entropy from the OS and offer no seed), so key material differs between runs while the
//! sequence of operations is fixed by the seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meetkey::mls::{
    CommitOptions, ExternalProposer, Group, GroupConfig, KeyPackageBundle, ProcessedMessage,
};
use meetkey::mls::{
    Credential, ExternalSender, GroupInfo, KeyPackage, LeafIndex, Lifetime, MlsMessage, Proposal,
    Welcome,
};
use meetkey::{CipherSuite, Secret, SignaturePrivateKey};
use openmls::prelude as om;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider as _;
use rand_core::{RngCore, SeedableRng};
use tls_codec::{Deserialize as _, Serialize as _};

/// OpenMLS checks KeyPackage lifetimes against the system clock, so these tests use it
/// too (the only clock read in the tests).
#[allow(clippy::disallowed_methods)] // OpenMLS's own checks read this clock.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

type Rng = rand_chacha::ChaCha20Rng;

const SUITES: [u16; 2] = [1, 3];
const LABEL: &str = "meetkey interop";
const CONTEXT: &[u8] = b"exporter context";

fn om_suite(suite: u16) -> om::Ciphersuite {
    match suite {
        1 => om::Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519,
        3 => om::Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519,
        other => panic!("suite {other} is not in this test"),
    }
}

// ---- Wire exchange -------------------------------------------------------------------------

fn encode_mk(m: &MlsMessage) -> Vec<u8> {
    m.to_bytes().unwrap()
}

/// Decodes OpenMLS bytes with meetkey's codec, and checks meetkey re-encodes them unchanged.
fn decode_mk(bytes: &[u8]) -> MlsMessage {
    let m = MlsMessage::from_bytes(bytes).unwrap();
    assert_eq!(
        m.to_bytes().unwrap(),
        bytes,
        "meetkey re-encodes differently"
    );
    m
}

fn encode_om(m: &om::MlsMessageOut) -> Vec<u8> {
    m.tls_serialize_detached().unwrap()
}

fn decode_om(bytes: &[u8]) -> om::MlsMessageIn {
    om::MlsMessageIn::tls_deserialize_exact(bytes).unwrap()
}

// ---- Configuration -------------------------------------------------------------------------

/// Handshake messages as PublicMessage (meetkey's default) or PrivateMessage.
#[derive(Debug, Clone, Copy)]
enum Handshake {
    Public,
    Private,
}

impl Handshake {
    fn om_policy(self) -> om::WireFormatPolicy {
        match self {
            Self::Public => om::PURE_PLAINTEXT_WIRE_FORMAT_POLICY,
            Self::Private => om::PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
        }
    }

    fn mk_config(self) -> GroupConfig {
        GroupConfig {
            encrypt_handshake: matches!(self, Self::Private),
            ..GroupConfig::default()
        }
    }

    fn om_join_config(self) -> om::MlsGroupJoinConfig {
        om::MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .wire_format_policy(self.om_policy())
            .max_past_epochs(3)
            .padding_size(self.om_padding())
            .build()
    }

    /// OpenMLS pads PrivateMessages to 16 bytes when handshakes are encrypted, not at all
    /// otherwise (meetkey pads to 32): both must accept the other's padding.
    fn om_padding(self) -> usize {
        match self {
            Self::Public => 0,
            Self::Private => 16,
        }
    }
}

// ---- meetkey side --------------------------------------------------------------------------

fn mk_bundle(suite: u16, name: &str, rng: &mut Rng) -> KeyPackageBundle {
    let suite = CipherSuite(suite);
    let lifetime = Lifetime::starting_at(now(), KP_LIFETIME);
    let credential = Credential::Basic {
        identity: name.as_bytes().to_vec(),
    };
    KeyPackageBundle::new(
        suite,
        credential,
        SignaturePrivateKey::generate(rng),
        lifetime,
        &[],
        rng,
    )
    .unwrap()
}

/// The KeyPackage of `bundle` as an MLSMessage, encoded by meetkey.
fn mk_key_package_bytes(bundle: &KeyPackageBundle) -> Vec<u8> {
    encode_mk(&MlsMessage::from(bundle.key_package.clone()))
}

fn mk_add(key_package: &[u8]) -> Proposal {
    Proposal::add(KeyPackage::try_from(decode_mk(key_package)).expect("a KeyPackage"))
}

/// meetkey commits adds (KeyPackage messages) and removes, merges, and returns the commit
/// and the Welcome as bytes.
fn mk_commit(
    g: &mut Group,
    adds: &[Vec<u8>],
    removes: &[u32],
    path: bool,
    rng: &mut Rng,
) -> (Vec<u8>, Option<Vec<u8>>) {
    let mut proposals: Vec<Proposal> = adds.iter().map(|kp| mk_add(kp)).collect();
    proposals.extend(
        removes
            .iter()
            .map(|&removed| Proposal::remove(LeafIndex(removed))),
    );
    let options = CommitOptions {
        force_path: path,
        ..CommitOptions::at(now())
    };
    let out = g.commit(proposals, &options, rng).unwrap();
    g.merge_pending_commit().unwrap();
    (encode_mk(&out.commit), out.welcome.as_ref().map(encode_mk))
}

/// meetkey processes a message: merges a commit, stores a proposal, returns application data.
fn mk_process(g: &mut Group, bytes: &[u8]) -> Option<Vec<u8>> {
    match g.process_message(&decode_mk(bytes)).unwrap() {
        ProcessedMessage::Commit(staged) => {
            g.merge_staged_commit(*staged).unwrap();
            None
        }
        ProcessedMessage::Application { data, .. } => Some(data),
        ProcessedMessage::Proposal { reference, .. } => {
            // The application of these tests admits every proposal it receives.
            g.admit_proposal(&reference).unwrap();
            None
        }
        other => panic!("unexpected {other:?}"),
    }
}

fn mk_join_welcome(config: GroupConfig, welcome: &[u8], bundle: KeyPackageBundle) -> Group {
    let w = Welcome::try_from(decode_mk(welcome)).expect("a Welcome");
    Group::join_welcome(config, &w, bundle, None, vec![]).unwrap()
}

fn mk_join_external(
    config: GroupConfig,
    group_info: &[u8],
    bundle: KeyPackageBundle,
    rng: &mut Rng,
) -> (Group, Vec<u8>) {
    let gi = GroupInfo::try_from(decode_mk(group_info)).expect("a GroupInfo");
    let (g, commit) = Group::join_external(config, &gi, bundle, None, rng).unwrap();
    (g, encode_mk(&commit))
}

// ---- OpenMLS side --------------------------------------------------------------------------

/// An OpenMLS client: provider (key store), signature key, credential, and its group.
struct OmClient {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: om::CredentialWithKey,
    suite: om::Ciphersuite,
    handshake: Handshake,
    group: Option<om::MlsGroup>,
}

impl OmClient {
    fn new(name: &str, suite: u16, handshake: Handshake) -> Self {
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
            handshake,
            group: None,
        }
    }

    /// The same client (signature key and credential) with its group state lost.
    fn lost_state(&self) -> Self {
        let provider = OpenMlsRustCrypto::default();
        self.signer.store(provider.storage()).unwrap();
        Self {
            provider,
            signer: self.signer.clone(),
            credential: self.credential.clone(),
            suite: self.suite,
            handshake: self.handshake,
            group: None,
        }
    }

    fn create(&mut self, group_id: &[u8]) {
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(group_id))
            .ciphersuite(self.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(self.handshake.om_policy())
            .max_past_epochs(3)
            .padding_size(self.handshake.om_padding())
            .build(&self.provider, &self.signer, self.credential.clone())
            .unwrap();
        self.group = Some(group);
    }

    /// A fresh KeyPackage as an MLSMessage, encoded by OpenMLS (private keys stay in the store).
    fn key_package(&self) -> Vec<u8> {
        let bundle = om::KeyPackage::builder()
            .build(
                self.suite,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .unwrap();
        encode_om(&om::MlsMessageOut::from(bundle.key_package().clone()))
    }

    fn join_welcome(&mut self, welcome: &[u8]) {
        let om::MlsMessageBodyIn::Welcome(w) = decode_om(welcome).extract() else {
            panic!("not a Welcome")
        };
        let staged = om::StagedWelcome::new_from_welcome(
            &self.provider,
            &self.handshake.om_join_config(),
            w,
            None,
        )
        .unwrap();
        self.group = Some(staged.into_group(&self.provider).unwrap());
    }

    /// Joins by external commit from a GroupInfo (with the tree); returns the commit.
    fn join_external(&mut self, group_info: &[u8]) -> Vec<u8> {
        let om::MlsMessageBodyIn::GroupInfo(gi) = decode_om(group_info).extract() else {
            panic!("not a GroupInfo")
        };
        let (group, bundle) = om::MlsGroup::external_commit_builder()
            .with_config(self.handshake.om_join_config())
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
        self.group = Some(group);
        let (commit, _, _) = bundle.into_messages();
        encode_om(&commit)
    }

    fn group_info(&self) -> Vec<u8> {
        let g = self.group.as_ref().unwrap();
        encode_om(
            &g.export_group_info(self.provider.crypto(), &self.signer, true)
                .unwrap(),
        )
    }

    /// Commits adds (KeyPackage messages) and removes, merges; commit and Welcome bytes.
    fn commit(
        &mut self,
        adds: &[Vec<u8>],
        removes: &[u32],
        path: bool,
    ) -> (Vec<u8>, Option<Vec<u8>>) {
        let key_packages: Vec<om::KeyPackage> = adds
            .iter()
            .map(|b| {
                let om::MlsMessageBodyIn::KeyPackage(kp) = decode_om(b).extract() else {
                    panic!("not a KeyPackage")
                };
                kp.validate(self.provider.crypto(), om::ProtocolVersion::Mls10)
                    .unwrap()
            })
            .collect();
        let (provider, signer) = (&self.provider, &self.signer);
        let group = self.group.as_mut().unwrap();
        let bundle = group
            .commit_builder()
            .propose_adds(key_packages)
            .propose_removals(removes.iter().map(|&l| om::LeafNodeIndex::new(l)))
            .force_self_update(path)
            .load_psks(provider.storage())
            .unwrap()
            .build(provider.rand(), provider.crypto(), signer, |_| true)
            .unwrap()
            .stage_commit(provider)
            .unwrap();
        let (commit, welcome, _) = bundle.into_messages();
        group.merge_pending_commit(provider).unwrap();
        (encode_om(&commit), welcome.as_ref().map(encode_om))
    }

    /// Processes a message: merges a commit, stores a proposal, returns application data.
    fn process(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        let message = decode_om(bytes).try_into_protocol_message().unwrap();
        let provider = &self.provider;
        let group = self.group.as_mut().unwrap();
        let processed = group.process_message(provider, message).unwrap();
        match processed.into_content() {
            om::ProcessedMessageContent::ApplicationMessage(m) => Some(m.into_bytes()),
            om::ProcessedMessageContent::StagedCommitMessage(staged) => {
                group.merge_staged_commit(provider, *staged).unwrap();
                None
            }
            om::ProcessedMessageContent::ProposalMessage(p)
            | om::ProcessedMessageContent::ExternalJoinProposalMessage(p) => {
                group
                    .store_pending_proposal(provider.storage(), *p)
                    .unwrap();
                None
            }
            _ => panic!("unexpected message"),
        }
    }

    fn send(&mut self, data: &[u8]) -> Vec<u8> {
        let (provider, signer) = (&self.provider, &self.signer);
        let m = self
            .group
            .as_mut()
            .unwrap()
            .create_message(provider, signer, data)
            .unwrap();
        encode_om(&m)
    }

    fn leaf(&self) -> u32 {
        self.group.as_ref().unwrap().own_leaf_index().u32()
    }

    fn epoch(&self) -> u64 {
        self.group.as_ref().unwrap().epoch().as_u64()
    }

    fn authenticator(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .unwrap()
            .epoch_authenticator()
            .as_slice()
            .to_vec()
    }

    fn exporter(&self) -> Vec<u8> {
        self.group
            .as_ref()
            .unwrap()
            .export_secret(self.provider.crypto(), LABEL, CONTEXT, 32)
            .unwrap()
    }

    fn is_active(&self) -> bool {
        self.group.as_ref().unwrap().is_active()
    }
}

/// Asserts meetkey `g` and OpenMLS `o` are in the same epoch with the same authenticator,
/// exporter secret and member count.
fn assert_agree(g: &Group, o: &OmClient) {
    assert_eq!(g.epoch(), o.epoch(), "epoch");
    assert_eq!(
        g.epoch_authenticator(),
        o.authenticator().as_slice(),
        "epoch_authenticator in epoch {}",
        g.epoch()
    );
    assert_eq!(
        g.export_secret(LABEL.as_bytes(), CONTEXT, 32).unwrap(),
        Secret::from_slice(&o.exporter()).unwrap(),
        "exporter secret in epoch {}",
        g.epoch()
    );
    assert_eq!(
        g.member_count(),
        o.group.as_ref().unwrap().members().count(),
        "member count"
    );
}

fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

// ---- Scenario 1 ----------------------------------------------------------------------------

/// OpenMLS creates a group and adds meetkey by Welcome (tree in the `ratchet_tree`
/// extension); meetkey self-updates with a path; both agree; messages flow both ways.
#[test]
fn openmls_creates_meetkey_joins_by_welcome_and_updates() {
    for suite in SUITES {
        for hs in [Handshake::Public, Handshake::Private] {
            let mut r = rng(u64::from(suite));
            let mut alice = OmClient::new("alice", suite, hs);
            alice.create(b"openmls group");
            let bob_bundle = mk_bundle(suite, "bob", &mut r);
            let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
            let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
            assert_agree(&bob, &alice);
            assert_eq!(bob.member_count(), 2);

            // meetkey self-update with path, OpenMLS follows.
            let (commit, welcome) = mk_commit(&mut bob, &[], &[], true, &mut r);
            assert!(welcome.is_none());
            assert_eq!(alice.process(&commit), None);
            assert_agree(&bob, &alice);

            // Application messages both ways.
            let m = alice.send(b"from openmls");
            assert_eq!(
                mk_process(&mut bob, &m).as_deref(),
                Some(&b"from openmls"[..])
            );
            let m = encode_mk(
                &bob.encrypt_application(b"from meetkey", b"", &mut r)
                    .unwrap(),
            );
            assert_eq!(alice.process(&m).as_deref(), Some(&b"from meetkey"[..]));

            // OpenMLS self-update with path, meetkey follows.
            let (commit, _) = alice.commit(&[], &[], true);
            assert_eq!(mk_process(&mut bob, &commit), None);
            assert_agree(&bob, &alice);
            assert_eq!(bob.epoch(), 3);
        }
    }
}

// ---- Scenario 2 ----------------------------------------------------------------------------

/// meetkey creates a group and adds two OpenMLS members (OpenMLS KeyPackages decoded by
/// meetkey); they join from meetkey's Welcome; OpenMLS commits an update and a remove and
/// sends Update and Remove proposals that meetkey commits by reference.
#[test]
fn meetkey_creates_openmls_joins_updates_and_removes() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(100 + u64::from(suite));
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"meetkey group",
            vec![],
            &mut r,
        )
        .unwrap();
        let mut bob = OmClient::new("bob", suite, hs);
        let mut carol = OmClient::new("carol", suite, hs);
        let dave_bundle = mk_bundle(suite, "dave", &mut r);
        let adds = [
            bob.key_package(),
            carol.key_package(),
            mk_key_package_bytes(&dave_bundle),
        ];
        let (_, welcome) = mk_commit(&mut alice, &adds, &[], true, &mut r);
        let welcome = welcome.unwrap();
        bob.join_welcome(&welcome);
        carol.join_welcome(&welcome);
        let mut dave = mk_join_welcome(hs.mk_config(), &welcome, dave_bundle);
        assert_agree(&alice, &bob);
        assert_agree(&alice, &carol);
        assert_agree(&dave, &bob);
        assert_eq!(alice.member_count(), 4);

        // OpenMLS commits a self-update.
        let (commit, _) = bob.commit(&[], &[], true);
        for g in [&mut alice, &mut dave] {
            assert_eq!(mk_process(g, &commit), None);
        }
        carol.process(&commit);
        assert_agree(&alice, &bob);
        assert_agree(&dave, &carol);

        // OpenMLS proposes an Update; meetkey commits it by reference.
        let (provider, signer) = (&carol.provider, &carol.signer);
        let (proposal, _) = carol
            .group
            .as_mut()
            .unwrap()
            .propose_self_update(provider, signer, om::LeafNodeParameters::default())
            .unwrap();
        let proposal = encode_om(&proposal);
        for g in [&mut alice, &mut dave] {
            assert_eq!(mk_process(g, &proposal), None);
        }
        bob.process(&proposal);
        let (commit, _) = mk_commit(&mut alice, &[], &[], true, &mut r);
        mk_process(&mut dave, &commit);
        bob.process(&commit);
        carol.process(&commit);
        assert_agree(&alice, &carol);
        assert_agree(&dave, &bob);

        // OpenMLS removes meetkey's Dave.
        let dave_leaf = dave.own_leaf().0;
        let (commit, _) = bob.commit(&[], &[dave_leaf], true);
        assert_eq!(mk_process(&mut alice, &commit), None);
        carol.process(&commit);
        match dave.process_message(&decode_mk(&commit)).unwrap() {
            ProcessedMessage::Commit(staged) => {
                assert!(staged.removes_us());
                dave.merge_staged_commit(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert!(!dave.is_active());
        assert_agree(&alice, &bob);
        assert_agree(&alice, &carol);
        assert_eq!(alice.member_count(), 3);

        // OpenMLS proposes to remove Carol; meetkey commits; Carol sees her removal.
        let carol_leaf = carol.leaf();
        let (provider, signer) = (&bob.provider, &bob.signer);
        let (proposal, _) = bob
            .group
            .as_mut()
            .unwrap()
            .propose_remove_member(provider, signer, om::LeafNodeIndex::new(carol_leaf))
            .unwrap();
        let proposal = encode_om(&proposal);
        mk_process(&mut alice, &proposal);
        carol.process(&proposal);
        let (commit, _) = mk_commit(&mut alice, &[], &[], true, &mut r);
        bob.process(&commit);
        carol.process(&commit);
        assert!(!carol.is_active());
        assert_agree(&alice, &bob);
        assert_eq!(alice.member_count(), 2);

        // Messages both ways in the final epoch.
        let m = bob.send(b"hi alice");
        assert_eq!(
            mk_process(&mut alice, &m).as_deref(),
            Some(&b"hi alice"[..])
        );
        let m = encode_mk(&alice.encrypt_application(b"hi bob", b"ad", &mut r).unwrap());
        assert_eq!(bob.process(&m).as_deref(), Some(&b"hi bob"[..]));
    }
}

// ---- Scenario 3 ----------------------------------------------------------------------------

/// OpenMLS joins a meetkey group by external commit from meetkey's GroupInfo, and meetkey
/// joins an OpenMLS group by external commit from OpenMLS's GroupInfo.
#[test]
fn external_commits_both_ways() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(200 + u64::from(suite));

        // OpenMLS into a meetkey group.
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"meetkey group",
            vec![],
            &mut r,
        )
        .unwrap();
        let mut bob = OmClient::new("bob", suite, hs);
        let group_info = encode_mk(&alice.group_info(true).unwrap());
        let commit = bob.join_external(&group_info);
        assert_eq!(mk_process(&mut alice, &commit), None);
        assert_agree(&alice, &bob);
        let m = bob.send(b"joined");
        assert_eq!(mk_process(&mut alice, &m).as_deref(), Some(&b"joined"[..]));

        // meetkey into an OpenMLS group (from OpenMLS's GroupInfo, the tree included).
        let mut carol = OmClient::new("carol", suite, hs);
        carol.create(b"openmls group");
        let group_info = carol.group_info();
        let (mut dave, commit) = mk_join_external(
            hs.mk_config(),
            &group_info,
            mk_bundle(suite, "dave", &mut r),
            &mut r,
        );
        assert_eq!(carol.process(&commit), None);
        assert_agree(&dave, &carol);
        let m = encode_mk(&dave.encrypt_application(b"joined", b"", &mut r).unwrap());
        assert_eq!(carol.process(&m).as_deref(), Some(&b"joined"[..]));

        // And a second external joiner of each kind into the other's (now mixed) group.
        let mut erin = OmClient::new("erin", suite, hs);
        let commit = erin.join_external(&encode_mk(&dave.group_info(true).unwrap()));
        mk_process(&mut dave, &commit);
        carol.process(&commit);
        assert_agree(&dave, &erin);
        assert_agree(&dave, &carol);
        let (mut frank, commit) = mk_join_external(
            hs.mk_config(),
            &bob.group_info(),
            mk_bundle(suite, "frank", &mut r),
            &mut r,
        );
        mk_process(&mut alice, &commit);
        bob.process(&commit);
        assert_agree(&frank, &bob);
        assert_agree(&alice, &bob);
        let m = encode_mk(&frank.encrypt_application(b"x", b"", &mut r).unwrap());
        assert_eq!(bob.process(&m).as_deref(), Some(&b"x"[..]));
    }
}

// ---- Proposals by reference, late messages, resync ------------------------------------------

/// meetkey sends an Update and a leave (self-Remove) proposal that OpenMLS commits by
/// reference; application messages of a past epoch are read on both sides; an OpenMLS member
/// that lost its state rejoins a meetkey group by external commit with a Remove of its old
/// leaf (RFC 9420 §12.4.3.2 resync).
#[test]
fn proposals_late_messages_and_resync() {
    for suite in SUITES {
        for hs in [Handshake::Public, Handshake::Private] {
            let mut r = rng(300 + u64::from(suite));
            let mut alice = OmClient::new("alice", suite, hs);
            alice.create(b"openmls group");
            let (bob_bundle, carol_bundle) = (
                mk_bundle(suite, "bob", &mut r),
                mk_bundle(suite, "carol", &mut r),
            );
            let mut dave = OmClient::new("dave", suite, hs);
            let adds = [
                mk_key_package_bytes(&bob_bundle),
                mk_key_package_bytes(&carol_bundle),
                dave.key_package(),
            ];
            let (_, welcome) = alice.commit(&adds, &[], false);
            let welcome = welcome.unwrap();
            let mut bob = mk_join_welcome(hs.mk_config(), &welcome, bob_bundle);
            let mut carol = mk_join_welcome(hs.mk_config(), &welcome, carol_bundle);
            dave.join_welcome(&welcome);
            assert_agree(&bob, &alice);
            assert_agree(&carol, &dave);

            // meetkey's Update proposal, committed by OpenMLS by reference: Bob must take
            // the new leaf key he proposed.
            let proposal = encode_mk(&bob.propose_update(&mut r).unwrap());
            assert_eq!(alice.process(&proposal), None);
            assert_eq!(mk_process(&mut carol, &proposal), None);
            assert_eq!(dave.process(&proposal), None);
            let (commit, _) = alice.commit(&[], &[], false);
            for g in [&mut bob, &mut carol] {
                assert_eq!(mk_process(g, &commit), None);
            }
            dave.process(&commit);
            assert_agree(&bob, &alice);
            assert_agree(&carol, &dave);

            // Late messages: sent in this epoch, read after the next commit.
            let late_from_bob =
                encode_mk(&bob.encrypt_application(b"late mk", b"", &mut r).unwrap());
            let late_from_dave = dave.send(b"late om");
            let (commit, _) = dave.commit(&[], &[], true);
            for g in [&mut bob, &mut carol] {
                mk_process(g, &commit);
            }
            alice.process(&commit);
            assert_agree(&carol, &alice);
            assert_eq!(
                alice.process(&late_from_bob).as_deref(),
                Some(&b"late mk"[..])
            );
            assert_eq!(
                mk_process(&mut bob, &late_from_dave).as_deref(),
                Some(&b"late om"[..])
            );

            // meetkey leaves by proposal; OpenMLS commits it.
            let proposal = encode_mk(&carol.propose_leave(&mut r).unwrap());
            mk_process(&mut bob, &proposal);
            alice.process(&proposal);
            dave.process(&proposal);
            let (commit, _) = dave.commit(&[], &[], true);
            mk_process(&mut bob, &commit);
            alice.process(&commit);
            match carol.process_message(&decode_mk(&commit)).unwrap() {
                ProcessedMessage::Commit(staged) => {
                    assert!(staged.removes_us());
                    carol.merge_staged_commit(*staged).unwrap();
                }
                other => panic!("{other:?}"),
            }
            assert!(!carol.is_active());
            assert_agree(&bob, &alice);
            assert_agree(&bob, &dave);
            assert_eq!(bob.member_count(), 3);

            // Dave loses his state and rejoins by external commit from Bob's GroupInfo;
            // OpenMLS adds a Remove of his old leaf to the commit.
            let old_leaf = dave.leaf();
            let mut dave2 = dave.lost_state();
            let commit = dave2.join_external(&encode_mk(&bob.group_info(true).unwrap()));
            match bob.process_message(&decode_mk(&commit)).unwrap() {
                ProcessedMessage::Commit(staged) => {
                    assert_eq!(
                        staged.removed().iter().map(|l| l.0).collect::<Vec<_>>(),
                        [old_leaf]
                    );
                    bob.merge_staged_commit(*staged).unwrap();
                }
                other => panic!("{other:?}"),
            }
            alice.process(&commit);
            assert_agree(&bob, &alice);
            assert_agree(&bob, &dave2);
            assert_eq!(bob.member_count(), 3);
            let m = dave2.send(b"back");
            assert_eq!(mk_process(&mut bob, &m).as_deref(), Some(&b"back"[..]));
        }
    }
}

// ---- GREASE and GroupContext extensions --------------------------------------------------

/// An application-defined extension type, carried in the GroupContext.
const APP_EXTENSION: u16 = 0xff00;

fn om_capabilities(provider: &OpenMlsRustCrypto) -> om::Capabilities {
    om::Capabilities::builder()
        .extensions(vec![om::ExtensionType::Unknown(APP_EXTENSION)])
        .with_grease(provider.rand())
        .build()
}

/// `required_capabilities` requiring [`APP_EXTENSION`] and basic credentials, as meetkey
/// bytes: three vectors of u16 with one-byte varint length prefixes.
fn mk_required_capabilities() -> meetkey::mls::Extension {
    let mut data = vec![2];
    data.extend_from_slice(&APP_EXTENSION.to_be_bytes());
    data.extend_from_slice(&[0, 2, 0, 1]);
    meetkey::mls::Extension {
        extension_type: meetkey::mls::ExtensionType(3),
        extension_data: data,
    }
}

fn mk_app_extension(data: &[u8]) -> meetkey::mls::Extension {
    meetkey::mls::Extension {
        extension_type: meetkey::mls::ExtensionType(APP_EXTENSION),
        extension_data: data.to_vec(),
    }
}

fn om_context_extensions(data: &[u8]) -> om::Extensions<om::GroupContext> {
    om::Extensions::from_vec(vec![
        om::Extension::RequiredCapabilities(om::RequiredCapabilitiesExtension::new(
            &[om::ExtensionType::Unknown(APP_EXTENSION)],
            &[],
            &[om::CredentialType::Basic],
        )),
        om::Extension::Unknown(APP_EXTENSION, om::UnknownExtension(data.to_vec())),
    ])
    .unwrap()
}

/// OpenMLS members advertise GREASE values (RFC 9420 §13.5) in their capabilities; the
/// group requires an application extension (`required_capabilities`) and carries it in the
/// GroupContext; both sides change it with GroupContextExtensions proposals.
#[test]
fn grease_required_capabilities_and_context_extensions() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(400 + u64::from(suite));
        let mk_bundle_app = |name: &str, r: &mut Rng| {
            KeyPackageBundle::new(
                CipherSuite(suite),
                Credential::Basic {
                    identity: name.as_bytes().to_vec(),
                },
                SignaturePrivateKey::generate(r),
                Lifetime::starting_at(now(), KP_LIFETIME),
                &[meetkey::mls::ExtensionType(APP_EXTENSION)],
                r,
            )
            .unwrap()
        };

        // OpenMLS creates the group with GREASE and the required extension.
        let mut alice = OmClient::new("alice", suite, hs);
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"extensions"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(hs.om_policy())
            .with_capabilities(om_capabilities(&alice.provider))
            .with_group_context_extensions(om_context_extensions(b"v1"))
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);

        // A meetkey KeyPackage without the required extension: OpenMLS refuses to add it
        // (RFC 9420 §12.1.1). With it, meetkey joins and sees the extensions.
        let plain = mk_key_package_bytes(&mk_bundle(suite, "plain", &mut r));
        let om::MlsMessageBodyIn::KeyPackage(plain) = decode_om(&plain).extract() else {
            panic!("not a KeyPackage")
        };
        let plain = plain
            .validate(alice.provider.crypto(), om::ProtocolVersion::Mls10)
            .unwrap();
        let (provider, signer) = (&alice.provider, &alice.signer);
        let refused = alice
            .group
            .as_mut()
            .unwrap()
            .commit_builder()
            .propose_adds([plain])
            .load_psks(provider.storage())
            .unwrap()
            .build(provider.rand(), provider.crypto(), signer, |_| true);
        match refused {
            Err(_) => {}
            Ok(b) => assert!(b.stage_commit(provider).is_err(), "OpenMLS added it"),
        }
        assert!(alice.group.as_ref().unwrap().pending_commit().is_none());
        let bob_bundle = mk_bundle_app("bob", &mut r);
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
        assert_agree(&bob, &alice);
        assert!(bob.extensions().contains(&mk_app_extension(b"v1")));

        // An OpenMLS member with GREASE in its KeyPackage, added by meetkey.
        let mut carol = OmClient::new("carol", suite, hs);
        let kp = om::KeyPackage::builder()
            .leaf_node_capabilities(om_capabilities(&carol.provider))
            .build(
                carol.suite,
                &carol.provider,
                &carol.signer,
                carol.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        let (commit, welcome) = mk_commit(&mut bob, &[kp], &[], true, &mut r);
        alice.process(&commit);
        carol.join_welcome(&welcome.unwrap());
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);

        // OpenMLS changes the GroupContext extension; meetkey follows.
        let (provider, signer) = (&alice.provider, &alice.signer);
        let bundle = alice
            .group
            .as_mut()
            .unwrap()
            .commit_builder()
            .propose_group_context_extensions(om_context_extensions(b"v2"))
            .unwrap()
            .load_psks(provider.storage())
            .unwrap()
            .build(provider.rand(), provider.crypto(), signer, |_| true)
            .unwrap()
            .stage_commit(provider)
            .unwrap();
        let (commit, _, _) = bundle.into_messages();
        alice
            .group
            .as_mut()
            .unwrap()
            .merge_pending_commit(provider)
            .unwrap();
        let commit = encode_om(&commit);
        mk_process(&mut bob, &commit);
        carol.process(&commit);
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);
        assert!(bob.extensions().contains(&mk_app_extension(b"v2")));

        // meetkey changes it; OpenMLS follows.
        let proposal = Proposal::group_context_extensions(vec![
            mk_required_capabilities(),
            mk_app_extension(b"v3"),
        ]);
        let out = bob
            .commit(vec![proposal], &CommitOptions::at(now()), &mut r)
            .unwrap();
        bob.merge_pending_commit().unwrap();
        let commit = encode_mk(&out.commit);
        alice.process(&commit);
        carol.process(&commit);
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);
        let ext = alice
            .group
            .as_ref()
            .unwrap()
            .extensions()
            .unknown(APP_EXTENSION)
            .unwrap()
            .0
            .clone();
        assert_eq!(ext, b"v3");

        // meetkey creates a group requiring the extension; an OpenMLS member that supports
        // it joins from the Welcome.
        let mut dave = Group::create(
            hs.mk_config(),
            mk_bundle_app("dave", &mut r),
            b"meetkey extensions",
            vec![mk_required_capabilities(), mk_app_extension(b"mk")],
            &mut r,
        )
        .unwrap();
        let mut erin = OmClient::new("erin", suite, hs);
        let kp = om::KeyPackage::builder()
            .leaf_node_capabilities(om_capabilities(&erin.provider))
            .build(
                erin.suite,
                &erin.provider,
                &erin.signer,
                erin.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        // meetkey refuses an OpenMLS KeyPackage without the extension (RFC 9420 §12.1.1).
        let plain = OmClient::new("plain", suite, hs).key_package();
        assert!(dave
            .commit(vec![mk_add(&plain)], &CommitOptions::at(now()), &mut r)
            .is_err_and(|e| e
                == meetkey::Error::PeerMisbehaved(
                    meetkey::error::PeerMisbehaved::UnsupportedCapability
                )));
        assert!(!dave.has_pending_commit());
        let (_, welcome) = mk_commit(&mut dave, &[kp], &[], true, &mut r);
        erin.join_welcome(&welcome.unwrap());
        assert_agree(&dave, &erin);
        let (commit, _) = erin.commit(&[], &[], true);
        mk_process(&mut dave, &commit);
        assert_agree(&dave, &erin);
    }
}

/// A group requiring credential types basic and x509 (RFC 9420 §11.1: credential types
/// are never implied): each side refuses the other's KeyPackage that lists only basic, and
/// accepts one that lists both. (meetkey ignored required credential types before.)
#[test]
fn required_credential_types_both_ways() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(450 + u64::from(suite));
        let both = || {
            om::Capabilities::builder()
                .credentials(vec![om::CredentialType::Basic, om::CredentialType::X509])
                .build()
        };
        let mut alice = OmClient::new("alice", suite, hs);
        let required = om::Extensions::single(om::Extension::RequiredCapabilities(
            om::RequiredCapabilitiesExtension::new(
                &[],
                &[],
                &[om::CredentialType::Basic, om::CredentialType::X509],
            ),
        ))
        .unwrap();
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"x509 too"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(hs.om_policy())
            .with_capabilities(both())
            .with_group_context_extensions(required)
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);

        // meetkey KeyPackage listing only basic: OpenMLS refuses to add it.
        let plain = mk_key_package_bytes(&mk_bundle(suite, "plain", &mut r));
        let om::MlsMessageBodyIn::KeyPackage(plain) = decode_om(&plain).extract() else {
            panic!("not a KeyPackage")
        };
        let plain = plain
            .validate(alice.provider.crypto(), om::ProtocolVersion::Mls10)
            .unwrap();
        let (provider, signer) = (&alice.provider, &alice.signer);
        let refused = alice
            .group
            .as_mut()
            .unwrap()
            .commit_builder()
            .propose_adds([plain])
            .load_psks(provider.storage())
            .unwrap()
            .build(provider.rand(), provider.crypto(), signer, |_| true);
        match refused {
            Err(_) => {}
            Ok(b) => assert!(b.stage_commit(provider).is_err(), "OpenMLS added it"),
        }
        assert!(alice.group.as_ref().unwrap().pending_commit().is_none());

        // meetkey KeyPackage listing both (capabilities edited and re-signed): added.
        let bob_bundle = mk_bundle_with_application_id(suite, "bob", 451, &mut r)
            .with_leaf(
                &[meetkey::mls::CredentialType::X509],
                vec![mk_application_id()],
            )
            .unwrap();
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
        assert_agree(&bob, &alice);

        // OpenMLS KeyPackage listing only basic (OpenMLS's default): meetkey refuses it.
        let plain = OmClient::new("plain", suite, hs).key_package();
        assert_eq!(
            bob.commit(vec![mk_add(&plain)], &CommitOptions::at(now()), &mut r)
                .map(|_| ()),
            Err(meetkey::Error::PeerMisbehaved(
                meetkey::error::PeerMisbehaved::UnsupportedCapability
            ))
        );
        // Listing both: added.
        let mut carol = OmClient::new("carol", suite, hs);
        let kp = om::KeyPackage::builder()
            .leaf_node_capabilities(both())
            .build(
                carol.suite,
                &carol.provider,
                &carol.signer,
                carol.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        let (commit, welcome) = mk_commit(&mut bob, &[kp], &[], true, &mut r);
        alice.process(&commit);
        carol.join_welcome(&welcome.unwrap());
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);
    }
}

// ---- External PSKs ------------------------------------------------------------------------

const PSK_ID: &[u8] = b"meeting psk";
const PSK: [u8; 32] = [0x5a; 32];

fn om_store_psk(client: &OmClient) {
    openmls::schedule::PreSharedKeyId::external(PSK_ID.to_vec(), vec![])
        .store(&client.provider, &PSK)
        .unwrap();
}

fn om_psk_id(client: &OmClient) -> openmls::schedule::PreSharedKeyId {
    openmls::schedule::PreSharedKeyId::new(
        client.suite,
        client.provider.rand(),
        openmls::schedule::Psk::External(openmls::schedule::ExternalPsk::new(PSK_ID.to_vec())),
    )
    .unwrap()
}

/// OpenMLS proposes the PSK (sent to `members` first) and commits it by reference, with
/// adds (the joiners need the PSK for the Welcome).
fn om_commit_psk(
    alice: &mut OmClient,
    members: &mut [&mut Group],
    adds: &[Vec<u8>],
) -> (Vec<u8>, Option<Vec<u8>>) {
    let id = om_psk_id(alice);
    let (provider, signer) = (&alice.provider, &alice.signer);
    let (proposal, _) = alice
        .group
        .as_mut()
        .unwrap()
        .propose_pre_shared_key(provider, signer, id)
        .unwrap();
    let proposal = encode_om(&proposal);
    for g in members.iter_mut() {
        assert_eq!(mk_process(g, &proposal), None);
    }
    alice.commit(adds, &[], true)
}

fn mk_psk_proposal(suite: u16, r: &mut Rng) -> Proposal {
    Proposal::external_psk(CipherSuite(suite), PSK_ID, r).unwrap()
}

/// External PSKs (RFC 9420 §8.4) injected by commits of each side, also in Welcomes.
#[test]
fn external_psks_both_ways() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(500 + u64::from(suite));
        let mk_psks = || vec![(PSK_ID.to_vec(), Secret::from_slice(&PSK).unwrap())];

        // OpenMLS commits the PSK and an add of meetkey: the Welcome names the PSK.
        let mut alice = OmClient::new("alice", suite, hs);
        alice.create(b"psk group");
        om_store_psk(&alice);
        let bob_bundle = mk_bundle(suite, "bob", &mut r);
        let (_, welcome) = om_commit_psk(&mut alice, &mut [], &[mk_key_package_bytes(&bob_bundle)]);
        let welcome = welcome.unwrap();
        let w = Welcome::try_from(decode_mk(&welcome)).expect("a Welcome");
        assert!(
            Group::join_welcome(
                hs.mk_config(),
                &w,
                mk_bundle(suite, "bob", &mut r),
                None,
                mk_psks()
            )
            .is_err_and(|e| e
                == meetkey::Error::PeerMisbehaved(
                    meetkey::error::PeerMisbehaved::NoGroupSecretsForUs
                ))
        );
        let mut bob = Group::join_welcome(hs.mk_config(), &w, bob_bundle, None, mk_psks()).unwrap();
        assert_agree(&bob, &alice);

        // OpenMLS commits the PSK again (by reference); meetkey follows.
        let (commit, _) = om_commit_psk(&mut alice, &mut [&mut bob], &[]);
        mk_process(&mut bob, &commit);
        assert_agree(&bob, &alice);

        // meetkey commits a PSK (by value) and an add of OpenMLS's Carol.
        let mut carol = OmClient::new("carol", suite, hs);
        om_store_psk(&carol);
        let proposals = vec![mk_psk_proposal(suite, &mut r), mk_add(&carol.key_package())];
        let out = bob
            .commit(proposals, &CommitOptions::at(now()), &mut r)
            .unwrap();
        bob.merge_pending_commit().unwrap();
        alice.process(&encode_mk(&out.commit));
        carol.join_welcome(&encode_mk(&out.welcome.unwrap()));
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);

        // A PSK proposal from meetkey by reference, committed by OpenMLS.
        let proposal = encode_mk(&bob.propose(mk_psk_proposal(suite, &mut r), &mut r).unwrap());
        alice.process(&proposal);
        carol.process(&proposal);
        let (commit, _) = carol.commit(&[], &[], true);
        mk_process(&mut bob, &commit);
        alice.process(&commit);
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);
    }
}

/// Resumption PSKs (RFC 9420 §8.6, usage `application`) of earlier epochs of the same group,
/// injected by commits of each side.
#[test]
fn resumption_psks_both_ways() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(550 + u64::from(suite));
        let mut alice = OmClient::new("alice", suite, hs);
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"resumption"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(hs.om_policy())
            .number_of_resumption_psks(4)
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);
        let bob_bundle = mk_bundle(suite, "bob", &mut r);
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
        for _ in 0..2 {
            let (commit, _) = alice.commit(&[], &[], true);
            mk_process(&mut bob, &commit);
        }
        assert_agree(&bob, &alice);
        assert_eq!(bob.epoch(), 3);

        // OpenMLS: resumption PSK of epoch 2, by reference.
        let mut nonce = vec![0; 32];
        r.fill_bytes(&mut nonce);
        let id = openmls::schedule::PreSharedKeyId::resumption(
            openmls::schedule::psk::ResumptionPskUsage::Application,
            om::GroupId::from_slice(b"resumption"),
            om::GroupEpoch::from(2),
            nonce.clone(),
        );
        let (provider, signer) = (&alice.provider, &alice.signer);
        let (proposal, _) = alice
            .group
            .as_mut()
            .unwrap()
            .propose_pre_shared_key(provider, signer, id)
            .unwrap();
        mk_process(&mut bob, &encode_om(&proposal));
        let (commit, _) = alice.commit(&[], &[], true);
        mk_process(&mut bob, &commit);
        assert_agree(&bob, &alice);

        // meetkey: resumption PSK of epoch 3, by value.
        let psk = Proposal::resumption_psk(CipherSuite(suite), b"resumption", 3, &mut r).unwrap();
        let out = bob
            .commit(vec![psk], &CommitOptions::at(now()), &mut r)
            .unwrap();
        bob.merge_pending_commit().unwrap();
        alice.process(&encode_mk(&out.commit));
        assert_agree(&bob, &alice);
        assert_eq!(bob.epoch(), 5);
    }
}

/// A ReInit (RFC 9420 §12.1.5) committed by meetkey is processed by OpenMLS, and both agree
/// on the final epoch of the old group. (OpenMLS has no public API to propose a ReInit, so
/// only this direction.)
#[test]
fn reinit_commit_from_meetkey() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(560 + u64::from(suite));
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"old group",
            vec![],
            &mut r,
        )
        .unwrap();
        let mut bob = OmClient::new("bob", suite, hs);
        let (_, welcome) = mk_commit(&mut alice, &[bob.key_package()], &[], true, &mut r);
        bob.join_welcome(&welcome.unwrap());
        let reinit = Proposal::reinit(b"new group", CipherSuite(suite), vec![]);
        let out = alice
            .commit(vec![reinit], &CommitOptions::at(now()), &mut r)
            .unwrap();
        alice.merge_pending_commit().unwrap();
        assert_eq!(bob.process(&encode_mk(&out.commit)), None);
        assert_agree(&alice, &bob);
    }
}

// ---- Tree out of band, authenticated data, out-of-order messages -------------------------

/// Welcomes and GroupInfos without the `ratchet_tree` extension: the tree is exported by
/// one library, encoded, and given to the other's join out of band. Application messages
/// carry `authenticated_data` and arrive out of order.
#[test]
fn tree_out_of_band_aad_and_out_of_order_messages() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(600 + u64::from(suite));
        let no_tree = GroupConfig {
            ratchet_tree_extension: false,
            ..hs.mk_config()
        };

        // OpenMLS group without the extension; meetkey joins with OpenMLS's exported tree.
        let mut alice = OmClient::new("alice", suite, hs);
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"no tree"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(false)
            .with_wire_format_policy(hs.om_policy())
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);
        let bob_bundle = mk_bundle(suite, "bob", &mut r);
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let tree_bytes = alice
            .group
            .as_ref()
            .unwrap()
            .export_ratchet_tree()
            .tls_serialize_detached()
            .unwrap();
        let tree = meetkey::mls::RatchetTree::from_bytes(&tree_bytes).unwrap();
        assert_eq!(tree.to_bytes().unwrap(), tree_bytes);
        let w = Welcome::try_from(decode_mk(&welcome.unwrap())).expect("a Welcome");
        assert!(
            Group::join_welcome(
                no_tree.clone(),
                &w,
                mk_bundle(suite, "x", &mut r),
                None,
                vec![]
            )
            .is_err_and(|e| e
                == meetkey::Error::PeerMisbehaved(
                    meetkey::error::PeerMisbehaved::NoGroupSecretsForUs
                ))
        );
        let mut bob =
            Group::join_welcome(no_tree.clone(), &w, bob_bundle, Some(&tree), vec![]).unwrap();
        assert_agree(&bob, &alice);

        // meetkey adds OpenMLS's Carol without the extension; Carol gets meetkey's tree.
        let mut carol = OmClient::new("carol", suite, hs);
        let (commit, welcome) = mk_commit(&mut bob, &[carol.key_package()], &[], true, &mut r);
        alice.process(&commit);
        let tree = om::RatchetTreeIn::tls_deserialize_exact(bob.ratchet_tree().to_bytes().unwrap())
            .unwrap();
        let om::MlsMessageBodyIn::Welcome(w) = decode_om(&welcome.unwrap()).extract() else {
            panic!("not a Welcome")
        };
        let join_config = om::MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(false)
            .wire_format_policy(hs.om_policy())
            .build();
        let staged =
            om::StagedWelcome::new_from_welcome(&carol.provider, &join_config, w, Some(tree))
                .unwrap();
        carol.group = Some(staged.into_group(&carol.provider).unwrap());
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);

        // External joins from GroupInfos without the tree, the tree given out of band.
        let gi = bob.group_info(false).unwrap();
        // No ratchet_tree extension: shorter than the GroupInfo with it by the whole tree.
        let tree_len = bob.ratchet_tree().to_bytes().unwrap().len();
        let with_tree = bob.group_info(true).unwrap().to_bytes().unwrap().len();
        assert!(gi.to_bytes().unwrap().len() + tree_len <= with_tree);
        let mut dave = OmClient::new("dave", suite, hs);
        let om::MlsMessageBodyIn::GroupInfo(vgi) = decode_om(&encode_mk(&gi)).extract() else {
            panic!("not a GroupInfo")
        };
        let tree = om::RatchetTreeIn::tls_deserialize_exact(bob.ratchet_tree().to_bytes().unwrap())
            .unwrap();
        let (group, bundle) = om::MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_config(hs.om_join_config())
            .build_group(&dave.provider, vgi, dave.credential.clone())
            .unwrap()
            .load_psks(dave.provider.storage())
            .unwrap()
            .build(
                dave.provider.rand(),
                dave.provider.crypto(),
                &dave.signer,
                |_| true,
            )
            .unwrap()
            .finalize(&dave.provider)
            .unwrap();
        dave.group = Some(group);
        let commit = encode_om(&bundle.into_messages().0);
        mk_process(&mut bob, &commit);
        alice.process(&commit);
        carol.process(&commit);
        assert_agree(&bob, &dave);
        assert_agree(&bob, &alice);

        let gi = alice
            .group
            .as_ref()
            .unwrap()
            .export_group_info(alice.provider.crypto(), &alice.signer, false)
            .unwrap();
        let info = GroupInfo::try_from(decode_mk(&encode_om(&gi))).expect("a GroupInfo");
        let tree_bytes = alice
            .group
            .as_ref()
            .unwrap()
            .export_ratchet_tree()
            .tls_serialize_detached()
            .unwrap();
        let tree = meetkey::mls::RatchetTree::from_bytes(&tree_bytes).unwrap();
        let (mut erin, commit) = Group::join_external(
            no_tree,
            &info,
            mk_bundle(suite, "erin", &mut r),
            Some(&tree),
            &mut r,
        )
        .unwrap();
        let commit = encode_mk(&commit);
        mk_process(&mut bob, &commit);
        for o in [&mut alice, &mut carol, &mut dave] {
            o.process(&commit);
        }
        assert_agree(&erin, &alice);
        assert_agree(&bob, &dave);

        // authenticated_data both ways.
        let (provider, signer) = (&alice.provider, &alice.signer);
        let g = alice.group.as_mut().unwrap();
        g.set_aad(b"om aad".to_vec());
        let m = encode_om(&g.create_message(provider, signer, b"with aad").unwrap());
        match erin.process_message(&decode_mk(&m)).unwrap() {
            ProcessedMessage::Application {
                data,
                authenticated_data,
                ..
            } => {
                assert_eq!(data, b"with aad");
                assert_eq!(authenticated_data, b"om aad");
            }
            other => panic!("{other:?}"),
        }
        let m = encode_mk(
            &erin
                .encrypt_application(b"with aad", b"mk aad", &mut r)
                .unwrap(),
        );
        let message = decode_om(&m).try_into_protocol_message().unwrap();
        let processed = carol
            .group
            .as_mut()
            .unwrap()
            .process_message(&carol.provider, message)
            .unwrap();
        assert_eq!(processed.aad(), b"mk aad");

        // Out of order within an epoch, both ways: 3, 1, 2.
        let from_om: Vec<Vec<u8>> = (0..3).map(|i| dave.send(&[i])).collect();
        let from_mk: Vec<Vec<u8>> = (0..3u8)
            .map(|i| encode_mk(&bob.encrypt_application(&[i], b"", &mut r).unwrap()))
            .collect();
        for i in [2usize, 0, 1] {
            assert_eq!(
                mk_process(&mut erin, &from_om[i]),
                Some(vec![u8::try_from(i).unwrap()])
            );
            assert_eq!(
                carol.process(&from_mk[i]),
                Some(vec![u8::try_from(i).unwrap()])
            );
        }
    }
}

// ---- Default extensions in leaves ---------------------------------------------------------

/// A meetkey KeyPackage whose leaf carries an `application_id` extension, not listed in its
/// capabilities (RFC 9420 §7.2: default types MUST NOT be listed); re-signed after the change.
fn mk_bundle_with_application_id(
    suite: u16,
    name: &str,
    seed: u64,
    r: &mut Rng,
) -> KeyPackageBundle {
    KeyPackageBundle::new(
        CipherSuite(suite),
        Credential::Basic {
            identity: name.as_bytes().to_vec(),
        },
        SignaturePrivateKey::generate(&mut rng(seed)),
        Lifetime::starting_at(now(), KP_LIFETIME),
        &[],
        r,
    )
    .unwrap()
    .with_leaf(&[], vec![mk_application_id()])
    .unwrap()
}

/// An `application_id` leaf extension (RFC 9420 §5.3.3): the opaque id "phone".
fn mk_application_id() -> meetkey::mls::Extension {
    meetkey::mls::Extension {
        extension_type: meetkey::mls::ExtensionType::APPLICATION_ID,
        extension_data: vec![5, b'p', b'h', b'o', b'n', b'e'],
    }
}

/// Leaves with an `application_id` extension (a default type, not listed in capabilities)
/// from each side are added by the other, and a group whose `required_capabilities` names
/// default types admits both. meetkey refused the OpenMLS KeyPackage before the fix of
/// `validate_leaf_node` (see CHANGELOG).
#[test]
fn application_id_leaves_and_required_default_types() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(700 + u64::from(suite));

        // OpenMLS group requiring default extension types (application_id, external_senders).
        let mut alice = OmClient::new("alice", suite, hs);
        let required = om::Extensions::single(om::Extension::RequiredCapabilities(
            om::RequiredCapabilitiesExtension::new(
                &[
                    om::ExtensionType::ApplicationId,
                    om::ExtensionType::ExternalSenders,
                ],
                &[],
                &[],
            ),
        ))
        .unwrap();
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"application ids"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(hs.om_policy())
            .with_group_context_extensions(required)
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);

        // meetkey's leaf with application_id, added by OpenMLS.
        let bob_bundle = mk_bundle_with_application_id(suite, "bob", 701, &mut r);
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
        assert_agree(&bob, &alice);

        // OpenMLS's leaf with application_id, added by meetkey.
        let mut carol = OmClient::new("carol", suite, hs);
        let kp = om::KeyPackage::builder()
            .leaf_node_extensions(
                om::Extensions::single(om::Extension::ApplicationId(
                    om::ApplicationIdExtension::new(b"carol's phone"),
                ))
                .unwrap(),
            )
            .build(
                carol.suite,
                &carol.provider,
                &carol.signer,
                carol.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        let (commit, welcome) = mk_commit(&mut bob, &[kp], &[], true, &mut r);
        alice.process(&commit);
        carol.join_welcome(&welcome.unwrap());
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);

        // A meetkey member joining later validates both leaves in the tree.
        let (mut dave, commit) = mk_join_external(
            hs.mk_config(),
            &carol.group_info(),
            mk_bundle(suite, "dave", &mut r),
            &mut r,
        );
        mk_process(&mut bob, &commit);
        alice.process(&commit);
        carol.process(&commit);
        assert_agree(&dave, &carol);
        let (commit, _) = carol.commit(&[], &[], true);
        for g in [&mut bob, &mut dave] {
            mk_process(g, &commit);
        }
        alice.process(&commit);
        assert_agree(&dave, &alice);
        assert_agree(&bob, &carol);
    }
}

// ---- External proposals -------------------------------------------------------------------

/// An OpenMLS client asks to join a meetkey-created group with an external Add proposal
/// (sender `new_member_proposal`, RFC 9420 §12.1.8 / §6); meetkey and OpenMLS members
/// store it, meetkey commits it by reference, the joiner enters from the Welcome.
#[test]
fn new_member_proposal_from_openmls() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(800 + u64::from(suite));
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"open meeting",
            vec![],
            &mut r,
        )
        .unwrap();
        let mut bob = OmClient::new("bob", suite, hs);
        let (_, welcome) = mk_commit(&mut alice, &[bob.key_package()], &[], true, &mut r);
        bob.join_welcome(&welcome.unwrap());

        let mut carol = OmClient::new("carol", suite, hs);
        let om::MlsMessageBodyIn::KeyPackage(kp) = decode_om(&carol.key_package()).extract() else {
            panic!("not a KeyPackage")
        };
        let kp = kp
            .validate(carol.provider.crypto(), om::ProtocolVersion::Mls10)
            .unwrap();
        let proposal = om::JoinProposal::new::<openmls_rust_crypto::MemoryStorage>(
            kp,
            om::GroupId::from_slice(alice.group_id()),
            bob.group.as_ref().unwrap().epoch(),
            &carol.signer,
        )
        .unwrap();
        let proposal = encode_om(&proposal);
        match alice.process_message(&decode_mk(&proposal)).unwrap() {
            ProcessedMessage::Proposal {
                sender, reference, ..
            } => {
                assert_eq!(sender, meetkey::mls::Sender::NewMemberProposal);
                // A join request is committed only once the application admits it.
                alice.admit_proposal(&reference).unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(bob.process(&proposal), None);
        let (commit, welcome) = mk_commit(&mut alice, &[], &[], false, &mut r);
        bob.process(&commit);
        carol.join_welcome(&welcome.unwrap());
        assert_agree(&alice, &bob);
        assert_agree(&alice, &carol);
        assert_eq!(alice.member_count(), 3);
        let m = carol.send(b"thanks for letting me in");
        assert_eq!(
            mk_process(&mut alice, &m).as_deref(),
            Some(&b"thanks for letting me in"[..])
        );

        // Another join request, this time committed by OpenMLS; meetkey resolves the
        // reference to the new member's proposal.
        let mut dave = OmClient::new("dave", suite, hs);
        let om::MlsMessageBodyIn::KeyPackage(kp) = decode_om(&dave.key_package()).extract() else {
            panic!("not a KeyPackage")
        };
        let kp = kp
            .validate(dave.provider.crypto(), om::ProtocolVersion::Mls10)
            .unwrap();
        let proposal = encode_om(
            &om::JoinProposal::new::<openmls_rust_crypto::MemoryStorage>(
                kp,
                om::GroupId::from_slice(alice.group_id()),
                bob.group.as_ref().unwrap().epoch(),
                &dave.signer,
            )
            .unwrap(),
        );
        assert_eq!(mk_process(&mut alice, &proposal), None);
        bob.process(&proposal);
        carol.process(&proposal);
        let (commit, welcome) = bob.commit(&[], &[], false);
        match alice.process_message(&decode_mk(&commit)).unwrap() {
            ProcessedMessage::Commit(staged) => {
                assert_eq!(staged.added().len(), 1);
                alice.merge_staged_commit(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
        carol.process(&commit);
        dave.join_welcome(&welcome.unwrap());
        assert_agree(&alice, &dave);
        assert_agree(&alice, &carol);
    }
}

/// Proposals from external senders (RFC 9420 §12.1.8) both ways. A meetkey group lists
/// two external senders: a meetkey `ExternalProposer` (index 0) and an OpenMLS signature
/// key (index 1). The meetkey sender's Remove is stored by every member and committed by
/// reference by OpenMLS; the OpenMLS sender's Remove (`ExternalProposal::new_remove`) is
/// stored by every member and committed by reference by meetkey. All agree after each.
#[test]
fn external_remove_proposals_both_ways() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(950 + u64::from(suite));
        let mk_server =
            ExternalProposer::new(CipherSuite(suite), SignaturePrivateKey::generate(&mut r), 0)
                .unwrap();
        let om_server = SignatureKeyPair::new(om_suite(suite).signature_algorithm()).unwrap();
        let senders = ExternalSender::extension(&[
            mk_server.external_sender(Credential::Basic {
                identity: b"meetkey server".to_vec(),
            }),
            ExternalSender {
                signature_key: om_server.public().to_vec(),
                credential: Credential::Basic {
                    identity: b"openmls server".to_vec(),
                },
            },
        ])
        .unwrap();
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"served meeting",
            vec![senders],
            &mut r,
        )
        .unwrap();
        let (mut bob, mut dave) = (
            OmClient::new("bob", suite, hs),
            OmClient::new("dave", suite, hs),
        );
        let carol_bundle = mk_bundle(suite, "carol", &mut r);
        let (_, welcome) = mk_commit(
            &mut alice,
            &[
                bob.key_package(),
                mk_key_package_bytes(&carol_bundle),
                dave.key_package(),
            ],
            &[],
            true,
            &mut r,
        );
        let welcome = welcome.unwrap();
        bob.join_welcome(&welcome);
        dave.join_welcome(&welcome);
        let mut carol = mk_join_welcome(hs.mk_config(), &welcome, carol_bundle);
        assert_eq!((bob.leaf(), dave.leaf(), carol.own_leaf().0), (1, 3, 2));
        assert_agree(&alice, &bob);
        assert_agree(&carol, &dave);

        // meetkey's external sender removes Carol; OpenMLS (Bob) commits by reference.
        let proposal = encode_mk(
            &mk_server
                .propose(
                    alice.group_id(),
                    alice.epoch(),
                    Proposal::remove(LeafIndex(2)),
                    b"",
                )
                .unwrap(),
        );
        for g in [&mut alice, &mut carol] {
            match g.process_message(&decode_mk(&proposal)).unwrap() {
                ProcessedMessage::Proposal { sender, .. } => {
                    assert_eq!(sender, meetkey::mls::Sender::External(0));
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(dave.process(&proposal), None);
        assert_eq!(bob.process(&proposal), None);
        let (commit, _) = bob.commit(&[], &[], false);
        match alice.process_message(&decode_mk(&commit)).unwrap() {
            ProcessedMessage::Commit(staged) => {
                assert_eq!(staged.removed(), &[LeafIndex(2)]);
                alice.merge_staged_commit(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
        mk_process(&mut carol, &commit);
        assert!(!carol.is_active());
        dave.process(&commit);
        assert_agree(&alice, &bob);
        assert_agree(&alice, &dave);

        // OpenMLS's external sender removes Dave; meetkey (Alice) commits by reference.
        let proposal = encode_om(
            &om::ExternalProposal::new_remove::<OpenMlsRustCrypto>(
                om::LeafNodeIndex::new(3),
                om::GroupId::from_slice(alice.group_id()),
                bob.group.as_ref().unwrap().epoch(),
                &om_server,
                om::SenderExtensionIndex::new(1),
            )
            .unwrap(),
        );
        match alice.process_message(&decode_mk(&proposal)).unwrap() {
            ProcessedMessage::Proposal {
                sender, reference, ..
            } => {
                assert_eq!(sender, meetkey::mls::Sender::External(1));
                // The server's proposal is committed only once the application admits it.
                alice.admit_proposal(&reference).unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(bob.process(&proposal), None);
        assert_eq!(dave.process(&proposal), None);
        let (commit, _) = mk_commit(&mut alice, &[], &[], false, &mut r);
        bob.process(&commit);
        dave.process(&commit);
        assert!(!dave.is_active());
        assert_agree(&alice, &bob);
        assert_eq!(alice.member_count(), 2);
        let m = bob.send(b"just us");
        assert_eq!(mk_process(&mut alice, &m).as_deref(), Some(&b"just us"[..]));
    }
}

/// meetkey joins an OpenMLS group whose GroupContext names an external sender
/// (`external_senders`, RFC 9420 §12.1.8.1), and adds an OpenMLS KeyPackage carrying the
/// `last_resort` KeyPackage extension (unknown to RFC 9420: ignored, but it must be listed
/// in the leaf's capabilities, §10). OpenMLS's `mark_as_last_resort` alone does not list
/// it: both libraries refuse that KeyPackage (meetkey added it before its §10 check; the
/// two then disagreed on the membership). Proposals *from* the external sender are not
/// exchanged here.
#[test]
fn external_senders_context_and_last_resort_key_package() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(900 + u64::from(suite));
        let server = SignatureKeyPair::new(om_suite(suite).signature_algorithm()).unwrap();
        let senders = om::Extensions::single(om::Extension::ExternalSenders(vec![
            om::ExternalSender::new(
                server.public().into(),
                om::BasicCredential::new(b"server".to_vec()).into(),
            ),
        ]))
        .unwrap();
        let mut alice = OmClient::new("alice", suite, hs);
        let group = om::MlsGroup::builder()
            .with_group_id(om::GroupId::from_slice(b"external senders"))
            .ciphersuite(alice.suite)
            .use_ratchet_tree_extension(true)
            .with_wire_format_policy(hs.om_policy())
            .with_group_context_extensions(senders)
            .build(&alice.provider, &alice.signer, alice.credential.clone())
            .unwrap();
        alice.group = Some(group);
        let bob_bundle = mk_bundle(suite, "bob", &mut r);
        let (_, welcome) = alice.commit(&[mk_key_package_bytes(&bob_bundle)], &[], true);
        let mut bob = mk_join_welcome(hs.mk_config(), &welcome.unwrap(), bob_bundle);
        assert_agree(&bob, &alice);

        // Not listed: refused by meetkey (and by OpenMLS, which would process the commit).
        let mallory = OmClient::new("mallory", suite, hs);
        let kp = om::KeyPackage::builder()
            .mark_as_last_resort()
            .build(
                mallory.suite,
                &mallory.provider,
                &mallory.signer,
                mallory.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        assert_eq!(
            bob.commit(vec![mk_add(&kp)], &CommitOptions::at(now()), &mut r)
                .map(|_| ()),
            Err(meetkey::Error::PeerMisbehaved(
                meetkey::error::PeerMisbehaved::UnsupportedCapability
            ))
        );
        let om::MlsMessageBodyIn::KeyPackage(kp) = decode_om(&kp).extract() else {
            panic!("not a KeyPackage")
        };
        assert!(kp
            .validate(alice.provider.crypto(), om::ProtocolVersion::Mls10)
            .is_err_and(|e| format!("{e:?}").contains("UnsupportedExtension")));

        // Listed: accepted by both.
        let mut carol = OmClient::new("carol", suite, hs);
        let kp = om::KeyPackage::builder()
            .mark_as_last_resort()
            .leaf_node_capabilities(
                om::Capabilities::builder()
                    .extensions(vec![om::ExtensionType::LastResort])
                    .build(),
            )
            .build(
                carol.suite,
                &carol.provider,
                &carol.signer,
                carol.credential.clone(),
            )
            .unwrap();
        let kp = encode_om(&om::MlsMessageOut::from(kp.key_package().clone()));
        let (commit, welcome) = mk_commit(&mut bob, &[kp], &[], true, &mut r);
        alice.process(&commit);
        carol.join_welcome(&welcome.unwrap());
        assert_agree(&bob, &alice);
        assert_agree(&bob, &carol);
    }
}

// ---- Scenario 4 ----------------------------------------------------------------------------

/// A member of the mixed group.
enum Member {
    Mk(Box<Group>),
    Om(Box<OmClient>),
}

impl Member {
    fn leaf(&self) -> u32 {
        match self {
            Self::Mk(g) => g.own_leaf().0,
            Self::Om(o) => o.leaf(),
        }
    }

    fn is_mk(&self) -> bool {
        matches!(self, Self::Mk(_))
    }

    fn is_active(&self) -> bool {
        match self {
            Self::Mk(g) => g.is_active(),
            Self::Om(o) => o.is_active(),
        }
    }

    fn commit(
        &mut self,
        adds: &[Vec<u8>],
        removes: &[u32],
        path: bool,
        r: &mut Rng,
    ) -> (Vec<u8>, Option<Vec<u8>>) {
        match self {
            Self::Mk(g) => mk_commit(g, adds, removes, path, r),
            Self::Om(o) => o.commit(adds, removes, path),
        }
    }

    fn process(&mut self, bytes: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Mk(g) => mk_process(g, bytes),
            Self::Om(o) => o.process(bytes),
        }
    }

    fn send(&mut self, data: &[u8], r: &mut Rng) -> Vec<u8> {
        match self {
            Self::Mk(g) => encode_mk(&g.encrypt_application(data, b"", r).unwrap()),
            Self::Om(o) => o.send(data),
        }
    }

    fn group_info(&self) -> Vec<u8> {
        match self {
            Self::Mk(g) => encode_mk(&g.group_info(true).unwrap()),
            Self::Om(o) => o.group_info(),
        }
    }

    fn propose_update(&mut self, r: &mut Rng) -> Vec<u8> {
        match self {
            Self::Mk(g) => encode_mk(&g.propose_update(r).unwrap()),
            Self::Om(o) => {
                let (provider, signer) = (&o.provider, &o.signer);
                let (m, _) = o
                    .group
                    .as_mut()
                    .unwrap()
                    .propose_self_update(provider, signer, om::LeafNodeParameters::default())
                    .unwrap();
                encode_om(&m)
            }
        }
    }

    fn propose_remove(&mut self, leaf: u32, r: &mut Rng) -> Vec<u8> {
        match self {
            Self::Mk(g) => encode_mk(&g.propose(Proposal::remove(LeafIndex(leaf)), r).unwrap()),
            Self::Om(o) => {
                let (provider, signer) = (&o.provider, &o.signer);
                let (m, _) = o
                    .group
                    .as_mut()
                    .unwrap()
                    .propose_remove_member(provider, signer, om::LeafNodeIndex::new(leaf))
                    .unwrap();
                encode_om(&m)
            }
        }
    }
}

/// Someone about to join: a meetkey KeyPackage bundle or an OpenMLS client.
enum Joiner {
    Mk(Box<KeyPackageBundle>),
    Om(Box<OmClient>),
}

impl Joiner {
    fn new(suite: u16, hs: Handshake, name: &str, mk: bool, r: &mut Rng) -> Self {
        if mk {
            Self::Mk(Box::new(mk_bundle(suite, name, r)))
        } else {
            Self::Om(Box::new(OmClient::new(name, suite, hs)))
        }
    }

    fn key_package(&self) -> Vec<u8> {
        match self {
            Self::Mk(b) => mk_key_package_bytes(b),
            Self::Om(o) => o.key_package(),
        }
    }

    fn join_welcome(self, hs: Handshake, welcome: &[u8]) -> Member {
        match self {
            Self::Mk(b) => Member::Mk(Box::new(mk_join_welcome(hs.mk_config(), welcome, *b))),
            Self::Om(mut o) => {
                o.join_welcome(welcome);
                Member::Om(o)
            }
        }
    }

    fn join_external(self, hs: Handshake, group_info: &[u8], r: &mut Rng) -> (Member, Vec<u8>) {
        match self {
            Self::Mk(b) => {
                let (g, commit) = mk_join_external(hs.mk_config(), group_info, *b, r);
                (Member::Mk(Box::new(g)), commit)
            }
            Self::Om(mut o) => {
                let commit = o.join_external(group_info);
                (Member::Om(o), commit)
            }
        }
    }
}

/// Every member is in the same epoch with the same authenticator and exporter secret
/// (compared with the first OpenMLS member's, as bytes).
fn assert_all_agree(members: &[Member], epoch: u64) {
    let reference = members
        .iter()
        .find_map(|m| match m {
            Member::Om(o) => Some(o),
            Member::Mk(_) => None,
        })
        .expect("an OpenMLS member");
    let (auth, exporter) = (reference.authenticator(), reference.exporter());
    assert_eq!(reference.epoch(), epoch);
    for m in members {
        match m {
            Member::Mk(g) => {
                assert_eq!(g.epoch(), epoch);
                assert_eq!(
                    g.epoch_authenticator(),
                    auth.as_slice(),
                    "meetkey leaf {} epoch {epoch}",
                    g.own_leaf().0
                );
                assert_eq!(
                    g.export_secret(LABEL.as_bytes(), CONTEXT, 32).unwrap(),
                    Secret::from_slice(&exporter).unwrap()
                );
                assert_eq!(g.member_count(), members.len());
            }
            Member::Om(o) => {
                assert_eq!(o.epoch(), epoch);
                assert_eq!(
                    o.authenticator(),
                    auth,
                    "OpenMLS leaf {} epoch {epoch}",
                    o.leaf()
                );
                assert_eq!(o.exporter(), exporter);
            }
        }
    }
}

/// One random epoch: a random member commits a self-update, adds, a remove, adds and a
/// remove, or Update and Remove proposals sent by other members (by reference), or a new
/// client joins by external commit. Returns what happened.
fn random_epoch(
    members: &mut Vec<Member>,
    suite: u16,
    hs: Handshake,
    next_name: &mut u32,
    r: &mut Rng,
) -> &'static str {
    let mk_count = members.iter().filter(|m| m.is_mk()).count();
    let om_count = members.len() - mk_count;
    let committer = usize::try_from(r.next_u32()).unwrap() % members.len();
    let action = r.next_u32() % 6;
    let mut new_joiner = |r: &mut Rng| {
        *next_name += 1;
        let mk = r.next_u32().is_multiple_of(2);
        Joiner::new(suite, hs, &format!("member-{next_name}"), mk, r)
    };
    // A removable member: not the committer, and at least two of each kind remain.
    let removable: Vec<usize> = (0..members.len())
        .filter(|&i| {
            i != committer
                && if members[i].is_mk() {
                    mk_count > 2
                } else {
                    om_count > 2
                }
        })
        .collect();

    let (label, joiners, removes): (&str, Vec<Joiner>, Vec<usize>) = match action {
        0 => ("update", vec![], vec![]),
        1 => {
            let n = 1 + r.next_u32() % 2;
            let joiners = (0..n).map(|_| new_joiner(r)).collect();
            ("add", joiners, vec![])
        }
        2 | 3 if !removable.is_empty() => {
            let victim = removable[usize::try_from(r.next_u32()).unwrap() % removable.len()];
            let joiners = if action == 3 {
                vec![new_joiner(r)]
            } else {
                vec![]
            };
            (
                if action == 3 { "add+remove" } else { "remove" },
                joiners,
                vec![victim],
            )
        }
        2 | 3 => ("update", vec![], vec![]),
        5 => {
            // Another member proposes an Update, a third (if any) a Remove; every other
            // member stores them; the committer commits them by reference.
            let others: Vec<usize> = (0..members.len()).filter(|&i| i != committer).collect();
            let updater = others[usize::try_from(r.next_u32()).unwrap() % others.len()];
            let proposal = members[updater].propose_update(r);
            for (i, m) in members.iter_mut().enumerate() {
                if i != updater {
                    assert_eq!(m.process(&proposal), None);
                }
            }
            let victims: Vec<usize> = removable
                .iter()
                .copied()
                .filter(|&i| i != updater)
                .collect();
            let removes = if victims.is_empty() {
                vec![]
            } else {
                let victim = victims[usize::try_from(r.next_u32()).unwrap() % victims.len()];
                let proposer = others[usize::try_from(r.next_u32()).unwrap() % others.len()];
                let leaf = members[victim].leaf();
                let proposal = members[proposer].propose_remove(leaf, r);
                for (i, m) in members.iter_mut().enumerate() {
                    if i != proposer {
                        assert_eq!(m.process(&proposal), None);
                    }
                }
                vec![victim]
            };
            let (commit, _) = members[committer].commit(&[], &[], true, r);
            return finish_commit(members, committer, &commit, &removes, "proposals");
        }
        _ => {
            // External join from the committer's GroupInfo.
            let joiner = new_joiner(r);
            let group_info = members[committer].group_info();
            let (member, commit) = joiner.join_external(hs, &group_info, r);
            for m in members.iter_mut() {
                assert_eq!(m.process(&commit), None);
            }
            members.push(member);
            return "external join";
        }
    };

    let key_packages: Vec<Vec<u8>> = joiners.iter().map(Joiner::key_package).collect();
    let remove_leaves: Vec<u32> = removes.iter().map(|&i| members[i].leaf()).collect();
    let path = !removes.is_empty() || r.next_u32().is_multiple_of(2) || label == "update";
    let (commit, welcome) = members[committer].commit(&key_packages, &remove_leaves, path, r);
    finish_commit(members, committer, &commit, &removes, label);
    if let Some(welcome) = welcome {
        for j in joiners {
            members.push(j.join_welcome(hs, &welcome));
        }
    } else {
        assert!(joiners.is_empty());
    }
    label
}

/// Delivers `commit` to every member but the committer; the `removed` ones must be inactive
/// after it and leave the list.
fn finish_commit(
    members: &mut Vec<Member>,
    committer: usize,
    commit: &[u8],
    removed: &[usize],
    label: &'static str,
) -> &'static str {
    for (i, m) in members.iter_mut().enumerate() {
        if i != committer {
            assert_eq!(m.process(commit), None);
        }
    }
    for &i in removed {
        assert!(!members[i].is_active(), "removed member still active");
    }
    let mut i = 0;
    members.retain(|_| {
        i += 1;
        !removed.contains(&(i - 1))
    });
    label
}

/// A mixed group of 6 (3 meetkey, 3 OpenMLS), then 20 seeded random epochs; every member
/// agrees on every epoch and an application message from a random member reaches all.
#[test]
fn mixed_group_random_epochs() {
    for suite in SUITES {
        for (hs, seed) in [(Handshake::Public, 7u64), (Handshake::Private, 8)] {
            let mut r = rng(seed * 10 + u64::from(suite));
            let mut stats = std::collections::BTreeMap::<&str, usize>::new();
            // The creator alternates by suite: OpenMLS for 0x0001, meetkey for 0x0003.
            let mut members: Vec<Member> = Vec::new();
            let first = if suite == 1 {
                let mut o = OmClient::new("member-0", suite, hs);
                o.create(b"mixed group");
                Member::Om(Box::new(o))
            } else {
                Member::Mk(Box::new(
                    Group::create(
                        hs.mk_config(),
                        mk_bundle(suite, "member-0", &mut r),
                        b"mixed group",
                        vec![],
                        &mut r,
                    )
                    .unwrap(),
                ))
            };
            let first_is_mk = first.is_mk();
            members.push(first);
            let joiners: Vec<Joiner> = (1..6)
                .map(|i| {
                    let mk = (i % 2 == 0) == first_is_mk;
                    Joiner::new(suite, hs, &format!("member-{i}"), mk, &mut r)
                })
                .collect();
            let kps: Vec<Vec<u8>> = joiners.iter().map(Joiner::key_package).collect();
            let (_, welcome) = members[0].commit(&kps, &[], true, &mut r);
            let welcome = welcome.unwrap();
            for j in joiners {
                members.push(j.join_welcome(hs, &welcome));
            }
            assert_eq!(members.iter().filter(|m| m.is_mk()).count(), 3);
            assert_all_agree(&members, 1);

            let mut next_name = 5;
            for epoch in 2..22u64 {
                let what = random_epoch(&mut members, suite, hs, &mut next_name, &mut r);
                *stats.entry(what).or_default() += 1;
                assert_all_agree(&members, epoch);
                let sender = usize::try_from(r.next_u32()).unwrap() % members.len();
                let data = format!("epoch {epoch} from leaf {}", members[sender].leaf());
                let m = members[sender].send(data.as_bytes(), &mut r);
                for (i, member) in members.iter_mut().enumerate() {
                    if i != sender {
                        assert_eq!(member.process(&m).as_deref(), Some(data.as_bytes()));
                    }
                }
            }
            let mk = members.iter().filter(|m| m.is_mk()).count();
            println!(
                "suite {suite:#06x} {hs:?} handshake: 20 epochs {stats:?}; final group {} members ({mk} meetkey)",
                members.len()
            );
        }
    }
}

/// Issue 13: meetkey never sends a commit OpenMLS would refuse. A KeyPackage whose lifetime
/// ended yesterday: meetkey's committer, at the real time, refuses to add it (RFC 9420 §7.3,
/// sender side) and sends nothing. The same commit made by a committer whose clock is a day
/// behind (so meetkey's check passes) is refused by the OpenMLS member — the mixed group
/// would have split, which is why the sender must check.
#[test]
fn meetkey_refuses_to_send_an_add_openmls_would_refuse() {
    for suite in SUITES {
        let hs = Handshake::Public;
        let mut r = rng(900 + u64::from(suite));
        let mut alice = Group::create(
            hs.mk_config(),
            mk_bundle(suite, "alice", &mut r),
            b"expired key package",
            vec![],
            &mut r,
        )
        .unwrap();
        let mut bob = OmClient::new("bob", suite, hs);
        let (_, welcome) = mk_commit(&mut alice, &[bob.key_package()], &[], true, &mut r);
        bob.join_welcome(&welcome.unwrap());

        let yesterday = now() - 86_400;
        let expired = KeyPackageBundle::new(
            CipherSuite(suite),
            Credential::Basic {
                identity: b"carol".to_vec(),
            },
            SignaturePrivateKey::generate(&mut r),
            Lifetime {
                not_before: yesterday - 86_400,
                not_after: yesterday,
            },
            &[],
            &mut r,
        )
        .unwrap();
        let add = mk_add(&mk_key_package_bytes(&expired));
        let before = alice.to_bytes().unwrap();
        assert_eq!(
            alice
                .commit(vec![add.clone()], &CommitOptions::at(now()), &mut r)
                .map(|_| ()),
            Err(meetkey::error::ApiMisuse::KeyPackageExpired.into())
        );
        assert!(!alice.has_pending_commit());
        assert!(*before == *alice.to_bytes().unwrap());

        // A meetkey client with a clock a day behind would send it; OpenMLS refuses it.
        let out = alice
            .commit(vec![add], &CommitOptions::at(yesterday - 3600), &mut r)
            .unwrap();
        alice.discard_pending_commit();
        let message = decode_om(&encode_mk(&out.commit))
            .try_into_protocol_message()
            .unwrap();
        let provider = &bob.provider;
        let group = bob.group.as_mut().unwrap();
        assert!(
            group
                .process_message(provider, message)
                .is_err_and(|e| format!("{e:?}").contains("Expired")),
            "OpenMLS accepted an Add of an expired KeyPackage"
        );
    }
}
