//! Proposals from external senders (RFC 9420 §12.1.8): a party listed in the group's
//! `external_senders` extension proposes, members cache the proposal and commit it by
//! reference; every message that breaks a rule of §6.1, §6.2 or §12.1.8 is refused with its
//! typed error and leaves the group byte for byte as it was.
#![warn(clippy::assertions_on_result_states)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use crate::crypto::{CipherSuite, Secret, SignaturePrivateKey};
use crate::error::{ApiMisuse, PeerMisbehaved, Stale};
use crate::mls::framing;
use crate::mls::group::{
    CommitOptions, ExternalProposer, Group, GroupConfig, KeyPackageBundle, ProcessedMessage,
};
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{
    Add, Commit, Credential, Extension, ExternalInit, ExternalSender, FramedContent,
    FramedContentBody, GroupContextExtensions, MlsMessage, MlsMessageBody, PreSharedKey,
    PreSharedKeyId, Proposal, ProposalOrRef, ProtocolVersion, Psk, PublicMessage, Remove, Sender,
    Update, WireFormat,
};
use crate::Error;

use crate::test_support as common;
use common::{assert_agree, bundle, rng, Rng};

/// The clock of these tests (2027-01-15): time is an input, never read.
const NOW: u64 = 1_800_000_000;

fn basic(name: &str) -> Credential {
    Credential::Basic {
        identity: name.as_bytes().to_vec(),
    }
}

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

fn public(m: &mut MlsMessage) -> &mut PublicMessage {
    match &mut m.body {
        MlsMessageBody::PublicMessage(pm) => pm,
        _ => panic!("not a PublicMessage"),
    }
}

/// The meeting server (`sender_index` 0) and a group of Alice, Bob and Carol whose
/// GroupContext lists it in `external_senders` (or lists nothing when `with_senders` is
/// false).
fn setup(suite: u16, seed: u64, with_senders: bool) -> (ExternalProposer, [Group; 3], Rng) {
    let mut r = rng(seed);
    let s = CipherSuite(suite).suite().unwrap();
    let server = ExternalProposer::new(s.id(), SignaturePrivateKey::generate(&mut r), 0).unwrap();
    let extensions = if with_senders {
        vec![ExternalSender::extension(&[server.external_sender(basic("server"))]).unwrap()]
    } else {
        vec![]
    };
    let config = GroupConfig::default();
    let mut alice = Group::create(
        config.clone(),
        bundle(suite, "alice", &mut r),
        b"meeting",
        extensions,
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
    (server, [alice, bob, carol], r)
}

/// Delivers a proposal to each group and checks it is stored as from `external(index)`.
fn deliver_proposal(groups: &mut [&mut Group], msg: &MlsMessage, index: u32) {
    for g in groups.iter_mut() {
        match g.process_message(msg).unwrap() {
            ProcessedMessage::Proposal {
                sender,
                reference,
                admitted,
                ..
            } => {
                assert_eq!(sender, Sender::External(index));
                // Nothing from a non-member is committed unless the application admits it.
                assert!(!admitted);
                g.admit_proposal(&reference).unwrap();
            }
            other => panic!("expected a proposal, got {other:?}"),
        }
    }
}

fn deliver_commit(groups: &mut [&mut Group], msg: &MlsMessage) {
    for g in groups.iter_mut() {
        match g.process_message(msg).unwrap() {
            ProcessedMessage::Commit(staged) => g.merge_staged_commit(*staged).unwrap(),
            other => panic!("expected a commit, got {other:?}"),
        }
    }
}

/// Every proposal of the commit in `msg` is a reference (none by value).
fn all_by_reference(msg: &MlsMessage, count: usize) {
    let MlsMessageBody::PublicMessage(pm) = &msg.body else {
        panic!("not a PublicMessage")
    };
    let FramedContentBody::Commit(commit) = &pm.content.body else {
        panic!("not a commit")
    };
    assert_eq!(commit.proposals.len(), count);
    assert!(commit
        .proposals
        .iter()
        .all(|p| matches!(p, ProposalOrRef::Reference(_))));
}

#[test]
fn external_sender_removes_and_adds_members_committed_by_reference() {
    for suite in [1u16, 3] {
        let (server, [mut alice, mut bob, mut carol], mut r) = setup(suite, 10, true);
        let dave = bundle(suite, "dave", &mut r);
        let remove = server
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(Proposal::Remove(Remove { removed: 2 })),
                b"inactive",
            )
            .unwrap();
        let add_dave = server
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(add(&dave)),
                b"",
            )
            .unwrap();
        for m in [&remove, &add_dave] {
            deliver_proposal(&mut [&mut alice, &mut bob, &mut carol], m, 0);
        }
        // The cached external proposals survive a save and restore.
        let restored = Group::from_bytes(GroupConfig::default(), &bob.to_bytes().unwrap()).unwrap();
        assert_eq!(*restored.to_bytes().unwrap(), *bob.to_bytes().unwrap());
        let mut bob = restored;

        let out = bob.commit(vec![], &CommitOptions::at(NOW), &mut r).unwrap();
        all_by_reference(&out.commit, 2);
        bob.merge_pending_commit().unwrap();
        deliver_commit(&mut [&mut alice], &out.commit);
        // Carol learns she is removed.
        match carol.process_message(&out.commit).unwrap() {
            ProcessedMessage::Commit(staged) => {
                assert!(staged.removes_us());
                assert_eq!(staged.removed(), &[LeafIndex(2)]);
                carol.merge_staged_commit(*staged).unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert!(!carol.is_active());
        let dave = Group::join_welcome(
            GroupConfig::default(),
            welcome_of(out.welcome.as_ref().unwrap()),
            dave,
            None,
            vec![],
        )
        .unwrap();
        assert_agree(&[&alice, &bob, &dave]);
        assert_eq!(alice.member_count(), 3);
        let names: Vec<_> = alice.members().map(|(_, c)| c.clone()).collect();
        assert!(names.contains(&basic("dave")) && !names.contains(&basic("carol")));
    }
}

#[test]
fn external_sender_updates_external_senders_and_injects_a_psk() {
    let (server, [mut alice, mut bob, mut carol], mut r) = setup(1, 11, true);
    // The server adds a second external sender by a GroupContextExtensions proposal.
    let s = CipherSuite(1).suite().unwrap();
    let second = ExternalProposer::new(s.id(), SignaturePrivateKey::generate(&mut r), 1).unwrap();
    let senders = ExternalSender::extension(&[
        server.external_sender(basic("server")),
        second.external_sender(basic("recorder")),
    ])
    .unwrap();
    let gce = server
        .propose(
            alice.group_id(),
            alice.epoch(),
            crate::mls::Proposal(Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions: vec![senders.clone()],
            })),
            b"",
        )
        .unwrap();
    deliver_proposal(&mut [&mut alice, &mut bob, &mut carol], &gce, 0);
    let out = alice
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    all_by_reference(&out.commit, 1);
    alice.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut bob, &mut carol], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
    assert_eq!(alice.context().extensions, vec![senders]);

    // Now the second sender (index 1) is known: it proposes an external PSK.
    for g in [&mut alice, &mut bob, &mut carol] {
        g.add_external_psk(b"psk-1", Secret::from_slice(&[7; 32]).unwrap());
    }
    let psk = second
        .propose(
            alice.group_id(),
            alice.epoch(),
            crate::mls::Proposal(Proposal::PreSharedKey(Box::new(PreSharedKey {
                psk: PreSharedKeyId {
                    psk: Psk::External {
                        psk_id: b"psk-1".to_vec(),
                    },
                    psk_nonce: vec![1; 32],
                },
            }))),
            b"",
        )
        .unwrap();
    deliver_proposal(&mut [&mut alice, &mut bob, &mut carol], &psk, 1);
    let out = carol
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    all_by_reference(&out.commit, 1);
    carol.merge_pending_commit().unwrap();
    deliver_commit(&mut [&mut alice, &mut bob], &out.commit);
    assert_agree(&[&alice, &bob, &carol]);
}

#[test]
fn invalid_external_proposals_are_refused_and_commits_validate_extensions() {
    // §12.1.3: a Remove of a blank or missing leaf is invalid (§12.2: so is the list).
    let (server, [mut alice, ..], mut r) = setup(1, 12, true);
    let bad = server
        .propose(
            alice.group_id(),
            alice.epoch(),
            crate::mls::Proposal(Proposal::Remove(Remove { removed: 7 })),
            b"",
        )
        .unwrap();
    // It is refused on receipt (and so can never block a later commit).
    assert_eq!(
        alice.process_message(&bad).map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidProposalList))
    );
    assert_eq!(alice.pending_proposals().count(), 0);
    alice
        .commit(vec![], &CommitOptions::at(NOW), &mut r)
        .unwrap();
    alice.discard_pending_commit();

    // §5.3.1: a new `external_senders` extension's credentials are validated (the default
    // validator rejects an empty basic identity).
    let (server, [mut alice, ..], mut r) = setup(1, 13, true);
    let rejected = ExternalSender::extension(&[server.external_sender(basic(""))]).unwrap();
    let malformed = Extension {
        extension_type: crate::mls::wire::ExtensionType::EXTERNAL_SENDERS,
        extension_data: vec![0x05, 0x01, 0x02],
    };
    for (ext, err) in [
        (
            rejected,
            Error::PeerMisbehaved(PeerMisbehaved::CredentialRejected),
        ),
        (
            malformed,
            Error::InvalidMessage(crate::error::InvalidMessage::Truncated),
        ),
    ] {
        let gce = Proposal::GroupContextExtensions(GroupContextExtensions {
            extensions: vec![ext.clone()],
        });
        assert_eq!(
            alice
                .commit(
                    vec![crate::mls::Proposal(gce)],
                    &CommitOptions::at(NOW),
                    &mut r
                )
                .map(|_| ()),
            Err(err)
        );
        // And at group creation.
        let mut r2 = rng(14);
        assert_eq!(
            Group::create(
                GroupConfig::default(),
                bundle(1, "eve", &mut r2),
                b"g",
                vec![ext],
                &mut r2
            )
            .map(|_| ()),
            Err(err)
        );
    }
}

/// Signs `body` as `external(index)` with `signer` for `wire_format` and wraps it as a
/// PublicMessage, bypassing every check of the sending side.
fn forge(
    group: &Group,
    signer: &SignaturePrivateKey,
    index: u32,
    body: FramedContentBody,
    wire_format: WireFormat,
) -> MlsMessage {
    let content = FramedContent {
        group_id: group.group_id().to_vec(),
        epoch: group.epoch(),
        sender: Sender::External(index),
        authenticated_data: Vec::new(),
        body,
    };
    let is_commit = matches!(content.body, FramedContentBody::Commit(_));
    let mut auth =
        framing::sign_content(group.suite(), signer, wire_format, content, group.context())
            .unwrap();
    if is_commit {
        auth.auth.confirmation_tag = Some(vec![0; 32]);
    }
    MlsMessage {
        version: ProtocolVersion::MLS10,
        body: MlsMessageBody::PublicMessage(Box::new(PublicMessage {
            content: auth.content,
            auth: auth.auth,
            membership_tag: None,
        })),
    }
}

#[test]
fn rejected_external_messages_leave_the_group_unchanged() {
    let (server, [_alice, mut bob, _carol], mut r) = setup(1, 20, true);
    let s = *bob.suite();
    let server_key = SignaturePrivateKey::generate(&mut rng(20));
    // `setup` drew the server's key first from rng(20): the same key again.
    assert_eq!(
        server.external_sender(basic("x")).signature_key,
        server_key.public_key().to_bytes().to_vec()
    );
    let remove = || Proposal::Remove(Remove { removed: 0 });
    let genuine = server
        .propose(
            bob.group_id(),
            bob.epoch(),
            crate::mls::Proposal(remove()),
            b"",
        )
        .unwrap();
    let before = bob.to_bytes().unwrap();
    let mut cases: Vec<(&str, MlsMessage, Error)> = Vec::new();

    // §12.1.8: no `external_senders` extension in the group.
    let (_, [mut plain, ..], _) = setup(1, 21, false);
    let plain_before = plain.to_bytes().unwrap();
    let m = server
        .propose(
            plain.group_id(),
            plain.epoch(),
            crate::mls::Proposal(remove()),
            b"",
        )
        .unwrap();
    assert_eq!(
        plain.process_message(&m).map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::NoExternalSenders))
    );
    assert!(*plain_before == *plain.to_bytes().unwrap());

    // §6.1: `sender_index` outside `external_senders`.
    let stranger = ExternalProposer::new(s.id(), SignaturePrivateKey::generate(&mut r), 1).unwrap();
    cases.push((
        "index out of range",
        stranger
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(remove()),
                b"",
            )
            .unwrap(),
        PeerMisbehaved::UnknownExternalSender.into(),
    ));
    // §6.1: the signature must verify with the entry's key: a flipped bit, another key.
    let mut flipped = genuine.clone();
    public(&mut flipped).auth.signature[5] ^= 0x01;
    cases.push(("flipped signature", flipped, Error::AuthenticationFailed));
    let mut flipped = genuine.clone();
    public(&mut flipped).content.authenticated_data = b"x".to_vec();
    cases.push(("altered content", flipped, Error::AuthenticationFailed));
    let impostor = ExternalProposer::new(s.id(), SignaturePrivateKey::generate(&mut r), 0).unwrap();
    cases.push((
        "another key",
        impostor
            .propose(
                bob.group_id(),
                bob.epoch(),
                crate::mls::Proposal(remove()),
                b"",
            )
            .unwrap(),
        Error::AuthenticationFailed,
    ));
    // §6.2: no membership tag for a non-member sender.
    let mut tagged = genuine.clone();
    public(&mut tagged).membership_tag = Some(vec![0; 32]);
    cases.push((
        "membership tag",
        tagged,
        PeerMisbehaved::MembershipTagPresence.into(),
    ));
    // §6.1: the signature covers the wire format; one signed for a PrivateMessage does not
    // verify as a PublicMessage. (A PrivateMessage itself cannot name an external sender:
    // its sender is the member leaf of its encrypted sender data, §6.3.2.)
    cases.push((
        "signed for PrivateMessage",
        forge(
            &bob,
            &server_key,
            0,
            FramedContentBody::Proposal(remove()),
            WireFormat::MLS_PRIVATE_MESSAGE,
        ),
        Error::AuthenticationFailed,
    ));
    // §6.1: external senders send proposals only.
    cases.push((
        "commit",
        forge(
            &bob,
            &server_key,
            0,
            FramedContentBody::Commit(Box::new(Commit {
                proposals: vec![ProposalOrRef::Proposal(remove())],
                path: None,
            })),
            WireFormat::MLS_PUBLIC_MESSAGE,
        ),
        PeerMisbehaved::UnexpectedContentType.into(),
    ));
    cases.push((
        "application",
        forge(
            &bob,
            &server_key,
            0,
            FramedContentBody::Application(b"hello".to_vec()),
            WireFormat::MLS_PUBLIC_MESSAGE,
        ),
        PeerMisbehaved::UnexpectedContentType.into(),
    ));
    // §12.1.8: no Update or ExternalInit from external senders.
    let leaf = bob.tree().leaf(LeafIndex(1)).unwrap().clone();
    for p in [
        Proposal::Update(Box::new(Update { leaf_node: leaf })),
        Proposal::ExternalInit(ExternalInit {
            kem_output: vec![1; 32],
        }),
    ] {
        assert_eq!(
            server
                .propose(
                    bob.group_id(),
                    bob.epoch(),
                    crate::mls::Proposal(p.clone()),
                    b""
                )
                .map(|_| ()),
            Err(Error::ApiMisuse(ApiMisuse::ExternalProposalType))
        );
        cases.push((
            "update or external_init",
            forge(
                &bob,
                &server_key,
                0,
                FramedContentBody::Proposal(p),
                WireFormat::MLS_PUBLIC_MESSAGE,
            ),
            PeerMisbehaved::ExternalProposalType.into(),
        ));
    }
    // §12.4.2 / §6: the current epoch of this group only.
    for (epoch, want) in [
        (bob.epoch() + 1, Stale::FutureEpoch),
        (bob.epoch() - 1, Stale::PastEpoch),
    ] {
        cases.push((
            "wrong epoch",
            server
                .propose(bob.group_id(), epoch, crate::mls::Proposal(remove()), b"")
                .unwrap(),
            want.into(),
        ));
    }
    cases.push((
        "wrong group",
        server
            .propose(
                b"another meeting",
                bob.epoch(),
                crate::mls::Proposal(remove()),
                b"",
            )
            .unwrap(),
        PeerMisbehaved::WrongGroup.into(),
    ));

    for (what, msg, err) in &cases {
        assert_eq!(bob.process_message(msg).map(|_| ()), Err(*err), "{what}");
        assert!(
            *before == *bob.to_bytes().unwrap(),
            "{what}: a rejected message changed the group"
        );
        // Through the wire encoding too. A membership tag of a non-member sender cannot
        // even be encoded so that it decodes (§6.2: the field exists only for members):
        // its bytes are left over.
        let bytes = crate::codec::Encode::to_bytes(msg).unwrap();
        match <MlsMessage as crate::codec::Decode>::decode_exact(&bytes) {
            Ok(decoded) => {
                assert_eq!(
                    bob.process_message(&decoded).map(|_| ()),
                    Err(*err),
                    "{what}"
                );
            }
            Err(e) => {
                assert_eq!(*what, "membership tag");
                assert_eq!(
                    e,
                    Error::InvalidMessage(crate::error::InvalidMessage::TrailingBytes)
                );
            }
        }
        assert!(*before == *bob.to_bytes().unwrap(), "{what}");
    }
    assert_eq!(cases.len(), 13);
    // The genuine proposal is still accepted afterwards.
    deliver_proposal(&mut [&mut bob], &genuine, 0);
}

/// A validator that accepts members but not the meeting server's credential.
#[derive(Debug)]
struct NoServers;

impl crate::mls::validate::CredentialValidator for NoServers {
    fn validate(&self, credential: &Credential, _signature_key: &[u8]) -> crate::Result<()> {
        match credential {
            Credential::Basic { identity } if !identity.is_empty() && identity != b"server" => {
                Ok(())
            }
            _ => Err(PeerMisbehaved::CredentialRejected.into()),
        }
    }
}

/// RFC 9420 §5.3.1: a joiner validates the credentials of the group's external senders
/// with its own policy, from a Welcome and from a GroupInfo alike.
#[test]
fn joiners_validate_external_sender_credentials() {
    let (_, [mut alice, ..], mut r) = setup(1, 40, true);
    let strict = GroupConfig {
        credentials: std::sync::Arc::new(NoServers),
        ..GroupConfig::default()
    };
    let dave = bundle(1, "dave", &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&dave))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    let welcome = out.welcome.unwrap();
    assert_eq!(
        Group::join_welcome(strict.clone(), welcome_of(&welcome), dave, None, vec![]).map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::CredentialRejected))
    );
    alice.discard_pending_commit();
    let MlsMessageBody::GroupInfo(gi) = alice.group_info(true).unwrap().body else {
        panic!("not a GroupInfo")
    };
    let erin = bundle(1, "erin", &mut r);
    assert_eq!(
        Group::join_external(strict, &gi, erin, None, &mut r).map(|_| ()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::CredentialRejected))
    );
    // Under the default policy the server is acceptable and the join succeeds.
    let frank = bundle(1, "frank", &mut r);
    let out = alice
        .commit(
            vec![crate::mls::Proposal(add(&frank))],
            &CommitOptions::at(NOW),
            &mut r,
        )
        .unwrap();
    alice.merge_pending_commit().unwrap();
    let frank = Group::join_welcome(
        GroupConfig::default(),
        welcome_of(out.welcome.as_ref().unwrap()),
        frank,
        None,
        vec![],
    )
    .unwrap();
    assert_agree(&[&alice, &frank]);
}
