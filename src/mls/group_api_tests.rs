//! Scenario tests of the MLS group through the public API: create, add by Welcome, commit
//! with and without paths, update, remove, external join, proposals by reference, PSKs,
//! application messages across epochs, pending commits, and rejected input.
#![warn(clippy::assertions_on_result_states)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::crypto::{CipherSuite, Secret, SignaturePrivateKey};
use crate::error::{ApiMisuse, PeerMisbehaved, Stale};
use crate::mls::group::{CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage};
use crate::mls::wire::{
    Add, Credential, CredentialType, Extension, ExtensionType, Lifetime, MlsMessage,
    MlsMessageBody, PreSharedKey, PreSharedKeyId, Proposal, Psk, Remove,
};
use crate::Error;

use crate::test_support as common;
use common::{assert_agree, bundle, rng, Rng};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
const KP_LIFETIME: u64 = 28 * 24 * 3600;

fn add(b: &KeyPackageBundle) -> Proposal {
    Proposal::Add(Box::new(Add {
        key_package: b.key_package.clone(),
    }))
}

fn welcome_of(m: &MlsMessage) -> &crate::mls::wire::Welcome {
    match &m.body {
        MlsMessageBody::Welcome(w) => w,
        _ => panic!("not a welcome"),
    }
}

/// Delivers `msg` to every group in `others` and merges the commit it carries.
fn deliver_commit(others: &mut [&mut Group], msg: &MlsMessage) {
    for g in others.iter_mut() {
        match g.process_message(msg).unwrap() {
            ProcessedMessage::Commit(staged) => g.merge_staged_commit(*staged).unwrap(),
            other => panic!("expected a commit, got {other:?}"),
        }
    }
}

/// Alice creates a group and adds Bob and Carol by one commit; both join from the Welcome.
fn three(suite: u16, seed: u64) -> (Group, Group, Group, Rng) {
    let mut r = rng(seed);
    let config = GroupConfig::default();
    let mut alice = Group::create(
        config.clone(),
        bundle(suite, "alice", &mut r),
        b"meeting",
        vec![],
        &mut r,
    )
    .unwrap();
    let (b, c) = (bundle(suite, "bob", &mut r), bundle(suite, "carol", &mut r));
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b)), crate::mls::Proposal(add(&c))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let welcome = out.welcome.expect("welcome");
    let bob = Group::join_welcome(config.clone(), welcome_of(&welcome), b, None, vec![]).unwrap();
    let carol = Group::join_welcome(config, welcome_of(&welcome), c, None, vec![]).unwrap();
    (alice, bob, carol, r)
}

#[test]
fn create_add_and_talk_in_both_suites() {
    for suite in [1u16, 3] {
        let (mut alice, mut bob, mut carol, mut r) = three(suite, 1);
        assert_agree(&[&alice, &bob, &carol]);
        assert_eq!(alice.member_count(), 3);
        let msg = alice.encrypt_application(b"hello", b"aad", &mut r).unwrap();
        for g in [&mut bob, &mut carol] {
            match g.process_message(&msg).unwrap() {
                ProcessedMessage::Application {
                    data,
                    authenticated_data,
                    sender,
                    ..
                } => {
                    assert_eq!(data, b"hello");
                    assert_eq!(authenticated_data, b"aad");
                    assert_eq!(sender, alice.own_leaf());
                }
                other => panic!("{other:?}"),
            }
        }
        // A replay is refused.
        assert_eq!(
            bob.process_message(&msg).map(|_| ()),
            Err(Error::Stale(Stale::GenerationConsumed))
        );
    }
}

#[test]
fn self_update_remove_and_late_messages() {
    let (mut alice, mut bob, mut carol, mut r) = three(1, 2);
    // Carol sends in epoch 1; Bob rotates before Alice reads it.
    let late = carol.encrypt_application(b"late", b"", &mut r).unwrap();
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    bob.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut alice, &mut carol], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
    assert_eq!(alice.epoch(), 2);
    match alice.process_message(&late).unwrap() {
        ProcessedMessage::Application { data, epoch, .. } => {
            assert_eq!((data.as_slice(), epoch), (&b"late"[..], 1))
        }
        other => panic!("{other:?}"),
    }
    // Alice removes Carol.
    let carol_leaf = carol.own_leaf().0;
    let out = alice
        .commit(
            vec![crate::mls::Proposal(Proposal::Remove(Remove {
                removed: carol_leaf,
            }))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut bob], &out.commit);
    match carol.process_message(&out.commit).unwrap() {
        ProcessedMessage::Commit(staged) => {
            assert!(staged.removes_us());
            carol.merge_staged_commit(*staged).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert!(!carol.is_active());
    assert_agree(&[&alice, &bob]);
    assert_eq!(alice.member_count(), 2);
    assert_ne!(
        alice.export_secret(b"x", b"", 32).unwrap(),
        Secret::from_slice(&[0; 32]).unwrap()
    );
    assert_eq!(
        carol.encrypt_application(b"x", b"", &mut r).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::NotAMember))
    );
}

#[test]
fn external_join_from_group_info() {
    for suite in [1u16, 3] {
        let (mut alice, mut bob, mut carol, mut r) = three(suite, 3);
        let MlsMessageBody::GroupInfo(gi) = alice.group_info(true).unwrap().body else {
            unreachable!()
        };
        let (mut dave, commit) = Group::join_external(
            GroupConfig::default(),
            &gi,
            bundle(suite, "dave", &mut r),
            None,
            &mut r,
        )
        .unwrap();
        deliver_commit(&mut [&mut alice, &mut bob, &mut carol], &commit);
        assert_agree(&[&alice, &bob, &carol, &dave]);
        assert_eq!(alice.member_count(), 4);
        let msg = dave
            .encrypt_application(b"hi from dave", b"", &mut r)
            .unwrap();
        assert!(matches!(
            alice.process_message(&msg).unwrap(),
            ProcessedMessage::Application { .. }
        ));
        // Dave can rotate like anyone else.
        let out = dave
            .commit(vec![], &CommitOptions::at(NOW), &mut r)
            .unwrap();
        dave.merge_pending_commit().unwrap();
        deliver_commit(&mut [&mut alice, &mut bob, &mut carol], &out.commit);
        assert_agree(&[&alice, &bob, &carol, &dave]);
    }
}

#[test]
fn proposals_by_reference_and_leaving() {
    let (mut alice, mut bob, mut carol, mut r) = three(3, 4);
    let leave = carol.propose_leave(&mut r).unwrap();
    for g in [&mut alice, &mut bob] {
        assert!(matches!(
            g.process_message(&leave).unwrap(),
            ProcessedMessage::Proposal { .. }
        ));
    }
    // Bob must commit before sending application data.
    assert_eq!(
        bob.encrypt_application(b"x", b"", &mut r).map(|_| ()),
        Err(Error::ApiMisuse(ApiMisuse::ProposalsPending))
    );
    let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    bob.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut alice], &out.commit);
    assert_agree(&[&alice, &bob]);
    assert_eq!(alice.member_count(), 2);
}

#[test]
fn external_psk_commit() {
    let (mut alice, mut bob, mut carol, mut r) = three(1, 5);
    for g in [&mut alice, &mut bob, &mut carol] {
        g.add_external_psk(b"psk-1", Secret::from_slice(&[7; 32]).unwrap());
    }
    let psk = Proposal::PreSharedKey(Box::new(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: b"psk-1".to_vec(),
            },
            psk_nonce: vec![1; 32],
        },
    }));
    let out = alice
        .commit(
            vec![crate::mls::Proposal(psk)],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut bob, &mut carol], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
}

#[test]
fn losing_commit_is_discarded_and_the_winner_merges() {
    let (mut alice, mut bob, mut carol, mut r) = three(1, 6);
    let a = alice
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    let b = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
    // The delivery service orders Bob's first: Alice processes it and drops her own.
    let _ = a;
    assert!(alice.has_pending_commit());
    match alice.process_message(&b.commit).unwrap() {
        ProcessedMessage::Commit(staged) => alice.merge_staged_commit(*staged).unwrap(),
        other => panic!("{other:?}"),
    }
    assert!(!alice.has_pending_commit());
    assert_eq!(
        alice.merge_pending_commit(),
        Err(Error::ApiMisuse(ApiMisuse::NoPendingCommit))
    );
    bob.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut carol], &b.commit);
    assert_agree(&[&alice, &bob, &carol]);
}

#[test]
fn rejected_messages_leave_the_group_unchanged() {
    let (mut alice, mut bob, _carol, mut r) = three(1, 7);
    let out = alice
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    // The whole saved state, secrets included, byte for byte.
    let before = bob.to_bytes().unwrap();

    // Tampered commit bytes, each byte flipped in turn (every 7th byte, to keep it quick).
    let bytes = crate::codec::Encode::to_bytes(&out.commit).unwrap();
    let mut rejected = 0;
    for i in (0..bytes.len()).step_by(7) {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        if let Ok(msg) = <MlsMessage as crate::codec::Decode>::decode_exact(&bad) {
            if bob.process_message(&msg).is_err() {
                rejected += 1;
            }
        }
    }
    assert!(rejected > 10);
    assert!(
        *before == *bob.to_bytes().unwrap(),
        "a rejected message changed the group"
    );
    // A message of another group or epoch.
    let (mut other, ..) = three(1, 8);
    let foreign = other
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    // Same group id and epoch, but another group's keys: the membership tag fails.
    let err = bob
        .process_message(&foreign.commit)
        .expect_err("a foreign commit");
    assert_eq!(err, Error::AuthenticationFailed);
    // The genuine commit still applies.
    deliver_commit(&mut [&mut bob], &out.commit);
    alice.merge_pending_commit().unwrap();
    assert_agree(&[&alice, &bob]);
}

#[test]
fn saved_state_restores_a_working_group() {
    let (mut alice, mut bob, mut carol, mut r) = three(3, 9);
    // Some history: a message, a rotation, a pending proposal.
    let m = bob
        .encrypt_application(b"before save", b"", &mut r)
        .unwrap();
    alice.process_message(&m).unwrap();
    let out = carol
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    carol.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut alice, &mut bob], &out.commit);
    let saved = alice.to_bytes().unwrap();
    let mut restored = Group::from_bytes(GroupConfig::default(), &saved).unwrap();
    assert_eq!(
        *restored.to_bytes().unwrap(),
        *saved,
        "save/restore/save is stable"
    );
    assert_agree(&[&restored, &bob, &carol]);
    // The restored group keeps working: it receives, sends and commits.
    let m = bob
        .encrypt_application(b"after restore", b"", &mut r)
        .unwrap();
    assert!(matches!(
        restored.process_message(&m).unwrap(),
        ProcessedMessage::Application { .. }
    ));
    let out = restored
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    restored.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut bob, &mut carol], &out.commit);
    assert_agree(&[&restored, &bob, &carol]);
    // Corrupt states are rejected, never a panic.
    for cut in [0, 4, 6, 50, saved.len() / 2, saved.len() - 1] {
        Group::from_bytes(GroupConfig::default(), &saved[..cut]).expect_err("truncated state");
    }
    let mut bad = saved.to_vec();
    bad[0] ^= 1;
    Group::from_bytes(GroupConfig::default(), &bad).expect_err("bad magic");
}

#[test]
fn welcome_without_any_tree_is_refused() {
    let mut r = rng(10);
    let config = GroupConfig {
        ratchet_tree_extension: false,
        ..GroupConfig::default()
    };
    let mut alice = Group::create(
        config.clone(),
        bundle(1, "alice", &mut r),
        b"m",
        vec![],
        &mut r,
    )
    .unwrap();
    let b = bundle(1, "bob", &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let welcome = out.welcome.unwrap();
    let err =
        Group::join_welcome(config, welcome_of(&welcome), b, None, vec![]).expect_err("no tree");
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::MissingRatchetTree)
    );
}

#[test]
fn welcome_with_tree_supplied_out_of_band_and_psk() {
    let mut r = rng(11);
    let config = GroupConfig {
        ratchet_tree_extension: false,
        ..GroupConfig::default()
    };
    let mut alice = Group::create(
        config.clone(),
        bundle(3, "alice", &mut r),
        b"m",
        vec![],
        &mut r,
    )
    .unwrap();
    alice.add_external_psk(b"room-psk", Secret::from_slice(&[5; 32]).unwrap());
    let b = bundle(3, "bob", &mut r);
    let psk = Proposal::PreSharedKey(Box::new(PreSharedKey {
        psk: PreSharedKeyId {
            psk: Psk::External {
                psk_id: b"room-psk".to_vec(),
            },
            psk_nonce: vec![2; 32],
        },
    }));
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&b)), crate::mls::Proposal(psk)],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let welcome = out.welcome.unwrap();
    let tree = alice.tree().to_wire();
    let bob = Group::join_welcome(
        config,
        welcome_of(&welcome),
        b,
        Some(&tree),
        vec![(b"room-psk".to_vec(), Secret::from_slice(&[5; 32]).unwrap())],
    )
    .unwrap();
    assert_agree(&[&alice, &bob]);
}

#[test]
fn adding_the_same_client_twice_in_one_commit_is_refused() {
    let (mut alice, _bob, _carol, mut r) = three(1, 12);
    // Two KeyPackages with one signature key (the same client, RFC 9420 §12.2) in one commit.
    let suite = CipherSuite(1).suite().unwrap();
    let signer = SignaturePrivateKey::from_seed(&[3; 32]).unwrap();
    let lifetime = Lifetime::starting_at(NOW, KP_LIFETIME);
    let first = KeyPackageBundle::with_suite(
        &suite,
        Credential::Basic {
            identity: b"dup".to_vec(),
        },
        signer,
        lifetime,
        &[],
        &mut r,
    )
    .unwrap();
    let again = KeyPackageBundle::with_suite(
        &suite,
        Credential::Basic {
            identity: b"dup".to_vec(),
        },
        SignaturePrivateKey::from_seed(&[3; 32]).unwrap(),
        lifetime,
        &[],
        &mut r,
    )
    .unwrap();
    let err = alice
        .commit(
            vec![
                crate::mls::Proposal(add(&first)),
                crate::mls::Proposal(add(&again)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .expect_err("duplicate add");
    assert_eq!(
        err,
        Error::PeerMisbehaved(PeerMisbehaved::InvalidProposalList)
    );
    assert!(!alice.has_pending_commit());
}

/// A KeyPackage signed by `seed`'s key whose leaf carries `leaf_extension` and lists
/// `listed` in its capabilities (re-signed after the change).
fn bundle_with_leaf_extension(
    seed: u64,
    leaf_extension: u16,
    listed: &[u16],
    r: &mut Rng,
) -> KeyPackageBundle {
    let suite = CipherSuite(1).suite().unwrap();
    let listed: Vec<ExtensionType> = listed.iter().map(|&t| ExtensionType(t)).collect();
    let mut b = KeyPackageBundle::with_suite(
        &suite,
        Credential::Basic {
            identity: b"dave".to_vec(),
        },
        SignaturePrivateKey::generate(&mut rng(seed)),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &listed,
        r,
    )
    .unwrap();
    let signer = SignaturePrivateKey::generate(&mut rng(seed));
    let leaf = &mut b.key_package.leaf_node;
    leaf.extensions = vec![Extension {
        extension_type: ExtensionType(leaf_extension),
        extension_data: b"dave's phone".to_vec(),
    }];
    leaf.signature = signer
        .sign_with_label(b"LeafNodeTBS", &leaf.to_be_signed(&[], 0).unwrap())
        .unwrap()
        .to_vec();
    b.key_package.signature = signer
        .sign_with_label(b"KeyPackageTBS", &b.key_package.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    b
}

/// RFC 9420 §7.2: default extension types (here `application_id`) MUST NOT be listed in
/// capabilities, so a leaf carrying one without listing it is valid (found against
/// OpenMLS, whose KeyPackages with an `application_id` meetkey refused). A non-default
/// extension in the leaf must still be listed (§7.3).
#[test]
fn leaf_extensions_of_default_types_need_not_be_listed() {
    let mut r = rng(40);
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle(1, "alice", &mut r),
        b"g",
        vec![],
        &mut r,
    )
    .unwrap();
    let application_id = ExtensionType::APPLICATION_ID.0;
    let unlisted = bundle_with_leaf_extension(41, 0xff00, &[], &mut r);
    assert_eq!(
        alice
            .commit(
                vec![crate::mls::Proposal(add(&unlisted))],
                &CommitOptions::at(NOW),
                &mut r
            )
            .map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
    );
    assert!(!alice.has_pending_commit());
    let listed = bundle_with_leaf_extension(42, 0xff00, &[0xff00], &mut r);
    let app_id = bundle_with_leaf_extension(43, application_id, &[], &mut r);
    let out = alice
        .commit(
            vec![
                crate::mls::Proposal(add(&listed)),
                crate::mls::Proposal(add(&app_id)),
            ],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    // The joiner validates the tree, with both leaves, too.
    let dave = Group::join_welcome(
        GroupConfig::default(),
        welcome_of(&out.welcome.unwrap()),
        app_id,
        None,
        vec![],
    )
    .unwrap();
    assert_agree(&[&alice, &dave]);
}

/// `required_capabilities` (RFC 9420 §11.1) that names default extension and proposal
/// types is met by every client (§7.2: they are supported and never listed); a required
/// non-default type must be listed.
#[test]
fn required_capabilities_of_default_types_are_always_met() {
    let mut r = rng(50);
    let required = |ext: u16| {
        // extension_types<V>, proposal_types<V> (psk, a default type), credential_types<V>.
        let mut data = vec![4];
        data.extend_from_slice(&ExtensionType::APPLICATION_ID.0.to_be_bytes());
        data.extend_from_slice(&ext.to_be_bytes());
        data.extend_from_slice(&[2, 0, 4, 2, 0, 1]);
        Extension {
            extension_type: ExtensionType::REQUIRED_CAPABILITIES,
            extension_data: data,
        }
    };
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle(1, "alice", &mut r),
        b"g",
        vec![required(ExtensionType::EXTERNAL_SENDERS.0)],
        &mut r,
    )
    .unwrap();
    let bob = bundle(1, "bob", &mut r);
    alice
        .commit(
            vec![crate::mls::Proposal(add(&bob))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();

    let mut carol = Group::create(
        GroupConfig::default(),
        bundle_with_leaf_extension(51, 0xff00, &[0xff00], &mut r),
        b"g2",
        vec![required(0xff00)],
        &mut r,
    )
    .unwrap();
    assert_eq!(
        carol
            .commit(
                vec![crate::mls::Proposal(add(&bundle(1, "dave", &mut r)))],
                &CommitOptions::at(NOW),
                &mut r
            )
            .map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
    );
    let erin = bundle_with_leaf_extension(52, 0xff00, &[0xff00], &mut r);
    carol
        .commit(
            vec![crate::mls::Proposal(add(&erin))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
}

/// A KeyPackage of `seed`'s key with `kp_extension` in `KeyPackage.extensions` and
/// `listed` in its leaf's capabilities (re-signed after the change).
fn bundle_with_key_package_extension(
    seed: u64,
    kp_extension: u16,
    listed: &[u16],
    r: &mut Rng,
) -> KeyPackageBundle {
    let listed: Vec<ExtensionType> = listed.iter().map(|&t| ExtensionType(t)).collect();
    let mut b = KeyPackageBundle::with_suite(
        &CipherSuite(1).suite().unwrap(),
        Credential::Basic {
            identity: format!("client-{seed}").into_bytes(),
        },
        SignaturePrivateKey::generate(&mut rng(seed)),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &listed,
        r,
    )
    .unwrap();
    b.key_package.extensions = vec![Extension {
        extension_type: ExtensionType(kp_extension),
        extension_data: Vec::new(),
    }];
    b.key_package.signature = SignaturePrivateKey::generate(&mut rng(seed))
        .sign_with_label(b"KeyPackageTBS", &b.key_package.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    b
}

/// RFC 9420 §10: extensions in `KeyPackage.extensions` MUST be listed in the leaf's
/// capabilities (found against OpenMLS, which refuses such KeyPackages: meetkey added
/// them, so the two disagreed on the group's membership).
#[test]
fn key_package_extensions_must_be_listed() {
    let mut r = rng(60);
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle(1, "alice", &mut r),
        b"g",
        vec![],
        &mut r,
    )
    .unwrap();
    // 0x000a: `last_resort` (draft-ietf-mls-extensions), unknown to RFC 9420.
    let unlisted = bundle_with_key_package_extension(61, 0x000a, &[], &mut r);
    assert_eq!(
        alice
            .commit(
                vec![crate::mls::Proposal(add(&unlisted))],
                &CommitOptions::at(NOW),
                &mut r
            )
            .map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
    );
    let listed = bundle_with_key_package_extension(62, 0x000a, &[0x000a], &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&listed))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let joined = Group::join_welcome(
        GroupConfig::default(),
        welcome_of(&out.welcome.unwrap()),
        listed,
        None,
        vec![],
    )
    .unwrap();
    assert_agree(&[&alice, &joined]);
}

/// A KeyPackage of `seed`'s key whose leaf lists credential types `credentials` and
/// extension types `extensions` in its capabilities (re-signed after the change).
fn bundle_with_capabilities(
    seed: u64,
    credentials: &[u16],
    extensions: &[u16],
    r: &mut Rng,
) -> KeyPackageBundle {
    let mut b = KeyPackageBundle::with_suite(
        &CipherSuite(1).suite().unwrap(),
        Credential::Basic {
            identity: format!("client-{seed}").into_bytes(),
        },
        SignaturePrivateKey::generate(&mut rng(seed)),
        Lifetime::starting_at(NOW, KP_LIFETIME),
        &extensions
            .iter()
            .map(|&t| ExtensionType(t))
            .collect::<Vec<_>>(),
        r,
    )
    .unwrap();
    let signer = SignaturePrivateKey::generate(&mut rng(seed));
    let leaf = &mut b.key_package.leaf_node;
    leaf.capabilities.credentials = credentials.iter().map(|&c| CredentialType(c)).collect();
    leaf.signature = signer
        .sign_with_label(b"LeafNodeTBS", &leaf.to_be_signed(&[], 0).unwrap())
        .unwrap()
        .to_vec();
    b.key_package.signature = signer
        .sign_with_label(b"KeyPackageTBS", &b.key_package.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    b
}

/// `required_capabilities` with the given extension and credential types (no proposals).
fn required_capabilities(extensions: &[u16], credentials: &[u16]) -> Extension {
    let mut data = vec![u8::try_from(2 * extensions.len()).unwrap()];
    for e in extensions {
        data.extend_from_slice(&e.to_be_bytes());
    }
    data.push(0);
    data.push(u8::try_from(2 * credentials.len()).unwrap());
    for c in credentials {
        data.extend_from_slice(&c.to_be_bytes());
    }
    Extension {
        extension_type: ExtensionType::REQUIRED_CAPABILITIES,
        extension_data: data,
    }
}

/// RFC 9420 §7.3, §11.1: the credential types in `required_capabilities` must be listed by
/// every new member (unlike extension and proposal types, none is implied). meetkey decoded
/// and ignored them.
#[test]
fn required_credential_types_must_be_listed() {
    let mut r = rng(70);
    // basic(1) and x509(2) required.
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle_with_capabilities(71, &[1, 2], &[], &mut r),
        b"g",
        vec![required_capabilities(&[], &[1, 2])],
        &mut r,
    )
    .unwrap();
    let basic_only = bundle_with_capabilities(72, &[1], &[], &mut r);
    assert_eq!(
        alice
            .commit(
                vec![crate::mls::Proposal(add(&basic_only))],
                &CommitOptions::at(NOW),
                &mut r
            )
            .map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
    );
    let both = bundle_with_capabilities(73, &[1, 2], &[], &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&both))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let joined = Group::join_welcome(
        GroupConfig::default(),
        welcome_of(&out.welcome.unwrap()),
        both,
        None,
        vec![],
    )
    .unwrap();
    assert_agree(&[&alice, &joined]);
}

/// RFC 9420 §11.1: a GroupContextExtensions proposal is invalid if its
/// `required_capabilities` requires a non-default capability some current member lacks
/// (meetkey checked only the extension types present in the proposal).
#[test]
fn group_context_extensions_cannot_require_what_members_lack() {
    let mut r = rng(80);
    let mut alice = Group::create(
        GroupConfig::default(),
        bundle_with_capabilities(81, &[1], &[0xff00], &mut r),
        b"g",
        vec![],
        &mut r,
    )
    .unwrap();
    let bob = bundle_with_capabilities(82, &[1], &[], &mut r);
    alice
        .commit(
            vec![crate::mls::Proposal(add(&bob))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let gce = |ext: Extension| {
        Proposal::GroupContextExtensions(crate::mls::wire::GroupContextExtensions {
            extensions: vec![ext],
        })
    };
    // Bob lists neither extension 0xff00 nor x509.
    for ext in [
        required_capabilities(&[0xff00], &[]),
        required_capabilities(&[], &[2]),
    ] {
        assert_eq!(
            alice
                .commit(
                    vec![crate::mls::Proposal(gce(ext))],
                    &CommitOptions::at(NOW),
                    &mut r
                )
                .map(|_| ()),
            Err(Error::PeerMisbehaved(PeerMisbehaved::UnsupportedCapability))
        );
        assert!(!alice.has_pending_commit());
    }
    // Default types (application_id) and basic credentials are supported by everyone.
    alice
        .commit(
            vec![crate::mls::Proposal(gce(required_capabilities(&[1], &[1])))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
}

/// A PrivateMessage that decrypts but fails a later check (here the receiver's proposal
/// size limit, checked before the signature) consumes no key: opening only stages the
/// secret tree's change, committed once the whole message is accepted.
#[test]
fn a_decrypted_message_refused_later_consumes_no_key() {
    let (mut alice, bob, _carol, mut r) = three(1, 12);
    let proposal = crate::mls::Proposal(Proposal::Remove(Remove { removed: 2 }));
    let saved = bob.to_bytes().unwrap();
    let tight = GroupConfig {
        limits: crate::mls::group::Limits {
            max_proposal_size: 4,
            ..crate::mls::group::Limits::default()
        },
        encrypt_handshake: true,
        ..GroupConfig::default()
    };
    alice = Group::from_bytes(
        GroupConfig {
            encrypt_handshake: true,
            ..GroupConfig::default()
        },
        &alice.to_bytes().unwrap(),
    )
    .unwrap();
    let msg = alice.propose(proposal, &mut r).unwrap();
    assert!(matches!(msg.body, MlsMessageBody::PrivateMessage(_)));
    let mut strict = Group::from_bytes(tight, &saved).unwrap();
    let before = strict.to_bytes().unwrap();
    assert_eq!(
        strict.process_message(&msg).map(|_| ()),
        Err(PeerMisbehaved::LimitExceeded.into())
    );
    assert!(*before == *strict.to_bytes().unwrap(), "a key was consumed");
    // The same message is genuine: a receiver with the default limit accepts it, once.
    let mut lenient = Group::from_bytes(GroupConfig::default(), &saved).unwrap();
    lenient.process_message(&msg).unwrap();
    assert!(*before != *lenient.to_bytes().unwrap());
    assert_eq!(
        lenient.process_message(&msg).map(|_| ()),
        Err(Stale::GenerationConsumed.into())
    );
}
