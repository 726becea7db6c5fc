//! Test fixtures shared by the framing tests: one group context, fixed keys, secret trees
//! that agree because they grow from the same secret, and signed content of every type.

use rand_core::SeedableRng;

use crate::codec::{Encode, Writer};
use crate::crypto::{CipherSuite, SignaturePrivateKey, Suite};
use crate::error::Result;
use crate::mls::key_schedule::{EncryptionSecret, MembershipKey, SenderDataSecret};
use crate::mls::secret_tree::{RatchetConfig, RatchetKind, SecretTree};
use crate::mls::tree::math::{LeafIndex, TreeSize};
use crate::mls::wire::{
    AuthenticatedContent, Commit, ContentType, ExtensionType, FramedContent, FramedContentBody,
    GroupContext, PrivateMessage, Proposal, ProtocolVersion, Remove, Sender, SenderData,
    WireFormat,
};

use super::{protect_private, sign_content, unprotect_private};

pub(super) fn suite() -> Suite {
    CipherSuite(1).suite().unwrap()
}

pub(super) fn ctx() -> GroupContext {
    GroupContext {
        version: ProtocolVersion::MLS10,
        cipher_suite: CipherSuite(1),
        group_id: b"meeting".to_vec(),
        epoch: 42,
        tree_hash: vec![1; 32],
        confirmed_transcript_hash: vec![2; 32],
        extensions: vec![crate::mls::wire::Extension {
            extension_type: ExtensionType(0xf00d),
            extension_data: vec![3],
        }],
    }
}

pub(super) fn signer() -> SignaturePrivateKey {
    SignaturePrivateKey::from_seed(&[7; 32]).unwrap()
}

pub(super) fn membership_key() -> MembershipKey {
    MembershipKey::from_slice(&[3; 32]).unwrap()
}

pub(super) fn sender_data_secret() -> SenderDataSecret {
    SenderDataSecret::from_slice(&[4; 32]).unwrap()
}

/// A secret tree of `leaves` leaves from a fixed encryption secret: every call gives the
/// same keys, so one copy can send and another receive.
pub(super) fn secret_tree(leaves: u32) -> SecretTree {
    let root = EncryptionSecret::from_slice(&[5; 32]).unwrap();
    SecretTree::new(
        suite(),
        root,
        TreeSize::new(leaves).unwrap(),
        RatchetConfig::default(),
    )
}

pub(super) fn proposal() -> FramedContentBody {
    FramedContentBody::Proposal(Proposal::Remove(Remove { removed: 2 }))
}

pub(super) fn commit() -> FramedContentBody {
    FramedContentBody::Commit(Box::new(Commit {
        proposals: vec![],
        path: None,
    }))
}

pub(super) fn application() -> FramedContentBody {
    FramedContentBody::Application(b"hello, meeting".to_vec())
}

pub(super) fn content(sender: Sender, body: FramedContentBody) -> FramedContent {
    let c = ctx();
    FramedContent {
        group_id: c.group_id,
        epoch: c.epoch,
        sender,
        authenticated_data: b"aad".to_vec(),
        body,
    }
}

/// Signed content, with a confirmation tag if it is a commit.
pub(super) fn signed(
    wire_format: WireFormat,
    sender: Sender,
    body: FramedContentBody,
) -> AuthenticatedContent {
    let is_commit = matches!(body, FramedContentBody::Commit(_));
    let mut auth = sign_content(
        &suite(),
        &signer(),
        wire_format,
        content(sender, body),
        &ctx(),
    )
    .unwrap();
    if is_commit {
        auth.auth.confirmation_tag = Some(vec![9; 32]);
    }
    auth
}

pub(super) fn rng() -> rand_chacha::ChaCha20Rng {
    rand_chacha::ChaCha20Rng::seed_from_u64(9)
}

pub(super) fn protect(
    tree: &mut SecretTree,
    body: FramedContentBody,
    padding: usize,
) -> PrivateMessage {
    let auth = signed(WireFormat::MLS_PRIVATE_MESSAGE, Sender::Member(1), body);
    protect_private(
        &suite(),
        &auth,
        tree,
        &sender_data_secret(),
        LeafIndex(1),
        padding,
        &mut rng(),
    )
    .unwrap()
}

pub(super) fn unprotect(
    tree: &mut SecretTree,
    msg: &PrivateMessage,
) -> Result<(AuthenticatedContent, SenderData)> {
    unprotect_private(&suite(), msg, tree, &sender_data_secret(), &ctx())
}

/// Seals `plaintext` and `sender_data` with leaf 1's next handshake key as
/// [`protect_private`] would, so that malformed plaintexts can be tested.
pub(super) fn seal_raw(
    tree: &mut SecretTree,
    plaintext: &[u8],
    extra_sender_data: &[u8],
) -> PrivateMessage {
    let suite = suite();
    let c = ctx();
    let mut msg = PrivateMessage {
        group_id: c.group_id,
        epoch: c.epoch,
        content_type: ContentType::Proposal,
        authenticated_data: vec![],
        encrypted_sender_data: vec![],
        ciphertext: vec![],
    };
    let (generation, key, mut nonce) = tree
        .next_sending_key(LeafIndex(1), RatchetKind::Handshake)
        .unwrap();
    nonce.apply_reuse_guard([1, 2, 3, 4]);
    msg.ciphertext = suite
        .aead_seal(&key, &nonce, &msg.content_aad().unwrap(), plaintext)
        .unwrap();
    let mut sd = SenderData {
        leaf_index: 1,
        generation,
        reuse_guard: [1, 2, 3, 4],
    }
    .to_bytes()
    .unwrap();
    sd.extend_from_slice(extra_sender_data);
    let (k, n) = sender_data_secret()
        .key_and_nonce(&suite, &msg.ciphertext)
        .unwrap();
    msg.encrypted_sender_data = suite
        .aead_seal(&k, &n, &msg.sender_data_aad().unwrap(), &sd)
        .unwrap();
    msg
}

pub(super) fn proposal_plaintext() -> Vec<u8> {
    let auth = signed(
        WireFormat::MLS_PRIVATE_MESSAGE,
        Sender::Member(1),
        proposal(),
    );
    let mut w = Writer::new();
    auth.content.body.encode_body(&mut w);
    auth.auth.encode(&mut w);
    w.into_bytes().unwrap()
}
