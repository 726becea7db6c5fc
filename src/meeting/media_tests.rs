//! Media that matches the group: the SFrame suite and KID layout are the meeting's, not
//! each client's, and no commit can leave a member unable to send media.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::media_ext::MEDIA_EXTENSION;
use super::tests::{frame, kp, open, rng, NOW};
use super::{Meeting, MeetingConfig};
use crate::error::{Error, PeerMisbehaved};
use crate::mls::group::{CommitOptions, Group, GroupConfig};
use crate::mls::wire::{GroupContextExtensions, Proposal};
use crate::routing::Policy;
use crate::sframe::SframeSuite;

fn create(config: MeetingConfig, r: &mut super::tests::R) -> Meeting {
    let policy = Policy::new("eu-west").unwrap();
    Meeting::create(config, kp("alice", r), b"media", &policy, r).unwrap()
}

/// Two clients with different local media settings: the joiner uses the meeting's suite
/// and layout, so frames flow both ways (they used to fail silently).
#[test]
fn joiners_use_the_meetings_media_parameters_not_their_own() {
    let mut r = rng(80);
    let mut alice = create(MeetingConfig::default(), &mut r);
    let bob_kp = kp("bob", &mut r);
    alice
        .add(std::slice::from_ref(&bob_kp.key_package), NOW, &mut r)
        .unwrap();
    alice.confirm_pending().unwrap();
    let odd = MeetingConfig {
        media_suite: SframeSuite::AES_256_GCM_SHA512_128,
        epoch_bits: 5,
        index_bits: 6,
        ..MeetingConfig::default()
    };
    let mut bob = Meeting::join_welcome(odd, &alice.take_welcome().unwrap(), bob_kp).unwrap();
    let f = frame(&mut alice, b"to bob");
    assert_eq!(open(&mut bob, &f).unwrap().0, b"to bob");
    let f = frame(&mut bob, b"to alice");
    assert_eq!(open(&mut alice, &f).unwrap().0, b"to alice");
}

/// A meeting whose layout names 2 leaves (S = 1) refuses, at the committer already, an Add
/// that would put a member at leaf 2: every member must be able to send media.
#[test]
fn no_commit_places_a_member_beyond_the_kid_layout() {
    let mut r = rng(81);
    let small = MeetingConfig {
        index_bits: 1,
        ..MeetingConfig::default()
    };
    let mut alice = create(small, &mut r);
    let (b, c) = (kp("bob", &mut r), kp("carol", &mut r));
    let before = alice.to_bytes().unwrap();
    assert_eq!(
        alice
            .add(&[b.key_package.clone(), c.key_package], NOW, &mut r)
            .map(|_| ()),
        Err(PeerMisbehaved::MediaParametersInvalid.into())
    );
    assert!(*before == *alice.to_bytes().unwrap());
    alice.add(&[b.key_package], NOW, &mut r).unwrap();
    alice.confirm_pending().unwrap();
    assert_eq!(alice.participants().len(), 2);
}

/// A member that skips the meeting's rules and commits the media parameters away is
/// refused by every other member.
#[test]
fn a_commit_dropping_the_media_parameters_is_refused() {
    let mut r = rng(82);
    let mut alice = create(MeetingConfig::default(), &mut r);
    let bob_kp = kp("bob", &mut r);
    alice
        .add(std::slice::from_ref(&bob_kp.key_package), NOW, &mut r)
        .unwrap();
    alice.confirm_pending().unwrap();
    let bob = Meeting::join_welcome(
        MeetingConfig::default(),
        &alice.take_welcome().unwrap(),
        bob_kp,
    )
    .unwrap();
    let mut rogue =
        Group::from_bytes(GroupConfig::default(), &bob.group.to_bytes().unwrap()).unwrap();
    let extensions = bob
        .group
        .extensions()
        .iter()
        .filter(|e| e.extension_type != MEDIA_EXTENSION)
        .cloned()
        .collect();
    let gce = Proposal::GroupContextExtensions(GroupContextExtensions { extensions });
    let out = rogue
        .commit(
            vec![crate::mls::Proposal(gce)],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let before = alice.to_bytes().unwrap();
    assert_eq!(
        alice.process(&out.commit),
        Err(Error::PeerMisbehaved(
            PeerMisbehaved::MediaParametersInvalid
        ))
    );
    assert!(*before == *alice.to_bytes().unwrap());
}
