use super::*;
use crate::mls::wire::framing::tests::{auth_for, content};
use crate::mls::wire::key_package::tests::sample as sample_key_package;
use crate::mls::wire::testing::check_round_trip;
use crate::mls::wire::welcome::tests::{group_info, welcome};
use crate::mls::wire::{ContentType, FramedContentBody, Sender};

fn public(sender: Sender) -> PublicMessage {
    PublicMessage {
        content: content(sender, FramedContentBody::Application(b"x".to_vec())),
        auth: auth_for(ContentType::Application),
        membership_tag: matches!(sender, Sender::Member(_)).then(|| vec![0x3b; 32]),
    }
}

fn every_message() -> Vec<MlsMessage> {
    vec![
        MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(public(
            Sender::Member(1),
        )))),
        MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(public(
            Sender::External(0),
        )))),
        MlsMessage::new(MlsMessageBody::PrivateMessage(PrivateMessage {
            group_id: b"g".to_vec(),
            epoch: 1,
            content_type: ContentType::Proposal,
            authenticated_data: vec![],
            encrypted_sender_data: vec![1; 28],
            ciphertext: vec![2; 50],
        })),
        MlsMessage::new(MlsMessageBody::Welcome(welcome())),
        MlsMessage::new(MlsMessageBody::GroupInfo(Box::new(group_info()))),
        MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(sample_key_package()))),
    ]
}

#[test]
fn every_wire_format_round_trips_and_every_truncation_fails() {
    for (i, m) in every_message().iter().enumerate() {
        let bytes = check_round_trip(m);
        assert_eq!(bytes[..2], [0, 1]);
        assert_eq!(bytes[2..4], m.wire_format().0.to_be_bytes(), "message {i}");
    }
}

#[test]
fn membership_tag_follows_the_sender_type() {
    // A member's PublicMessage without its tag is truncated; an external sender's
    // message followed by a tag has trailing bytes.
    let member = MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(public(
        Sender::Member(1),
    ))));
    let bytes = member.to_bytes().unwrap();
    assert_eq!(
        MlsMessage::decode_exact(&bytes[..bytes.len() - 33]),
        Err(InvalidMessage::Truncated.into())
    );
    let mut external = public(Sender::External(0));
    external.membership_tag = Some(vec![1; 32]);
    let bytes = MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(external)))
        .to_bytes()
        .unwrap();
    assert_eq!(
        MlsMessage::decode_exact(&bytes),
        Err(InvalidMessage::TrailingBytes.into())
    );
}

#[test]
fn version_and_wire_format_are_checked() {
    let bytes = every_message()[3].to_bytes().unwrap();
    let with = |pos: usize, v: [u8; 2]| {
        let mut b = bytes.clone();
        b[pos..pos + 2].copy_from_slice(&v);
        MlsMessage::decode_exact(&b)
    };
    assert_eq!(with(0, [0, 0]), Err(InvalidMessage::InvalidValue.into()));
    assert_eq!(with(0, [0, 2]), Err(Unsupported::ProtocolVersion(2).into()));
    assert_eq!(with(2, [0, 0]), Err(InvalidMessage::InvalidValue.into()));
    assert_eq!(with(2, [0, 6]), Err(Unsupported::WireFormat(6).into()));
    assert_eq!(
        with(2, [0xf0, 0]),
        Err(Unsupported::WireFormat(0xf000).into())
    );
}

#[test]
fn key_package_version_must_match_the_message() {
    let mut kp = sample_key_package();
    kp.version = ProtocolVersion(2);
    let bytes = MlsMessage::new(MlsMessageBody::KeyPackage(Box::new(kp)))
        .to_bytes()
        .unwrap();
    assert_eq!(
        MlsMessage::decode_exact(&bytes),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn public_message_tbm_is_tbs_then_auth() {
    let ctx = crate::mls::wire::framing::tests::group_context();
    let m = public(Sender::Member(1));
    let tbm = m.to_be_maced(&ctx).unwrap();
    let mut expected = m
        .content
        .to_be_signed(WireFormat::MLS_PUBLIC_MESSAGE, &ctx)
        .unwrap();
    expected.extend(m.auth.to_bytes().unwrap());
    assert_eq!(tbm, expected);
}
