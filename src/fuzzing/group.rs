//! MLS state-machine entry points: KeyPackage validation, Welcome and external joins, and
//! commit processing, each on state rebuilt from a constant seed on every call.
//!
//! The keys, groups and messages a harness builds come from [`SeedRng`] streams with fixed
//! labels, so they are the same on every run: a Welcome, GroupInfo or commit that the
//! fixture group produced once (the committed corpus) is genuine again in every later run,
//! and the fuzzer mutates from inputs that reach the end of each state machine.

use crate::codec::{Decode, Encode, Reader};
use crate::crypto::{CipherSuite, Secret, SignaturePrivateKey};
use crate::error::Result;
use crate::mls::group::{
    CommitOptions, ExternalProposer, Group, GroupConfig, KeyPackageBundle, ProcessedMessage,
};
use crate::mls::validate::{validate_key_package, AcceptBasicCredentials, GroupParams};
use crate::mls::welcome::key_package_ref;
use crate::mls::wire::{
    Add, Credential, ExternalSender, GroupContext, GroupInfo, KeyPackage, LeafNodeSource, Lifetime,
    MlsMessage, MlsMessageBody, Proposal, Welcome, MAX_VEC_LEN,
};

use super::rng::SeedRng;

mod commit;
pub use commit::commit_process;
#[cfg(test)]
pub(super) use commit::{commit_outcome, Mode, EXTERNAL_SENDERS_BIT};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

/// Decodes a `T` from the front of `data` and checks that it re-encodes to exactly the
/// bytes it consumed.
///
/// # Panics
/// When it does not: a codec bug.
pub(super) fn decode_round_trip<T: Decode + Encode>(data: &[u8]) -> Option<T> {
    let mut r = Reader::new(data);
    let value = T::decode(&mut r).ok()?;
    let consumed = data.len().saturating_sub(r.remaining().len());
    assert_eq!(
        value.to_bytes().as_deref().ok(),
        data.get(..consumed),
        "{} did not re-encode to its input",
        core::any::type_name::<T>()
    );
    Some(value)
}

/// The suite a harness uses for a decoded suite code point: 3 for 3, otherwise 1.
fn suite_number(id: CipherSuite) -> u16 {
    if id == CipherSuite(3) {
        3
    } else {
        1
    }
}

/// A member's KeyPackage and keys, the same on every call for the same suite and name.
///
/// # Panics
/// If the constant inputs fail to make a bundle: a bug outside any fuzzed input.
pub(super) fn bundle(suite: u16, name: &str) -> KeyPackageBundle {
    let mut label = b"meetkey fuzz bundle ".to_vec();
    label.extend_from_slice(&suite.to_be_bytes());
    label.extend_from_slice(name.as_bytes());
    let mut rng = SeedRng::new(&label);
    let made = CipherSuite(suite).suite().and_then(|s| {
        KeyPackageBundle::with_suite(
            &s,
            Credential::Basic {
                identity: name.as_bytes().to_vec(),
            },
            SignaturePrivateKey::generate(&mut rng),
            Lifetime::starting_at(NOW, KP_LIFETIME),
            &[],
            &mut rng,
        )
    });
    assert!(made.is_ok(), "fixture bundle: {made:?}");
    match made {
        Ok(b) => b,
        Err(_) => unreachable!(),
    }
}

/// The configuration of the fixture group: handshakes as PublicMessage, or PrivateMessage.
pub(super) fn config(encrypt_handshake: bool) -> GroupConfig {
    GroupConfig {
        encrypt_handshake,
        ..GroupConfig::default()
    }
}

/// The fixture: Alice created the group, added Bob and Carol in one commit, and both joined
/// from its Welcome. Alice, Bob and Carol are at leaves 0, 1 and 2 of epoch 1.
pub(super) struct Three {
    pub(super) alice: Group,
    pub(super) bob: Group,
    pub(super) carol: Group,
    /// The Welcome that added Bob and Carol (a corpus seed).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) welcome: Welcome,
    pub(super) rng: SeedRng,
}

impl core::fmt::Debug for Three {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Three")
    }
}

impl Three {
    /// Builds the fixture in `suite`.
    ///
    /// # Panics
    /// If building it fails: the group API is broken for constant, valid input.
    pub(super) fn new(suite: u16, encrypt_handshake: bool) -> Self {
        Self::new_with(suite, encrypt_handshake, false)
    }

    /// Builds the fixture in `suite`, its GroupContext listing [`external_proposer`] in an
    /// `external_senders` extension when `external_senders` (RFC 9420 §12.1.8.1).
    ///
    /// # Panics
    /// If building it fails: the group API is broken for constant, valid input.
    pub(super) fn new_with(suite: u16, encrypt_handshake: bool, external_senders: bool) -> Self {
        let built = Self::build(suite, encrypt_handshake, external_senders);
        assert!(built.is_ok(), "fixture group: {built:?}");
        match built {
            Ok(t) => t,
            Err(_) => unreachable!(),
        }
    }

    fn build(suite: u16, encrypt_handshake: bool, external_senders: bool) -> Result<Self> {
        let mut label = b"meetkey fuzz group ".to_vec();
        label.extend_from_slice(&suite.to_be_bytes());
        label.push(u8::from(encrypt_handshake));
        let mut extensions = Vec::new();
        if external_senders {
            // A label of its own: the fixture without the extension stays as it was.
            label.extend_from_slice(b" external senders");
            let server = external_proposer(suite)?.external_sender(Credential::Basic {
                identity: b"server".to_vec(),
            });
            extensions.push(ExternalSender::extension(&[server])?);
        }
        let mut rng = SeedRng::new(&label);
        let mut alice = Group::create(
            config(encrypt_handshake),
            bundle(suite, "alice"),
            b"fuzz meeting",
            extensions,
            &mut rng,
        )?;
        let (b, c) = (bundle(suite, "bob"), bundle(suite, "carol"));
        let out = alice.commit(
            vec![
                crate::mls::Proposal(add(b.key_package.clone())),
                crate::mls::Proposal(add(c.key_package.clone())),
            ],
            &CommitOptions::at(NOW),
            &mut rng,
        )?;
        alice.merge_pending_commit()?;
        let Some(MlsMessage {
            body: MlsMessageBody::Welcome(welcome),
            ..
        }) = out.welcome
        else {
            return Err(crate::Error::Internal("the fixture commit made no Welcome"));
        };
        let bob = Group::join_welcome(config(encrypt_handshake), &welcome, b, None, vec![])?;
        let carol = Group::join_welcome(config(encrypt_handshake), &welcome, c, None, vec![])?;
        Ok(Self {
            alice,
            bob,
            carol,
            welcome,
            rng,
        })
    }

    fn members(&mut self) -> [&mut Group; 3] {
        [&mut self.alice, &mut self.bob, &mut self.carol]
    }
}

/// The external sender (index 0) of fixtures built with `external_senders`, the same on
/// every call for the same suite.
///
/// # Errors
/// For a suite meetkey does not implement.
pub(super) fn external_proposer(suite: u16) -> Result<ExternalProposer> {
    let mut rng = SeedRng::new(b"meetkey fuzz external sender");
    ExternalProposer::new(
        CipherSuite(suite),
        SignaturePrivateKey::generate(&mut rng),
        0,
    )
}

/// An Add proposal by value.
pub(super) fn add(key_package: KeyPackage) -> Proposal {
    Proposal::Add(Box::new(Add { key_package }))
}

/// What must not change when a group rejects input.
#[derive(Debug, PartialEq)]
struct Snapshot {
    epoch: u64,
    tree_hash: Vec<u8>,
    context: GroupContext,
    members: usize,
    active: bool,
    pending: bool,
    exported: Option<Secret>,
}

fn snapshot(g: &Group) -> Snapshot {
    Snapshot {
        epoch: g.epoch(),
        tree_hash: g.tree_hash(),
        context: g.context().clone(),
        members: g.member_count(),
        active: g.is_active(),
        pending: g.has_pending_commit(),
        exported: g.export_secret(b"fuzz", b"", 32).ok(),
    }
}

/// Members in the same epoch agree on everything the key schedule derives.
///
/// # Panics
/// When they do not.
fn assert_agree(a: &Group, b: &Group) {
    assert_eq!(a.epoch(), b.epoch(), "members disagree on the epoch");
    assert_eq!(a.context(), b.context(), "members disagree on the context");
    assert_eq!(a.tree_hash(), b.tree_hash());
    assert_eq!(a.epoch_authenticator(), b.epoch_authenticator());
    assert_eq!(
        a.export_secret(b"fuzz", b"", 32).ok(),
        b.export_secret(b"fuzz", b"", 32).ok()
    );
}

/// Application data from `from` reaches every other active member in `to`.
///
/// # Panics
/// When it does not.
fn assert_can_talk(from: &mut Group, to: &mut [&mut Group], rng: &mut SeedRng) {
    if !from.is_active() {
        return;
    }
    let msg = from.encrypt_application(b"after", b"", rng);
    assert!(msg.is_ok(), "an active member cannot send: {msg:?}");
    let Ok(msg) = msg else { return };
    for g in to.iter_mut().filter(|g| g.is_active()) {
        let got = g.process_message(&msg);
        assert!(
            matches!(&got, Ok(ProcessedMessage::Application { data, .. }) if data == b"after"),
            "application data after the commit: {got:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// KeyPackage validation
// ---------------------------------------------------------------------------------------

/// Decodes `data` as a KeyPackage (RFC 9420 §10; round trip asserted) and validates it for
/// a group of each suite (§10.1). A KeyPackage that validates must satisfy what validation
/// promises: the group's suite, an init key distinct from the leaf's key, a computable
/// reference, and validity at `not_before` of its own lifetime.
///
/// # Panics
/// When one of those properties fails.
pub fn key_package_validate(data: &[u8]) {
    let _ = key_package_valid_suites(data);
}

/// For how many suites `data` is a valid KeyPackage.
pub(super) fn key_package_valid_suites(data: &[u8]) -> usize {
    let Some(kp) = decode_round_trip::<KeyPackage>(data) else {
        return 0;
    };
    let mut valid = 0;
    for id in [1u16, 3] {
        let Ok(suite) = CipherSuite(id).suite() else {
            continue;
        };
        let params = GroupParams {
            suite: &suite,
            required_extensions: &[],
            required_proposals: &[],
            required_credentials: &[],
            credentials: &AcceptBasicCredentials,
            max_key_package_lifetime: crate::mls::group::Limits::default().max_key_package_lifetime,
        };
        if validate_key_package(&kp, &params, None).is_err() {
            continue;
        }
        valid += 1;
        assert_eq!(kp.cipher_suite, suite.id());
        assert_ne!(kp.init_key, kp.leaf_node.encryption_key);
        assert!(key_package_ref(&suite, &kp).is_ok());
        let LeafNodeSource::KeyPackage(lifetime) = &kp.leaf_node.leaf_node_source else {
            unreachable!("a valid KeyPackage has a key_package leaf");
        };
        let at_start = validate_key_package(&kp, &params, Some(lifetime.not_before));
        assert!(
            at_start.is_ok(),
            "valid without a clock, invalid at not_before: {at_start:?}"
        );
        // §7.2: a valid KeyPackage's total lifetime is within the maximum.
        assert!(lifetime.not_after - lifetime.not_before <= params.max_key_package_lifetime);
    }
    valid
}

// ---------------------------------------------------------------------------------------
// Welcome join
// ---------------------------------------------------------------------------------------

/// Decodes `data` as a Welcome (RFC 9420 §12.4.3.1; round trip asserted) and joins with
/// the fixture's KeyPackage for Bob in the Welcome's suite. A join that succeeds must give
/// a usable member: at the leaf of its KeyPackage, with a tree whose hash is the context's,
/// able to send and to commit.
///
/// # Panics
/// When a joined group breaks one of those properties.
pub fn welcome_join(data: &[u8]) {
    let _ = welcome_joins(data);
}

/// Whether `data` is a Welcome that Bob can join with.
pub(super) fn welcome_joins(data: &[u8]) -> bool {
    let Some(welcome) = decode_round_trip::<Welcome>(data) else {
        return false;
    };
    let suite = suite_number(welcome.cipher_suite);
    let bob = bundle(suite, "bob");
    let leaf = bob.key_package.leaf_node.clone();
    let Ok(mut group) = Group::join_welcome(config(false), &welcome, bob, None, vec![]) else {
        return false;
    };
    assert!(group.is_active());
    assert_eq!(group.tree().leaf(group.own_leaf()), Some(&leaf));
    assert_eq!(group.tree_hash(), group.context().tree_hash);
    assert_eq!(group.suite().id(), welcome.cipher_suite);
    let mut rng = SeedRng::new(b"meetkey fuzz welcome_join");
    let epoch = group.epoch();
    let sent = group.encrypt_application(b"hello", b"", &mut rng);
    assert!(sent.is_ok(), "a joined member cannot send: {sent:?}");
    let committed = group.commit(vec![], &CommitOptions::at(NOW), &mut rng);
    assert!(
        committed.is_ok(),
        "a joined member cannot commit: {committed:?}"
    );
    assert!(group.merge_pending_commit().is_ok());
    assert_eq!(Some(group.epoch()), epoch.checked_add(1));
    true
}

// ---------------------------------------------------------------------------------------
// External join
// ---------------------------------------------------------------------------------------

/// Decodes `data` as a GroupInfo (RFC 9420 §12.4.3.2; round trip asserted) and joins by
/// external commit as Dave. A join that succeeds must give a member one epoch on with a
/// well-formed commit; when the GroupInfo is the fixture group's, every member must accept
/// that commit and agree with Dave.
///
/// # Panics
/// When a join breaks one of those properties.
pub fn external_join(data: &[u8]) {
    let _ = external_joins(data);
}

/// Whether `data` is a GroupInfo Dave can join by external commit.
pub(super) fn external_joins(data: &[u8]) -> bool {
    let Some(group_info) = decode_round_trip::<GroupInfo>(data) else {
        return false;
    };
    let suite = suite_number(group_info.group_context.cipher_suite);
    let mut rng = SeedRng::new(b"meetkey fuzz external_join");
    let Ok((mut dave, commit)) = Group::join_external(
        config(false),
        &group_info,
        bundle(suite, "dave"),
        None,
        &mut rng,
    ) else {
        return false;
    };
    assert_eq!(
        Some(dave.epoch()),
        group_info.group_context.epoch.checked_add(1)
    );
    assert_eq!(dave.tree_hash(), dave.context().tree_hash);
    let bytes = commit.to_bytes();
    assert!(bytes.is_ok(), "an external commit that does not encode");
    if let Ok(bytes) = bytes {
        assert_eq!(MlsMessage::decode_exact(&bytes).as_ref(), Ok(&commit));
    }
    // The members of the group the GroupInfo describes accept the commit.
    let mut fixture = Three::new(suite, false);
    if fixture.alice.context() == &group_info.group_context {
        for g in fixture.members() {
            let got = g.process_message(&commit);
            assert!(
                matches!(got, Ok(ProcessedMessage::Commit(_))),
                "a member rejected a genuine external commit: {got:?}"
            );
            if let Ok(ProcessedMessage::Commit(staged)) = got {
                assert!(g.merge_staged_commit(*staged).is_ok());
            }
            assert_agree(g, &dave);
        }
        let Three { alice, bob, .. } = &mut fixture;
        assert_can_talk(&mut dave, &mut [alice, bob], &mut rng);
    }
    true
}
