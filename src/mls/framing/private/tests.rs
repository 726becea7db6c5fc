//! Tests of PrivateMessage protection: round trips and every rejection, each leaving the
//! receiver's secret tree able to open the genuine message afterwards.

use rand_core::SeedableRng;

use super::*;
use crate::error::{Error, InvalidMessage, Stale};
use crate::mls::framing::testing::{
    application, commit, ctx, proposal, proposal_plaintext, protect, rng, seal_raw, secret_tree,
    sender_data_secret, signed, signer, suite, unprotect,
};
use crate::mls::framing::verify_content_signature;
use crate::mls::secret_tree::RatchetKind;
use crate::mls::wire::{ContentType, MlsMessage, MlsMessageBody};

#[test]
fn private_messages_round_trip_for_every_content_type_and_padding() {
    let (mut sender, mut receiver) = (secret_tree(4), secret_tree(4));
    for (i, body) in [proposal(), commit(), application()]
        .into_iter()
        .enumerate()
    {
        for padding in [0, 1, 37] {
            let auth = signed(
                WireFormat::MLS_PRIVATE_MESSAGE,
                Sender::Member(1),
                body.clone(),
            );
            let msg = protect_private(
                &suite(),
                &auth,
                &mut sender,
                &sender_data_secret(),
                LeafIndex(1),
                padding,
                &mut rng(),
            )
            .unwrap();
            let bytes = MlsMessage::new(MlsMessageBody::PrivateMessage(msg))
                .to_bytes()
                .unwrap();
            let MlsMessageBody::PrivateMessage(msg) =
                MlsMessage::decode_exact(&bytes).unwrap().body
            else {
                panic!("not a PrivateMessage");
            };
            let (got, sd) = unprotect(&mut receiver, &msg).unwrap();
            assert_eq!(got, auth, "{i} {padding}");
            assert_eq!(sd.leaf_index, 1);
            verify_content_signature(&suite(), &signer().public_key(), &got, &ctx()).unwrap();
        }
    }
    // Proposals and commits share the handshake ratchet; application data has its own.
    let next = protect(&mut sender, proposal(), 0);
    assert_eq!(unprotect(&mut receiver, &next).unwrap().1.generation, 6);
    let next = protect(&mut sender, application(), 0);
    assert_eq!(unprotect(&mut receiver, &next).unwrap().1.generation, 3);
}

#[test]
fn out_of_order_messages_open_once_and_replays_are_stale() {
    let (mut sender, mut receiver) = (secret_tree(4), secret_tree(4));
    let msgs: Vec<_> = (0..3)
        .map(|_| protect(&mut sender, application(), 0))
        .collect();
    for i in [2, 0, 1] {
        assert_eq!(
            unprotect(&mut receiver, &msgs[i]).unwrap().1.generation,
            u32::try_from(i).unwrap()
        );
    }
    for msg in &msgs {
        assert_eq!(
            unprotect(&mut receiver, msg).unwrap_err(),
            Stale::GenerationConsumed.into()
        );
    }
    // Far beyond the forward window.
    for _ in 0..1001 {
        sender
            .next_sending_key(LeafIndex(1), RatchetKind::Handshake)
            .unwrap();
    }
    let far = protect(&mut sender, proposal(), 0);
    assert_eq!(
        unprotect(&mut secret_tree(4), &far).unwrap_err(),
        Stale::GenerationTooFarAhead.into()
    );
}

#[test]
fn tampering_fails_authentication_and_leaves_the_tree_unchanged() {
    let mut sender = secret_tree(4);
    let msg = protect(&mut sender, commit(), 5);
    let mut tampered = Vec::new();
    for pos in [0, msg.ciphertext.len() / 2, msg.ciphertext.len() - 1] {
        let mut bad = msg.clone();
        bad.ciphertext[pos] ^= 0x80;
        tampered.push(bad);
    }
    for pos in 0..msg.encrypted_sender_data.len() {
        let mut bad = msg.clone();
        bad.encrypted_sender_data[pos] ^= 1;
        tampered.push(bad);
    }
    let mut bad = msg.clone();
    bad.authenticated_data.push(0);
    tampered.push(bad);
    let mut bad = msg.clone();
    bad.content_type = ContentType::Proposal;
    tampered.push(bad);
    let mut bad = msg.clone();
    bad.ciphertext.truncate(10);
    tampered.push(bad);

    let mut receiver = secret_tree(4);
    for bad in &tampered {
        assert_eq!(
            unprotect(&mut receiver, bad).unwrap_err(),
            Error::AuthenticationFailed
        );
    }
    // The group id and epoch are authenticated too (here the context follows the change).
    let mut bad = msg.clone();
    bad.epoch += 1;
    let mut moved = ctx();
    moved.epoch += 1;
    assert_eq!(
        unprotect_private(&suite(), &bad, &mut receiver, &sender_data_secret(), &moved)
            .unwrap_err(),
        Error::AuthenticationFailed
    );
    let (got, _) = unprotect(&mut receiver, &msg).unwrap();
    assert_eq!(got.content.body, commit());
}

#[test]
fn wrong_group_or_epoch_is_refused_before_decryption() {
    let msg = protect(&mut secret_tree(4), proposal(), 0);
    let mut receiver = secret_tree(4);
    let mut other = ctx();
    other.group_id = b"another meeting".to_vec();
    assert_eq!(
        unprotect_private(&suite(), &msg, &mut receiver, &sender_data_secret(), &other)
            .unwrap_err(),
        PeerMisbehaved::WrongGroup.into()
    );
    let mut other = ctx();
    other.epoch -= 1;
    assert_eq!(
        unprotect_private(&suite(), &msg, &mut receiver, &sender_data_secret(), &other)
            .unwrap_err(),
        PeerMisbehaved::WrongEpoch.into()
    );
    assert!(unprotect(&mut receiver, &msg).is_ok());
}

#[test]
fn a_wrong_sender_data_secret_fails_authentication() {
    let msg = protect(&mut secret_tree(4), proposal(), 0);
    let other = SenderDataSecret::from_slice(&[6; 32]).unwrap();
    assert_eq!(
        unprotect_private(&suite(), &msg, &mut secret_tree(4), &other, &ctx()).unwrap_err(),
        Error::AuthenticationFailed
    );
}

#[test]
fn only_our_member_leaf_can_send_and_refusals_draw_no_key() {
    let mut tree = secret_tree(4);
    let sds = sender_data_secret();
    let send = |auth: &AuthenticatedContent, tree: &mut SecretTree, leaf: u32| {
        protect_private(&suite(), auth, tree, &sds, LeafIndex(leaf), 0, &mut rng())
    };
    for sender in [
        Sender::External(1),
        Sender::NewMemberCommit,
        Sender::NewMemberProposal,
    ] {
        let auth = signed(WireFormat::MLS_PRIVATE_MESSAGE, sender, proposal());
        assert_eq!(
            send(&auth, &mut tree, 1),
            Err(ApiMisuse::InvalidSender.into()),
            "{sender:?}"
        );
    }
    let auth = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    assert_eq!(
        send(&auth, &mut tree, 2),
        Err(ApiMisuse::InvalidSender.into())
    );
    let public = signed(
        WireFormat::MLS_PUBLIC_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    assert_eq!(
        send(&public, &mut tree, 1),
        Err(ApiMisuse::WireFormatMismatch.into())
    );
    let mut untagged = signed(WireFormat::MLS_PRIVATE_MESSAGE, Sender::Member(1), commit());
    untagged.auth.confirmation_tag = None;
    assert_eq!(
        send(&untagged, &mut tree, 1),
        Err(ApiMisuse::ConfirmationTagPresence.into())
    );
    assert_eq!(
        protect_private(
            &suite(),
            &auth,
            &mut tree,
            &sds,
            LeafIndex(1),
            MAX_VEC_LEN,
            &mut rng()
        ),
        Err(ApiMisuse::InvalidLength.into())
    );
    let outside = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(4),
        proposal(),
    );
    assert_eq!(
        send(&outside, &mut tree, 4),
        Err(ApiMisuse::IndexOutOfRange.into())
    );
    // None of that consumed a generation.
    let msg = send(&auth, &mut tree, 1).unwrap();
    assert_eq!(
        unprotect(&mut secret_tree(4), &msg).unwrap().1.generation,
        0
    );
}

#[test]
fn a_sender_leaf_outside_the_tree_is_unknown() {
    // Sent from leaf 5 of an 8-leaf tree, received with a 4-leaf tree.
    let auth = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(5),
        proposal(),
    );
    let msg = protect_private(
        &suite(),
        &auth,
        &mut secret_tree(8),
        &sender_data_secret(),
        LeafIndex(5),
        0,
        &mut rng(),
    )
    .unwrap();
    assert_eq!(
        unprotect(&mut secret_tree(4), &msg).unwrap_err(),
        PeerMisbehaved::UnknownSender.into()
    );
    assert!(unprotect(&mut secret_tree(8), &msg).is_ok());
}

#[test]
fn malformed_plaintexts_are_rejected_and_consume_no_key() {
    let mut receiver = secret_tree(4);
    let mut padded = proposal_plaintext();
    padded.extend_from_slice(&[0, 0, 1]);
    let bad = seal_raw(&mut secret_tree(4), &padded, &[]);
    assert_eq!(
        unprotect(&mut receiver, &bad).unwrap_err(),
        InvalidMessage::NonZeroPadding.into()
    );
    let truncated = proposal_plaintext();
    let bad = seal_raw(&mut secret_tree(4), &truncated[..truncated.len() - 1], &[]);
    assert_eq!(
        unprotect(&mut receiver, &bad).unwrap_err(),
        InvalidMessage::Truncated.into()
    );
    let bad = seal_raw(&mut secret_tree(4), &proposal_plaintext(), &[0]);
    assert_eq!(
        unprotect(&mut receiver, &bad).unwrap_err(),
        InvalidMessage::TrailingBytes.into()
    );
    // The raw sealing is faithful: with zero padding the same generation opens.
    let mut zero_padded = proposal_plaintext();
    zero_padded.extend_from_slice(&[0; 3]);
    let good = seal_raw(&mut secret_tree(4), &zero_padded, &[]);
    let (got, sd) = unprotect(&mut receiver, &good).unwrap();
    assert_eq!((got.content.body, sd.generation), (proposal(), 0));
}

#[test]
fn the_reuse_guard_is_random_and_xored_into_the_nonce() {
    let (mut a, mut b) = (secret_tree(4), secret_tree(4));
    let auth = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(1),
        application(),
    );
    let mut rng_a = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let mut rng_b = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let ma = protect_private(
        &suite(),
        &auth,
        &mut a,
        &sender_data_secret(),
        LeafIndex(1),
        0,
        &mut rng_a,
    )
    .unwrap();
    let mb = protect_private(
        &suite(),
        &auth,
        &mut b,
        &sender_data_secret(),
        LeafIndex(1),
        0,
        &mut rng_b,
    )
    .unwrap();
    // Same key and generation, different guards: different ciphertexts.
    assert_ne!(ma.ciphertext, mb.ciphertext);
    let (_, sa) = unprotect(&mut secret_tree(4), &ma).unwrap();
    let (_, sb) = unprotect(&mut secret_tree(4), &mb).unwrap();
    assert_eq!((sa.generation, sb.generation), (0, 0));
    assert_ne!(sa.reuse_guard, sb.reuse_guard);
    // Opening with the unguarded nonce fails.
    secret_tree(4)
        .open_with(LeafIndex(1), RatchetKind::Application, 0, |key, nonce| {
            let plain = AeadNonce(nonce.0.duplicate());
            assert!(suite()
                .aead_open(key, &plain, &ma.content_aad()?, &ma.ciphertext)
                .is_err_and(|e| e == Error::AuthenticationFailed));
            let mut guarded = AeadNonce(nonce.0.duplicate());
            guarded.apply_reuse_guard(sa.reuse_guard);
            suite()
                .aead_open(key, &guarded, &ma.content_aad()?, &ma.ciphertext)
                .map(|_| ())
        })
        .unwrap();
}
