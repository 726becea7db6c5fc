use super::*;
use crate::crypto::CipherSuite;
use crate::mls::wire::commit::tests::sample as sample_commit;
use crate::mls::wire::proposal::tests::every_proposal;
use crate::mls::wire::testing::check_round_trip;
use crate::mls::wire::Remove;

pub(crate) fn bodies() -> Vec<FramedContentBody> {
    let mut bodies = vec![
        FramedContentBody::Application(b"hello".to_vec()),
        FramedContentBody::Commit(Box::new(sample_commit())),
    ];
    bodies.extend(
        every_proposal()
            .into_iter()
            .map(FramedContentBody::Proposal),
    );
    bodies
}

pub(crate) const SENDERS: [Sender; 4] = [
    Sender::Member(3),
    Sender::External(1),
    Sender::NewMemberProposal,
    Sender::NewMemberCommit,
];

pub(crate) fn content(sender: Sender, body: FramedContentBody) -> FramedContent {
    FramedContent {
        group_id: b"group".to_vec(),
        epoch: 42,
        sender,
        authenticated_data: vec![0xaa; 3],
        body,
    }
}

pub(crate) fn auth_for(content_type: ContentType) -> FramedContentAuthData {
    FramedContentAuthData {
        signature: vec![0x51; 64],
        confirmation_tag: (content_type == ContentType::Commit).then(|| vec![0xc7; 32]),
    }
}

pub(crate) fn group_context() -> GroupContext {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(1),
        group_id: b"group".to_vec(),
        epoch: 42,
        tree_hash: vec![1; 32],
        confirmed_transcript_hash: vec![2; 32],
        extensions: vec![],
    }
}

#[test]
fn content_with_every_sender_and_body_round_trips() {
    for sender in SENDERS {
        check_round_trip(&sender);
        for body in bodies() {
            check_round_trip(&content(sender, body));
        }
    }
    for ct in [
        ContentType::Application,
        ContentType::Proposal,
        ContentType::Commit,
    ] {
        check_round_trip(&ct);
    }
}

#[test]
fn reserved_and_unknown_enum_values_are_rejected() {
    for bad in [0, 4, 255] {
        assert_eq!(
            ContentType::decode_exact(&[bad]),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
    for bad in [0, 5, 255] {
        assert_eq!(
            Sender::decode_exact(&[bad]),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
    let mut bytes = content(
        Sender::NewMemberCommit,
        FramedContentBody::Application(vec![]),
    )
    .to_bytes()
    .unwrap();
    // group_id (6) + epoch (8) + sender (1) + authenticated_data (4): then the content type.
    assert_eq!(bytes[19], 1);
    bytes[19] = 0;
    assert_eq!(
        FramedContent::decode_exact(&bytes),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn auth_data_has_a_confirmation_tag_only_for_commits() {
    let bytes = [1, 0x51, 2, 0xc7, 0xc7];
    let commit = FramedContentAuthData::decode_for(&mut Reader::new(&bytes), ContentType::Commit);
    assert_eq!(
        commit.unwrap(),
        FramedContentAuthData {
            signature: vec![0x51],
            confirmation_tag: Some(vec![0xc7, 0xc7]),
        }
    );
    for ct in [ContentType::Application, ContentType::Proposal] {
        let mut r = Reader::new(&bytes);
        let auth = FramedContentAuthData::decode_for(&mut r, ct).unwrap();
        assert_eq!(auth.confirmation_tag, None);
        assert_eq!(r.remaining(), &bytes[2..]);
    }
    // A commit's auth data without its tag is truncated.
    assert_eq!(
        FramedContentAuthData::decode_for(&mut Reader::new(&bytes[..2]), ContentType::Commit),
        Err(InvalidMessage::Truncated.into())
    );
}

#[test]
fn tbs_includes_the_group_context_only_for_member_and_new_member_commit() {
    let ctx = group_context();
    let ctx_bytes = ctx.to_bytes().unwrap();
    for sender in SENDERS {
        let c = content(
            sender,
            FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 1 })),
        );
        let tbs = c
            .to_be_signed(WireFormat::MLS_PUBLIC_MESSAGE, &ctx)
            .unwrap();
        let mut expected = vec![0, 1, 0, 1];
        expected.extend(c.to_bytes().unwrap());
        if matches!(sender, Sender::Member(_) | Sender::NewMemberCommit) {
            expected.extend(&ctx_bytes);
        }
        assert_eq!(tbs, expected, "{sender:?}");
    }
}
