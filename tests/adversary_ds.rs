//! A malicious delivery service (issue 13): it sees every handshake message, holds the
//! GroupInfo it publishes for rejoins, and can inject, replay, drop or reorder anything. It
//! never holds a member's signature key. Each test is one of its attacks, refused through
//! the public API with a typed error, an unchanged saved state and honest events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod adversary;

use adversary::{
    assert_agree, assert_refused, commit_round, deliver, identities, kp, meeting, NOW,
};
use meetkey::error::PeerMisbehaved;
use meetkey::meeting::{Event, ExternalJoins, Meeting, MeetingConfig, ProposalSummary};
use meetkey::mls::{Credential, ExtensionType, ExternalSender, LeafIndex, Proposal};
use meetkey::mls::{ExternalProposer, Group, GroupConfig};
use meetkey::routing::{Denial, DirectoryVerifier, Health, Reason, SignedDirectory};
use meetkey::SignaturePrivateKey;

/// RFC 9420 §12.1.8 (unauthorized external proposals are invalid): the delivery service
/// asks to join with its own KeyPackage (`new_member_proposal`, it only needs the group id
/// and epoch). Members see a join request; the scheduled rotation — which used to commit
/// every received proposal — leaves it out; the server never gets a Welcome.
#[test]
fn ds_join_request_is_never_committed_unless_admitted() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(1, ExternalJoins::RejoinOnly);
    let server_kp = kp("delivery-service", &mut r);
    let request = Meeting::join_request(&alice.group_info().unwrap(), &server_kp).unwrap();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &request);
    for m in [&mut alice, &mut bob, &mut carol] {
        let events = m.drain_events();
        assert!(
            matches!(events.as_slice(), [Event::JoinRequested { identity, .. }] if identity == b"delivery-service"),
            "{events:?}"
        );
        assert!(!m.commit_needed());
    }
    // The scheduled rotation.
    assert!(alice.rotate_if_due(NOW, &mut r).unwrap().is_none());
    let out = alice.rotate_if_due(NOW + 600, &mut r).unwrap().unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    assert!(alice.take_welcome().is_none(), "a Welcome for the server");
    assert_agree(&[&alice, &bob, &carol]);
    assert_eq!(
        identities(&alice),
        [b"alice".to_vec(), b"bob".to_vec(), b"carol".to_vec()]
    );
}

/// The same request, admitted by the host's application (a waiting room), does get in:
/// admission is the one way, and it is the application's.
#[test]
fn admitted_join_request_is_committed_with_a_welcome() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(2, ExternalJoins::RejoinOnly);
    let dave_kp = kp("dave", &mut r);
    let request = Meeting::join_request(&alice.group_info().unwrap(), &dave_kp).unwrap();
    deliver(&mut [&mut alice, &mut bob, &mut carol], &request);
    let Some(Event::JoinRequested { reference, .. }) = alice.next_event() else {
        panic!("no join request")
    };
    alice.admit(&reference).unwrap();
    assert!(alice.commit_needed());
    let out = alice.rotate(NOW, &mut r).unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    let dave = Meeting::join_welcome(
        MeetingConfig::default(),
        &alice.take_welcome().unwrap(),
        dave_kp,
    )
    .unwrap();
    assert_agree(&[&alice, &bob, &carol, &dave]);
    assert_eq!(alice.participants().len(), 4);
}

/// A replayed proposal changes nothing (it is already stored: same ProposalRef): delivery
/// is idempotent, so the delivery service's echo of a member's own proposal is no error
/// either; the state is byte for byte the same, no event; a commit afterwards includes it
/// once.
#[test]
fn replayed_proposal_changes_nothing() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(3, ExternalJoins::RejoinOnly);
    let leave = carol.leave(&mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob], &leave);
    for m in [&mut alice, &mut bob, &mut carol] {
        m.drain_events();
        let before = m.to_bytes().unwrap();
        assert_eq!(m.process(&leave), Ok(()));
        assert!(*before == *m.to_bytes().unwrap());
        assert!(m.drain_events().is_empty());
    }
    let out = alice.rotate(NOW, &mut r).unwrap();
    commit_round(&mut alice, &mut [&mut bob, &mut carol], &out);
    assert!(!carol.is_active());
    assert_agree(&[&alice, &bob]);
    assert_eq!(identities(&alice), [b"alice".to_vec(), b"bob".to_vec()]);
}

/// A meeting whose `external_senders` lists the server (the server may propose, RFC 9420
/// §12.1.8.1): its invalid proposal (a Remove of a blank leaf) is refused on receipt, and
/// cannot freeze later commits; a valid one is stored, shown, and not committed unless
/// admitted.
#[test]
fn server_proposals_cannot_freeze_the_group_or_commit_themselves() {
    let mut r = adversary::rng(4);
    let suite = meetkey::CipherSuite(1);
    let server = ExternalProposer::new(suite, SignaturePrivateKey::generate(&mut r), 0).unwrap();
    let senders = ExternalSender::extension(&[server.external_sender(Credential::Basic {
        identity: b"server".to_vec(),
    })])
    .unwrap();
    // The meeting lists the server (Carol's client commits the extension at the Group
    // level: Meeting has no call for it; her Meeting is not used afterwards).
    let (mut alice, mut bob, carol, _) = meeting(4, ExternalJoins::RejoinOnly);
    let gce = Proposal::group_context_extensions(
        alice
            .group()
            .extensions()
            .iter()
            .cloned()
            .chain([senders])
            .collect(),
    );
    let mut carols_client =
        Group::from_bytes(GroupConfig::default(), &carol.group().to_bytes().unwrap()).unwrap();
    let out = carols_client
        .commit(vec![gce], &meetkey::mls::CommitOptions::at(NOW), &mut r)
        .unwrap();
    bob.process(&out.commit).unwrap();
    alice.process(&out.commit).unwrap();
    let epoch = alice.epoch();

    let blank = server
        .propose(
            alice.meeting_id(),
            epoch,
            Proposal::remove(LeafIndex(9)),
            b"",
        )
        .unwrap();
    for m in [&mut alice, &mut bob] {
        assert_refused(m, PeerMisbehaved::InvalidProposalList.into(), |m| {
            m.process(&blank)
        });
    }
    let kick_bob = server
        .propose(
            alice.meeting_id(),
            epoch,
            Proposal::remove(LeafIndex(1)),
            b"",
        )
        .unwrap();
    alice.process(&kick_bob).unwrap();
    let events = alice.drain_events();
    assert!(
        matches!(
            events.as_slice(),
            [Event::ProposalReceived { summary: ProposalSummary::Remove { participant }, admitted: false, .. }]
                if participant.identity == b"bob"
        ),
        "{events:?}"
    );
    let out = alice.rotate(NOW, &mut r).unwrap();
    bob.process(&out.commit).unwrap();
    alice.process(&out.commit).unwrap();
    assert!(bob.is_active(), "the server removed Bob");
    assert_agree(&[&alice, &bob]);
}

/// A flood of join requests fills only the non-member share of the proposal store: the
/// 257th is refused with the state unchanged, and a member's leave request still gets in.
#[test]
fn proposal_flood_is_bounded_and_cannot_crowd_out_members() {
    let (mut alice, mut bob, mut carol, mut r) = meeting(5, ExternalJoins::RejoinOnly);
    let gi = alice.group_info().unwrap();
    for i in 0..256 {
        let request = Meeting::join_request(&gi, &kp(&format!("bot-{i}"), &mut r)).unwrap();
        alice.process(&request).unwrap();
    }
    let one_more = Meeting::join_request(&gi, &kp("bot-256", &mut r)).unwrap();
    assert_refused(&mut alice, PeerMisbehaved::LimitExceeded.into(), |m| {
        m.process(&one_more)
    });
    let leave = carol.leave(&mut r).unwrap();
    deliver(&mut [&mut alice, &mut bob], &leave);
    assert!(alice.commit_needed());
    let out = alice.rotate(NOW, &mut r).unwrap();
    alice.process(&out.commit).unwrap();
    bob.process(&out.commit).unwrap();
    assert_eq!(identities(&alice), [b"alice".to_vec(), b"bob".to_vec()]);
}

/// `route` refuses a directory past its `expires_at`: a denial, every relay audited as
/// DirectoryExpired, nothing to connect to.
#[test]
fn expired_directory_fails_closed_with_an_audit_record() {
    let (alice, ..) = meeting(9, ExternalJoins::RejoinOnly);
    let operator = SignaturePrivateKey::from_seed(&[0x42; 32]).unwrap();
    let payload = format!(
        r#"{{"version":1,"issued_at":{},"expires_at":{},"relays":[{{"id":"eu-1","region":"eu-west","jurisdiction":"DE","tier":"primary","endpoint":"eu-1.example:443","weight":10}}]}}"#,
        NOW - 60,
        NOW + 3600
    );
    let doc = SignedDirectory::sign(payload.as_bytes(), &operator)
        .unwrap()
        .to_json()
        .unwrap();
    let dir = DirectoryVerifier::new([operator.public_key()])
        .verify(&doc, NOW)
        .unwrap();
    let own = adversary::policy();
    assert!(alice
        .route(&own, &dir, &Health::new(), NOW)
        .route()
        .is_some());
    let later = alice.route(&own, &dir, &Health::new(), NOW + 3600);
    assert_eq!(later.denial(), Some(Denial::DirectoryExpired));
    assert!(later
        .audit
        .entries()
        .all(|(_, v)| v.reason == Reason::DirectoryExpired));
    assert!(later.audit.to_json().unwrap().contains("DirectoryExpired"));
}

/// A join request too large to hold for the application (a 1 MiB KeyPackage extension,
/// validly signed) is refused for its size before its signatures are checked, unchanged:
/// the server cannot park gigabytes in members' proposal stores.
#[test]
fn oversized_join_request_is_refused_unchanged() {
    let (mut alice, _bob, _carol, mut r) = meeting(10, ExternalJoins::RejoinOnly);
    let seed = [0x10; 32];
    let suite = meetkey::CipherSuite(1);
    let b = meetkey::mls::KeyPackageBundle::new(
        suite,
        Credential::Basic {
            identity: b"mallory".to_vec(),
        },
        SignaturePrivateKey::from_seed(&seed).unwrap(),
        meetkey::mls::Lifetime::starting_at(NOW, 86_400),
        &[ExtensionType(0xF0F0)],
        &mut r,
    )
    .unwrap();
    let big = b
        .forge_extension(meetkey::mls::Extension {
            extension_type: ExtensionType(0xF0F0),
            extension_data: vec![0x55; 1 << 20],
        })
        .unwrap();
    let request = Meeting::join_request(&alice.group_info().unwrap(), &big).unwrap();
    assert_refused(&mut alice, PeerMisbehaved::LimitExceeded.into(), |m| {
        m.process(&request)
    });
}
