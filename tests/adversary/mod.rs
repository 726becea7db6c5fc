//! What the adversary suites share: a three-person meeting, delivery, and the checks every
//! refused attack must pass — the typed error, a byte-identical saved state, and no event
//! that hides what happened.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use meetkey::meeting::{Event, ExternalJoins, Governance, Meeting, MeetingConfig, Outgoing};
use meetkey::mls::KeyPackageBundle;
use meetkey::mls::{Lifetime, MlsMessage};
use meetkey::routing::{Jurisdiction, Policy};
use meetkey::{CipherSuite, SignaturePrivateKey};
use meetkey::{Error, Result};
use rand_core::SeedableRng;

/// The clock of these tests (2027-01-15): time is an input, never read.
pub(crate) const NOW: u64 = 1_800_000_000;
/// How long the KeyPackages made here stay valid.
pub(crate) const KP_LIFETIME: u64 = 28 * 24 * 3600;

pub(crate) type Rng = rand_chacha::ChaCha20Rng;

pub(crate) fn rng(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

/// A meeting KeyPackage for `name`, valid from an hour before [`NOW`] for 28 days.
pub(crate) fn kp(name: &str, r: &mut Rng) -> KeyPackageBundle {
    kp_with_key(name, SignaturePrivateKey::generate(r), r)
}

/// As [`kp`], with the given signature key.
pub(crate) fn kp_with_key(name: &str, key: SignaturePrivateKey, r: &mut Rng) -> KeyPackageBundle {
    let suite = CipherSuite(1);
    Meeting::key_package(
        suite,
        name.as_bytes(),
        key,
        Lifetime::starting_at(NOW, KP_LIFETIME),
        r,
    )
    .unwrap()
}

/// The meeting's fence: home eu-west, CN denied.
pub(crate) fn policy() -> Policy {
    Policy::new("eu-west")
        .unwrap()
        .deny([Jurisdiction::parse("CN").unwrap()])
}

/// Alice (the policy admin) creates a meeting with external joins `joins`; Bob and Carol
/// join from one Welcome. Events so far are drained.
pub(crate) fn meeting(seed: u64, joins: ExternalJoins) -> (Meeting, Meeting, Meeting, Rng) {
    let mut r = rng(seed);
    let mut alice = Meeting::create_with_governance(
        MeetingConfig::default(),
        kp("alice", &mut r),
        b"adversary meeting",
        &policy(),
        &Governance::new([b"alice"], joins).unwrap(),
        &mut r,
    )
    .unwrap();
    let (b, c) = (kp("bob", &mut r), kp("carol", &mut r));
    let out = alice
        .add(&[b.key_package.clone(), c.key_package.clone()], NOW, &mut r)
        .unwrap();
    alice.process(&out.commit).unwrap();
    let welcome = alice.take_welcome().unwrap();
    let mut bob = Meeting::join_welcome(MeetingConfig::default(), &welcome, b).unwrap();
    let mut carol = Meeting::join_welcome(MeetingConfig::default(), &welcome, c).unwrap();
    for m in [&mut alice, &mut bob, &mut carol] {
        m.drain_events();
    }
    (alice, bob, carol, r)
}

/// Hands `msg` to each meeting; every one must accept it.
pub(crate) fn deliver(to: &mut [&mut Meeting], msg: &MlsMessage) {
    for m in to.iter_mut() {
        m.process(msg).unwrap();
    }
}

/// The committer's echo and delivery to the others.
pub(crate) fn commit_round(committer: &mut Meeting, others: &mut [&mut Meeting], out: &Outgoing) {
    committer.process(&out.commit).unwrap();
    deliver(others, &out.commit);
}

/// Every meeting is in the same epoch with the same security code.
pub(crate) fn assert_agree(ms: &[&Meeting]) {
    for m in &ms[1..] {
        assert_eq!(m.epoch(), ms[0].epoch());
        assert_eq!(m.security_code().unwrap(), ms[0].security_code().unwrap());
        assert_eq!(m.participants(), ms[0].participants());
    }
}

/// `attempt` fails with `want`, and leaves `m` byte for byte as it was, with no new event
/// (a refused message changes nothing, so nothing may be reported as having happened).
pub(crate) fn assert_refused<T: core::fmt::Debug>(
    m: &mut Meeting,
    want: Error,
    attempt: impl FnOnce(&mut Meeting) -> Result<T>,
) {
    m.drain_events();
    let before = m.to_bytes().unwrap();
    let got = attempt(m);
    assert_eq!(got.as_ref().map(|_| ()), Err(&want), "got {got:?}");
    assert!(
        *before == *m.to_bytes().unwrap(),
        "state changed by a refused input"
    );
    assert_eq!(m.drain_events(), Vec::<Event>::new());
}

/// The identities of the participants.
pub(crate) fn identities(m: &Meeting) -> Vec<Vec<u8>> {
    m.participants().into_iter().map(|p| p.identity).collect()
}

/// [`assert_refused`] of `msg` at every one of `ms`.
pub(crate) fn assert_all_refuse(ms: &mut [&mut Meeting], want: Error, msg: &MlsMessage) {
    for m in ms.iter_mut() {
        assert_refused(m, want, |m| m.process(msg));
    }
}
