//! A delivery service that edits what it relays: a GroupInfo changed after it was signed,
//! a KeyPackage re-signed around a bad key. These need the wire types' insides, so they
//! live in the crate; the rest of the adversary suite is in `tests/adversary_*.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::tests::{kp, rng, three_with, NOW};
use super::{ExternalJoins, Meeting, MeetingConfig};
use crate::error::{Error, InvalidMessage, PeerMisbehaved, Result};
use crate::mls::validate::KEY_PACKAGE_LABEL;
use crate::mls::wire::{ExtensionType, GroupInfo, MlsMessage};
use crate::SignaturePrivateKey;

/// An external join of Eve from Alice's GroupInfo as the server changed it with `tamper`.
fn join_from_tampered_group_info(seed: u64, tamper: impl FnOnce(&mut GroupInfo)) -> Result<()> {
    let (alice, _bob, _carol, mut r) = three_with(seed, ExternalJoins::Open);
    let mut info = GroupInfo::try_from(alice.group_info().unwrap()).unwrap();
    tamper(&mut info);
    let forged = MlsMessage::from(info);
    Meeting::join_external(MeetingConfig::default(), &forged, kp("eve", &mut r), &mut r).map(|_| ())
}

/// A GroupInfo the server makes up with epoch 2^64 − 1: no overflow, a typed error.
#[test]
fn group_info_at_the_last_epoch_is_refused() {
    let got = join_from_tampered_group_info(6, |info| info.group_context.epoch = u64::MAX);
    assert_eq!(got, Err(PeerMisbehaved::EpochExhausted.into()));
}

/// A GroupInfo whose ratchet tree is two million blank nodes (2 MiB) is refused while
/// decoding, before anything is expanded or hashed (Limits::max_leaves).
#[test]
fn huge_blank_tree_is_refused_before_expansion() {
    let got = join_from_tampered_group_info(7, |info| {
        let ext = info
            .extensions
            .iter_mut()
            .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
            .unwrap();
        // `optional<Node> ratchet_tree<V>`: two million absent nodes (one 0x00 byte each)
        // before the real ones, under a 4-byte varint length (RFC 9420 §2.1.2).
        let data = &ext.extension_data;
        let prefix = 1 << (data[0] >> 6);
        let mut nodes = vec![0u8; 2 << 20];
        nodes.extend_from_slice(&data[prefix..]);
        let len = u32::try_from(nodes.len()).unwrap() | 0x8000_0000;
        let mut padded = len.to_be_bytes().to_vec();
        padded.extend_from_slice(&nodes);
        ext.extension_data = padded;
    });
    assert_eq!(got, Err(PeerMisbehaved::LimitExceeded.into()));
}

/// A tampered GroupInfo (the server drops the fence from it) is refused by its signature
/// before its tree is used.
#[test]
fn tampered_group_info_is_refused() {
    let got = join_from_tampered_group_info(8, |info| {
        info.group_context
            .extensions
            .retain(|e| e.extension_type != super::GEOFENCE_EXTENSION);
    });
    assert_eq!(got, Err(Error::AuthenticationFailed));
}

/// A KeyPackage whose HPKE init key is a low-order point (all zero) — valid signature and
/// all — is refused when it is added, the meeting unchanged: it would make the Welcome, and
/// every later path encryption to the leaf, fail.
#[test]
fn keypackage_with_an_invalid_hpke_key_is_refused() {
    let (mut alice, ..) = three_with(46, ExternalJoins::RejoinOnly);
    let mut r = rng(47);
    let seed = [0x46; 32];
    let signer = SignaturePrivateKey::from_seed(&seed).unwrap();
    let bundle = Meeting::key_package(
        crate::CipherSuite(1),
        b"mallory",
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        crate::mls::Lifetime::starting_at(NOW, 86_400),
        &mut r,
    )
    .unwrap();
    let mut zero_init = bundle.key_package;
    zero_init.init_key = vec![0; 32];
    zero_init.signature = signer
        .sign_with_label(KEY_PACKAGE_LABEL, &zero_init.to_be_signed().unwrap())
        .unwrap()
        .to_vec();
    let before = alice.to_bytes().unwrap();
    assert_eq!(
        alice.add(&[zero_init], NOW, &mut r).map(|_| ()),
        Err(InvalidMessage::InvalidKey.into())
    );
    assert!(*before == *alice.to_bytes().unwrap(), "state changed");
}
