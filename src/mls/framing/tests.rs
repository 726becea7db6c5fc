//! Tests of content signing, proposal references and PublicMessage protection.

use crate::codec::{Decode, Encode};
use crate::crypto::{sha256, SignaturePrivateKey};
use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved};
use crate::mls::key_schedule::MembershipKey;
use crate::mls::secret_tree::RatchetKind;
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{
    FramedContentBody, MlsMessage, MlsMessageBody, PublicMessage, Sender, WireFormat,
};

use super::testing::{
    application, commit, ctx, membership_key, proposal, secret_tree, signed, signer, suite,
};
use super::{proposal_ref, protect_public, unprotect_public, verify_content_signature};

fn public(sender: Sender, body: FramedContentBody) -> PublicMessage {
    let auth = signed(WireFormat::MLS_PUBLIC_MESSAGE, sender, body);
    protect_public(&suite(), auth, Some(&membership_key()), &ctx()).unwrap()
}

/// Sends `msg` through the wire encoding and back.
fn over_the_wire(msg: PublicMessage) -> PublicMessage {
    let bytes = MlsMessage::new(MlsMessageBody::PublicMessage(Box::new(msg)))
        .to_bytes()
        .unwrap();
    match MlsMessage::decode_exact(&bytes).unwrap().body {
        MlsMessageBody::PublicMessage(m) => *m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn public_messages_round_trip_for_each_allowed_sender() {
    let cases = [
        (Sender::Member(1), proposal(), true),
        (Sender::Member(0), commit(), true),
        (Sender::External(0), proposal(), false),
        (Sender::NewMemberCommit, commit(), false),
    ];
    for (sender, body, tagged) in cases {
        let auth = signed(WireFormat::MLS_PUBLIC_MESSAGE, sender, body);
        let msg = over_the_wire(
            protect_public(&suite(), auth.clone(), Some(&membership_key()), &ctx()).unwrap(),
        );
        assert_eq!(msg.membership_tag.is_some(), tagged, "{sender:?}");
        // Receivers always hold the membership key; non-member messages ignore it.
        let got = unprotect_public(&suite(), &msg, Some(&membership_key()), &ctx()).unwrap();
        assert_eq!(got, auth);
        verify_content_signature(&suite(), &signer().public_key(), &got, &ctx()).unwrap();
        if !tagged {
            // Non-members have no membership key at all.
            let no_key = protect_public(&suite(), auth.clone(), None, &ctx()).unwrap();
            assert_eq!(
                unprotect_public(&suite(), &no_key, None, &ctx()).unwrap(),
                auth
            );
        }
    }
}

#[test]
fn a_tampered_or_wrongly_keyed_membership_tag_fails() {
    let msg = public(Sender::Member(1), proposal());
    let tag = msg.membership_tag.clone().unwrap();
    for i in 0..tag.len() {
        let mut bad = msg.clone();
        bad.membership_tag.as_mut().unwrap()[i] ^= 1;
        assert_eq!(
            unprotect_public(&suite(), &bad, Some(&membership_key()), &ctx()),
            Err(Error::AuthenticationFailed)
        );
    }
    let mut short = msg.clone();
    short.membership_tag.as_mut().unwrap().pop();
    assert_eq!(
        unprotect_public(&suite(), &short, Some(&membership_key()), &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut long = msg.clone();
    long.membership_tag = Some(vec![0; 65]);
    assert_eq!(
        unprotect_public(&suite(), &long, Some(&membership_key()), &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let other_key = MembershipKey::from_slice(&[8; 32]).unwrap();
    assert_eq!(
        unprotect_public(&suite(), &msg, Some(&other_key), &ctx()),
        Err(Error::AuthenticationFailed)
    );
    // The tag covers the content, the auth data and the group context.
    let mut bad = msg.clone();
    bad.content.authenticated_data.push(0);
    assert_eq!(
        unprotect_public(&suite(), &bad, Some(&membership_key()), &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut bad = msg.clone();
    bad.auth.signature[0] ^= 1;
    assert_eq!(
        unprotect_public(&suite(), &bad, Some(&membership_key()), &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut other_ctx = ctx();
    other_ctx.tree_hash[0] ^= 1;
    assert_eq!(
        unprotect_public(&suite(), &msg, Some(&membership_key()), &other_ctx),
        Err(Error::AuthenticationFailed)
    );
    assert!(unprotect_public(&suite(), &msg, Some(&membership_key()), &ctx()).is_ok());
}

#[test]
fn membership_tag_must_be_present_exactly_for_members() {
    let mut missing = public(Sender::Member(1), proposal());
    missing.membership_tag = None;
    assert_eq!(
        unprotect_public(&suite(), &missing, Some(&membership_key()), &ctx()),
        Err(PeerMisbehaved::MembershipTagPresence.into())
    );
    let mut unexpected = public(Sender::External(0), proposal());
    unexpected.membership_tag = Some(vec![0; 32]);
    assert_eq!(
        unprotect_public(&suite(), &unexpected, Some(&membership_key()), &ctx()),
        Err(PeerMisbehaved::MembershipTagPresence.into())
    );
    // A member's message needs the key on both sides.
    let msg = public(Sender::Member(1), proposal());
    assert_eq!(
        unprotect_public(&suite(), &msg, None, &ctx()),
        Err(ApiMisuse::MissingKey.into())
    );
    let auth = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    assert_eq!(
        protect_public(&suite(), auth, None, &ctx()),
        Err(ApiMisuse::MissingKey.into())
    );
}

#[test]
fn application_data_is_never_a_public_message() {
    let auth = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        application(),
    );
    assert_eq!(
        protect_public(&suite(), auth.clone(), Some(&membership_key()), &ctx()),
        Err(ApiMisuse::UnexpectedContentType.into())
    );
    // Built by hand, with a valid tag, it is still refused.
    let mut msg = PublicMessage {
        content: auth.content,
        auth: auth.auth,
        membership_tag: None,
    };
    let tbm = msg.to_be_maced(&ctx()).unwrap();
    msg.membership_tag = Some(
        membership_key()
            .membership_tag(&suite(), &tbm)
            .as_bytes()
            .to_vec(),
    );
    assert_eq!(
        unprotect_public(&suite(), &msg, Some(&membership_key()), &ctx()),
        Err(PeerMisbehaved::UnexpectedContentType.into())
    );
}

#[test]
fn sender_types_may_send_only_their_content_types() {
    let refused = [
        (Sender::External(0), commit()),
        (Sender::NewMemberCommit, proposal()),
        // new_member_proposal may only send Add.
        (Sender::NewMemberProposal, proposal()),
        (Sender::NewMemberProposal, commit()),
    ];
    for (sender, body) in refused {
        let auth = signed(WireFormat::MLS_PUBLIC_MESSAGE, sender, body);
        assert_eq!(
            protect_public(&suite(), auth.clone(), None, &ctx()),
            Err(ApiMisuse::UnexpectedContentType.into()),
            "{sender:?}"
        );
        let msg = PublicMessage {
            content: auth.content,
            auth: auth.auth,
            membership_tag: None,
        };
        assert_eq!(
            unprotect_public(&suite(), &msg, None, &ctx()),
            Err(PeerMisbehaved::UnexpectedContentType.into()),
            "{sender:?}"
        );
    }
}

#[test]
fn wrong_group_epoch_wire_format_or_confirmation_tag_is_refused() {
    let msg = public(Sender::Member(1), commit());
    let mut other = ctx();
    other.group_id = b"other".to_vec();
    assert_eq!(
        unprotect_public(&suite(), &msg, Some(&membership_key()), &other),
        Err(PeerMisbehaved::WrongGroup.into())
    );
    let mut other = ctx();
    other.epoch += 1;
    assert_eq!(
        unprotect_public(&suite(), &msg, Some(&membership_key()), &other),
        Err(PeerMisbehaved::WrongEpoch.into())
    );

    let private = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    assert_eq!(
        protect_public(&suite(), private, Some(&membership_key()), &ctx()),
        Err(ApiMisuse::WireFormatMismatch.into())
    );

    let mut untagged = signed(WireFormat::MLS_PUBLIC_MESSAGE, Sender::Member(1), commit());
    untagged.auth.confirmation_tag = None;
    assert_eq!(
        protect_public(&suite(), untagged, Some(&membership_key()), &ctx()),
        Err(ApiMisuse::ConfirmationTagPresence.into())
    );
    let mut tagged = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    tagged.auth.confirmation_tag = Some(vec![1; 32]);
    assert_eq!(
        protect_public(&suite(), tagged, Some(&membership_key()), &ctx()),
        Err(ApiMisuse::ConfirmationTagPresence.into())
    );
    let mut bad = msg;
    bad.auth.confirmation_tag = None;
    assert_eq!(
        unprotect_public(&suite(), &bad, Some(&membership_key()), &ctx()),
        Err(InvalidMessage::InvalidValue.into())
    );
}

#[test]
fn signatures_bind_key_wire_format_content_and_context() {
    let auth = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    let key = signer().public_key();
    verify_content_signature(&suite(), &key, &auth, &ctx()).unwrap();
    let other = SignaturePrivateKey::from_seed(&[8; 32])
        .unwrap()
        .public_key();
    assert_eq!(
        verify_content_signature(&suite(), &other, &auth, &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut as_private = auth.clone();
    as_private.wire_format = WireFormat::MLS_PRIVATE_MESSAGE;
    assert_eq!(
        verify_content_signature(&suite(), &key, &as_private, &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut changed = auth.clone();
    changed.content.authenticated_data.clear();
    assert_eq!(
        verify_content_signature(&suite(), &key, &changed, &ctx()),
        Err(Error::AuthenticationFailed)
    );
    let mut other_ctx = ctx();
    other_ctx.confirmed_transcript_hash[0] ^= 1;
    assert_eq!(
        verify_content_signature(&suite(), &key, &auth, &other_ctx),
        Err(Error::AuthenticationFailed)
    );
    // An external sender's signature does not cover the group context.
    let external = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::External(0),
        proposal(),
    );
    verify_content_signature(&suite(), &key, &external, &other_ctx).unwrap();
    // The confirmation tag is not signed.
    let mut commit = signed(WireFormat::MLS_PUBLIC_MESSAGE, Sender::Member(1), commit());
    commit.auth.confirmation_tag = Some(vec![0; 32]);
    verify_content_signature(&suite(), &key, &commit, &ctx()).unwrap();
}

#[test]
fn proposal_ref_is_the_ref_hash_of_the_authenticated_content() {
    let auth = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    let value = auth.to_bytes().unwrap();
    let label = b"MLS 1.0 Proposal Reference";
    // RefHashInput { opaque label<V>; opaque value<V>; }, built by hand.
    let mut input = vec![u8::try_from(label.len()).unwrap()];
    input.extend_from_slice(label);
    let len = u16::try_from(value.len()).unwrap();
    assert!((64..16384).contains(&len));
    input.extend_from_slice(&(len | 0x4000).to_be_bytes());
    input.extend_from_slice(&value);
    assert_eq!(
        proposal_ref(&suite(), &auth).unwrap(),
        sha256(&input).as_bytes()
    );
    let mut private = auth.clone();
    private.wire_format = WireFormat::MLS_PRIVATE_MESSAGE;
    assert_ne!(
        proposal_ref(&suite(), &private).unwrap(),
        proposal_ref(&suite(), &auth).unwrap()
    );
    let commit = signed(WireFormat::MLS_PUBLIC_MESSAGE, Sender::Member(1), commit());
    assert_eq!(
        proposal_ref(&suite(), &commit),
        Err(ApiMisuse::UnexpectedContentType.into())
    );
}

#[test]
fn secret_tree_fixtures_agree() {
    // The private-message tests rely on two trees from the same secret agreeing.
    let (mut a, mut b) = (secret_tree(4), secret_tree(4));
    let kind = RatchetKind::Handshake;
    let (g, key, nonce) = a.next_sending_key(LeafIndex(1), kind).unwrap();
    b.open_with(LeafIndex(1), kind, g, |k, n| {
        assert!(*k == key && *n == nonce);
        Ok(())
    })
    .unwrap();
}
