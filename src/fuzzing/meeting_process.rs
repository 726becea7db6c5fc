//! The meeting's handshake entry point under a hostile delivery service: Bob's meeting
//! (Alice the admin, Carol a third member; external joins for rejoins only) processes
//! arbitrary bytes as an MLSMessage. Whatever it refuses leaves it byte for byte as it was;
//! whatever it accepts never stalls it — Bob can still rotate, and a rotation that follows
//! never adds anyone Bob's application did not admit. Governance decoding is fuzzed too.

use std::sync::OnceLock;

use crate::codec::Decode;
use crate::crypto::{CipherSuite, SignaturePrivateKey};
use crate::meeting::{Event, ExternalJoins, Governance, Meeting, MeetingConfig};
use crate::mls::wire::{Lifetime, MlsMessage};
use crate::routing::Policy;

use super::rng::SeedRng;

/// The clock of the fixture.
const NOW: u64 = 1_800_000_000;

/// The fixture: (Alice's, Bob's, Carol's) saved states and the messages that seed the
/// corpus, made once from constant seeds.
pub(super) struct Fixture {
    pub(super) bob: Vec<u8>,
    /// The corpus seeds (read by the corpus generator in tests).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(super) seeds: Vec<(&'static str, Vec<u8>)>,
}

pub(super) fn kp(name: &str) -> crate::mls::group::KeyPackageBundle {
    let mut r = SeedRng::new(format!("meeting_process kp {name}").as_bytes());
    let suite = CipherSuite(1).suite().unwrap_or_else(|_| unreachable!());
    Meeting::key_package(
        suite.id(),
        name.as_bytes(),
        SignaturePrivateKey::generate(&mut r),
        Lifetime::starting_at(NOW, 86_400),
        &mut r,
    )
    .unwrap_or_else(|_| unreachable!("constant inputs"))
}

#[expect(clippy::unwrap_used, reason = "constant inputs; a failure is a bug")]
fn build() -> Fixture {
    let mut r = SeedRng::new(b"meeting_process fixture");
    let policy = Policy::new("eu-west").unwrap();
    let gov = Governance::new([b"alice"], ExternalJoins::RejoinOnly).unwrap();
    let mut alice = Meeting::create_with_governance(
        MeetingConfig::default(),
        kp("alice"),
        b"fuzz meeting",
        &policy,
        &gov,
        &mut r,
    )
    .unwrap();
    let (b, c) = (kp("bob"), kp("carol"));
    let out = alice
        .add(&[b.key_package.clone(), c.key_package.clone()], NOW, &mut r)
        .unwrap();
    alice.process(&out.commit).unwrap();
    let w = alice.take_welcome().unwrap();
    let bob = Meeting::join_welcome(MeetingConfig::default(), &w, b).unwrap();
    let mut carol = Meeting::join_welcome(MeetingConfig::default(), &w, c).unwrap();
    let enc = |m: &MlsMessage| crate::codec::Encode::to_bytes(m).unwrap();
    let mut seeds = Vec::new();
    let gi = alice.group_info().unwrap();
    seeds.push((
        "join-request",
        enc(&Meeting::join_request(&gi, &kp("dave")).unwrap()),
    ));
    seeds.push(("leave", enc(&carol.leave(&mut r).unwrap())));
    let narrower = policy.deny([crate::routing::Jurisdiction::parse("CN").unwrap()]);
    seeds.push((
        "narrow",
        enc(&alice.set_policy(&narrower, NOW, &mut r).unwrap().commit),
    ));
    alice.discard_pending();
    seeds.push(("rotate", enc(&alice.rotate(NOW, &mut r).unwrap().commit)));
    alice.discard_pending();
    let out = alice.remove(2, NOW, &mut r).unwrap();
    seeds.push(("remove-carol", enc(&out.commit)));
    Fixture {
        bob: bob.to_bytes().unwrap().to_vec(),
        seeds,
    }
}

pub(super) fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

/// Processes `data` at Bob's meeting; returns whether it was accepted.
#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
pub(super) fn process(data: &[u8]) -> bool {
    let Ok(mut bob) = Meeting::from_bytes(
        MeetingConfig::default(),
        &fixture().bob,
        &mut <rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7),
    ) else {
        panic!("the fixture does not restore");
    };
    bob.drain_events();
    let Ok(message) = MlsMessage::decode_exact(data) else {
        return false;
    };
    let before = bob.to_bytes().ok();
    let members = bob.participants().len();
    if bob.process(&message).is_err() {
        if bob.to_bytes().ok() != before || !bob.drain_events().is_empty() {
            panic!("a refused message changed the meeting or queued an event");
        }
        return false;
    }
    let joined_by_commit = bob.drain_events().iter().any(|e| {
        matches!(
            e,
            Event::ParticipantJoined { .. } | Event::EpochChanged { .. }
        )
    });
    if !bob.is_active() || bob.group().is_reinitialized() {
        return true;
    }
    // Nothing accepted can stall Bob, nor get itself committed by Bob's next rotation.
    let mut r = SeedRng::new(b"meeting_process rotate");
    let Ok(out) = bob.rotate(NOW, &mut r) else {
        panic!("an accepted message stalled the meeting");
    };
    if bob.process(&out.commit).is_err() {
        panic!("our own commit's echo was refused");
    }
    if !joined_by_commit && bob.participants().len() > members {
        panic!("a rotation added someone the application did not admit");
    }
    true
}

/// Harness: see the module docs.
pub fn meeting_process(data: &[u8]) {
    process(data);
}

/// Harness: `Governance::decode_canonical` never panics, and what decodes re-encodes to
/// exactly its input (the encoding is canonical, so members agree on it byte for byte).
#[expect(
    clippy::panic,
    reason = "a harness reports a broken invariant by panicking"
)]
pub fn governance_decode(data: &[u8]) {
    if let Ok(g) = Governance::decode_canonical(data) {
        if g.encode_canonical() != data {
            panic!("a governance encoding that is not canonical decoded");
        }
    }
}
