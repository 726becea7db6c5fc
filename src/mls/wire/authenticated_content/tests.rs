use serde::Deserialize;

use super::*;
use crate::crypto::{CipherSuite, Mac, Secret};
use crate::error::InvalidMessage;
use crate::mls::wire::framing::tests::{auth_for, bodies, content, SENDERS};
use crate::mls::wire::testing::check_bytes;
use crate::mls::wire::Sender;

#[test]
fn round_trips_for_every_sender_and_body() {
    for sender in SENDERS {
        for body in bodies() {
            let ac = AuthenticatedContent {
                wire_format: WireFormat::MLS_PRIVATE_MESSAGE,
                auth: auth_for(body.content_type()),
                content: content(sender, body),
            };
            let bytes = ac.to_bytes().unwrap();
            check_bytes::<AuthenticatedContent>(&bytes);
            assert_eq!(AuthenticatedContent::decode_exact(&bytes).unwrap(), ac);
        }
    }
}

#[test]
fn reserved_wire_format_is_rejected_and_unknown_kept() {
    let body = bodies().remove(0);
    let ac = AuthenticatedContent {
        wire_format: WireFormat(0xf000),
        auth: auth_for(body.content_type()),
        content: content(Sender::Member(0), body),
    };
    let mut bytes = ac.to_bytes().unwrap();
    assert_eq!(AuthenticatedContent::decode_exact(&bytes).unwrap(), ac);
    bytes[0] = 0;
    bytes[1] = 0;
    assert_eq!(
        AuthenticatedContent::decode_exact(&bytes),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn transcript_inputs_exist_only_for_commits() {
    for body in bodies() {
        let ct = body.content_type();
        let ac = AuthenticatedContent {
            wire_format: WireFormat::MLS_PUBLIC_MESSAGE,
            auth: auth_for(ct),
            content: content(Sender::Member(1), body),
        };
        let confirmed = ac.confirmed_transcript_hash_input();
        let interim = ac.interim_transcript_hash_input();
        if ct == ContentType::Commit {
            let bytes = confirmed.unwrap().to_bytes().unwrap();
            let full = ac.to_bytes().unwrap();
            // AuthenticatedContent = ConfirmedTranscriptHashInput || confirmation_tag<V>.
            assert_eq!(bytes, &full[..full.len() - 33]);
            assert_eq!(
                interim.unwrap().to_bytes().unwrap(),
                &full[full.len() - 33..]
            );
        } else {
            assert_eq!(
                confirmed.unwrap_err(),
                PeerMisbehaved::UnexpectedContentType.into()
            );
            assert_eq!(
                interim.unwrap_err(),
                PeerMisbehaved::UnexpectedContentType.into()
            );
        }
    }
}

#[derive(Deserialize)]
struct TranscriptCase {
    cipher_suite: u16,
    confirmation_key: String,
    authenticated_content: String,
    interim_transcript_hash_before: String,
    confirmed_transcript_hash_after: String,
    interim_transcript_hash_after: String,
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The transcript-hashes vectors: `authenticated_content` decodes, re-encodes identically,
/// and the transcript inputs built from it reproduce the hashes and confirmation tag.
#[test]
fn transcript_hash_vectors() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/vectors/mls/transcript-hashes.json"
    );
    let cases: Vec<TranscriptCase> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ran = 0;
    for (i, case) in cases.iter().enumerate() {
        let suite = CipherSuite(case.cipher_suite).suite().unwrap();
        let bytes = hex(&case.authenticated_content);
        check_bytes::<AuthenticatedContent>(&bytes);
        let ac = AuthenticatedContent::decode_exact(&bytes).unwrap();
        assert_eq!(ac.content.content_type(), ContentType::Commit, "case {i}");

        let confirmed_input = ac
            .confirmed_transcript_hash_input()
            .unwrap()
            .to_bytes()
            .unwrap();
        let interim_before = hex(&case.interim_transcript_hash_before);
        let confirmed = suite.hash_parts(&[&interim_before, &confirmed_input]);
        assert_eq!(
            confirmed.as_bytes(),
            hex(&case.confirmed_transcript_hash_after)
        );

        let key = Secret::from_slice(&hex(&case.confirmation_key)).unwrap();
        let tag = ac.auth.confirmation_tag.as_deref().unwrap();
        assert_eq!(
            suite.mac(&key, confirmed.as_bytes()),
            Mac::from_slice(tag).unwrap()
        );

        let interim_input = ac
            .interim_transcript_hash_input()
            .unwrap()
            .to_bytes()
            .unwrap();
        let interim = suite.hash_parts(&[confirmed.as_bytes(), &interim_input]);
        assert_eq!(interim.as_bytes(), hex(&case.interim_transcript_hash_after));
        ran += 1;
    }
    println!("transcript-hashes: {ran} cases");
    assert!(ran > 0);
}
