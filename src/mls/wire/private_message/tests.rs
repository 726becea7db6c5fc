use super::*;
use crate::mls::wire::framing::tests::{auth_for, bodies};
use crate::mls::wire::testing::check_round_trip;

fn sample(content_type: ContentType) -> PrivateMessage {
    PrivateMessage {
        group_id: b"group".to_vec(),
        epoch: 9,
        content_type,
        authenticated_data: vec![1, 2],
        encrypted_sender_data: vec![3; 28],
        ciphertext: vec![4; 100],
    }
}

#[test]
fn private_message_and_sender_data_round_trip() {
    for ct in [
        ContentType::Application,
        ContentType::Proposal,
        ContentType::Commit,
    ] {
        check_round_trip(&sample(ct));
    }
    let sd = SenderData {
        leaf_index: 5,
        generation: 0x0102_0304,
        reuse_guard: [9, 8, 7, 6],
    };
    assert_eq!(check_round_trip(&sd), [0, 0, 0, 5, 1, 2, 3, 4, 9, 8, 7, 6]);
}

#[test]
fn reserved_content_type_is_rejected() {
    let mut bytes = sample(ContentType::Commit).to_bytes().unwrap();
    // group_id (6) + epoch (8), then the content type.
    assert_eq!(bytes[14], 3);
    for bad in [0, 4] {
        bytes[14] = bad;
        assert_eq!(
            PrivateMessage::decode_exact(&bytes),
            Err(InvalidMessage::InvalidValue.into())
        );
    }
}

#[test]
fn aads_are_prefixes_of_the_message() {
    let m = sample(ContentType::Application);
    let full = m.to_bytes().unwrap();
    let sender_aad = m.sender_data_aad().unwrap();
    assert_eq!(sender_aad, &full[..15]);
    let content_aad = m.content_aad().unwrap();
    assert_eq!(content_aad, &full[..18]);
}

#[test]
fn content_round_trips_with_padding_for_every_body() {
    for body in bodies() {
        let ct = body.content_type();
        for padding_len in [0, 1, 100] {
            let pmc = PrivateMessageContent {
                auth: auth_for(ct),
                body: body.clone(),
                padding_len,
            };
            let bytes = pmc.to_bytes().unwrap();
            assert_eq!(
                PrivateMessageContent::decode_plaintext(&bytes, ct).unwrap(),
                pmc
            );
            assert!(bytes.ends_with(&vec![0; padding_len]));
        }
    }
}

#[test]
fn non_zero_padding_is_rejected() {
    let pmc = PrivateMessageContent {
        body: FramedContentBody::Application(b"hi".to_vec()),
        auth: auth_for(ContentType::Application),
        padding_len: 8,
    };
    let bytes = pmc.to_bytes().unwrap();
    for i in bytes.len() - 8..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] = 0x80;
        assert_eq!(
            PrivateMessageContent::decode_plaintext(&bad, ContentType::Application),
            Err(InvalidMessage::NonZeroPadding.into())
        );
    }
}

#[test]
fn content_of_the_wrong_type_or_truncated_is_rejected() {
    let pmc = PrivateMessageContent {
        body: FramedContentBody::Application(vec![0x41; 70]),
        auth: auth_for(ContentType::Application),
        padding_len: 0,
    };
    let bytes = pmc.to_bytes().unwrap();
    // Without padding, every strict prefix cuts a field.
    for cut in 0..bytes.len() {
        assert!(
            PrivateMessageContent::decode_plaintext(&bytes[..cut], ContentType::Application)
                .is_err_and(|e| e == crate::Error::InvalidMessage(InvalidMessage::Truncated)),
            "prefix {cut}"
        );
    }
    // Read as a commit, the application bytes are not a valid Commit.
    assert!(
        PrivateMessageContent::decode_plaintext(&bytes, ContentType::Commit)
            .is_err_and(|e| e == crate::Error::InvalidMessage(InvalidMessage::InvalidValue))
    );
}
