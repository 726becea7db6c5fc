//! RFC 9420 "Messages" vectors (`vectors/mls/messages.json`): every field decodes as its
//! structure and re-encodes to exactly the same bytes.

// Test helpers panic with the case and field that failed.
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use crate::test_support as common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::codec::{Decode, Encode};
use crate::error::{Error, InvalidMessage};
use crate::mls::wire::{
    Add, Commit, ExternalInit, GroupContextExtensions, GroupSecrets, MlsMessage, MlsMessageBody,
    PreSharedKey, RatchetTree, ReInit, Remove, Update, WireFormat,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    mls_welcome: String,
    mls_group_info: String,
    mls_key_package: String,
    ratchet_tree: String,
    group_secrets: String,
    add_proposal: String,
    update_proposal: String,
    remove_proposal: String,
    pre_shared_key_proposal: String,
    re_init_proposal: String,
    external_init_proposal: String,
    group_context_extensions_proposal: String,
    commit: String,
    public_message_application: String,
    public_message_proposal: String,
    public_message_commit: String,
    private_message: String,
}

/// Fields decoded and re-encoded identically.
static FIELDS: AtomicUsize = AtomicUsize::new(0);

/// Decodes `hex` as `T` (all bytes), re-encodes it and compares; checks that one byte less
/// fails and one byte more is `TrailingBytes`.
fn round_trip<T: Decode + Encode + core::fmt::Debug>(case: usize, field: &str, hex: &str) -> T {
    let bytes = common::hex(hex);
    let value = T::decode_exact(&bytes)
        .unwrap_or_else(|e| panic!("case {case} field {field}: decode failed: {e}"));
    let again = value
        .to_bytes()
        .unwrap_or_else(|e| panic!("case {case} field {field}: encode failed: {e}"));
    assert!(
        again == bytes,
        "case {case} field {field}: re-encoding differs"
    );
    // Negative checks on the same bytes: one byte short, one byte long.
    assert!(
        T::decode_exact(&bytes[..bytes.len() - 1])
            .is_err_and(|e| e == Error::InvalidMessage(InvalidMessage::Truncated)),
        "case {case} field {field}: truncated input decoded"
    );
    let mut longer = bytes;
    longer.push(0);
    assert_eq!(
        T::decode_exact(&longer).unwrap_err(),
        Error::InvalidMessage(InvalidMessage::TrailingBytes),
        "case {case} field {field}"
    );
    FIELDS.fetch_add(1, Ordering::Relaxed);
    value
}

/// An MLSMessage field: round-trips and has the expected wire format.
fn message(case: usize, field: &str, hex: &str, wire_format: WireFormat) -> MlsMessage {
    let m: MlsMessage = round_trip(case, field, hex);
    assert_eq!(m.wire_format(), wire_format, "case {case} field {field}");
    m
}

#[test]
fn messages_vectors_decode_and_re_encode_identically() {
    let cases: Vec<Case> = common::load("mls/messages.json");
    let mut per_suite: BTreeMap<u16, usize> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        let kp = message(
            i,
            "mls_key_package",
            &c.mls_key_package,
            WireFormat::MLS_KEY_PACKAGE,
        );
        let MlsMessageBody::KeyPackage(kp) = kp.body else {
            unreachable!("wire format checked above")
        };
        *per_suite.entry(kp.cipher_suite.0).or_default() += 1;

        message(i, "mls_welcome", &c.mls_welcome, WireFormat::MLS_WELCOME);
        message(
            i,
            "mls_group_info",
            &c.mls_group_info,
            WireFormat::MLS_GROUP_INFO,
        );
        round_trip::<RatchetTree>(i, "ratchet_tree", &c.ratchet_tree);
        round_trip::<GroupSecrets>(i, "group_secrets", &c.group_secrets);
        round_trip::<Add>(i, "add_proposal", &c.add_proposal);
        round_trip::<Update>(i, "update_proposal", &c.update_proposal);
        round_trip::<Remove>(i, "remove_proposal", &c.remove_proposal);
        round_trip::<PreSharedKey>(i, "pre_shared_key_proposal", &c.pre_shared_key_proposal);
        round_trip::<ReInit>(i, "re_init_proposal", &c.re_init_proposal);
        round_trip::<ExternalInit>(i, "external_init_proposal", &c.external_init_proposal);
        round_trip::<GroupContextExtensions>(
            i,
            "group_context_extensions_proposal",
            &c.group_context_extensions_proposal,
        );
        round_trip::<Commit>(i, "commit", &c.commit);
        for (field, hex, content_type) in [
            (
                "public_message_application",
                &c.public_message_application,
                1,
            ),
            ("public_message_proposal", &c.public_message_proposal, 2),
            ("public_message_commit", &c.public_message_commit, 3),
        ] {
            let m = message(i, field, hex, WireFormat::MLS_PUBLIC_MESSAGE);
            let MlsMessageBody::PublicMessage(pm) = m.body else {
                unreachable!("wire format checked above")
            };
            let got = pm.content.content_type().to_bytes().unwrap();
            assert_eq!(got, [content_type], "case {i} field {field}");
        }
        message(
            i,
            "private_message",
            &c.private_message,
            WireFormat::MLS_PRIVATE_MESSAGE,
        );
    }
    let fields = FIELDS.load(Ordering::Relaxed);
    println!(
        "messages.json: {} cases, {fields} fields round-tripped",
        cases.len()
    );
    for (suite, n) in &per_suite {
        println!("  cipher suite {suite}: {n} cases");
    }
    assert_eq!(cases.len(), 300);
    assert_eq!(fields, 300 * 17);
    assert!(fields > 0);
}
