//! PrivateMessage protection (RFC 9420 §6.3): content encrypted under the sender's ratchet
//! of the secret tree, sender data encrypted under a key drawn from the ciphertext.
//!
//! ```text
//!  protect:   (generation, key, nonce) = next_sending_key(sender, ratchet of content type)
//!             ciphertext = AEAD.Seal(key, nonce XOR reuse_guard, PrivateContentAAD,
//!                                    PrivateMessageContent (content, auth, zero padding))
//!             sender_data_key/nonce = ExpandWithLabel(sender_data_secret, "key"/"nonce",
//!                                                     ciphertext[0..KDF.Nh-1], ...)
//!             encrypted_sender_data = AEAD.Seal(.., SenderDataAAD, SenderData)
//!  unprotect: the same in reverse; the content key is only consumed if the content opens.
//! ```

use zeroize::Zeroize;

use crate::codec::{Decode, Encode, Writer};
use crate::crypto::{AeadNonce, Rng, Suite};
use crate::error::{ApiMisuse, PeerMisbehaved, Result};
use crate::mls::key_schedule::SenderDataSecret;
use crate::mls::secret_tree::{SecretTree, StagedOpen};
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{
    AuthenticatedContent, FramedContent, GroupContext, PrivateMessage, PrivateMessageContent,
    Sender, SenderData, WireFormat, MAX_VEC_LEN,
};

use super::{confirmation_tag_consistent, ratchet_kind};

/// Encrypts signed content as a PrivateMessage from our leaf `sender` (RFC 9420 §6.3).
///
/// The key and nonce are the next unused generation of `sender`'s handshake ratchet (for
/// proposals and commits) or application ratchet (for application data); a fresh random
/// 4-byte `reuse_guard` from `rng` is XORed into the nonce (§6.3.1). `padding` zero bytes
/// are appended to the content. `auth` must have been signed for `mls_private_message`.
///
/// Every check runs before a key is drawn, so a refused call leaves the ratchet untouched;
/// once a key is drawn it is never handed out again, even if a later step fails.
///
/// # Errors
/// - [`ApiMisuse::WireFormatMismatch`] when `auth` was signed for another wire format;
/// - [`ApiMisuse::InvalidSender`] unless the content's sender is the `member` at `sender`
///   (§6.3.2: the sender MUST verify that the sender type is `member`);
/// - [`ApiMisuse::ConfirmationTagPresence`] when a commit lacks its confirmation tag or
///   other content has one;
/// - [`ApiMisuse::InvalidLength`] when the ciphertext would exceed the 16 MiB that
///   receivers accept ([`MAX_VEC_LEN`]);
/// - [`ApiMisuse::IndexOutOfRange`] for a leaf outside the tree;
/// - [`ApiMisuse::CounterExhausted`] when the ratchet has no generation left.
pub(crate) fn protect_private(
    suite: &Suite,
    auth: &AuthenticatedContent,
    secret_tree: &mut SecretTree,
    sender_data_secret: &SenderDataSecret,
    sender: LeafIndex,
    padding: usize,
    rng: &mut impl Rng,
) -> Result<PrivateMessage> {
    let content = &auth.content;
    if auth.wire_format != WireFormat::MLS_PRIVATE_MESSAGE {
        return Err(ApiMisuse::WireFormatMismatch.into());
    }
    if content.sender != Sender::Member(sender.0) {
        return Err(ApiMisuse::InvalidSender.into());
    }
    if !confirmation_tag_consistent(&content.body, &auth.auth) {
        return Err(ApiMisuse::ConfirmationTagPresence.into());
    }
    let mut message = PrivateMessage {
        group_id: content.group_id.clone(),
        epoch: content.epoch,
        content_type: content.content_type(),
        authenticated_data: content.authenticated_data.clone(),
        encrypted_sender_data: Vec::new(),
        ciphertext: Vec::new(),
    };
    let content_aad = message.content_aad()?;
    let sender_data_aad = message.sender_data_aad()?;
    let mut plaintext = encode_plaintext(auth, padding)?;
    if plaintext.len() > MAX_VEC_LEN.saturating_sub(suite.aead_tag_len()) {
        plaintext.zeroize();
        return Err(ApiMisuse::InvalidLength.into());
    }

    let drawn = secret_tree.next_sending_key(sender, ratchet_kind(message.content_type));
    let (generation, key, mut nonce) = match drawn {
        Ok(keys) => keys,
        Err(e) => {
            plaintext.zeroize();
            return Err(e);
        }
    };
    let mut reuse_guard = [0u8; 4];
    rng.fill_bytes(&mut reuse_guard);
    nonce.apply_reuse_guard(reuse_guard);
    let sealed = suite.aead_seal(&key, &nonce, &content_aad, &plaintext);
    plaintext.zeroize();
    message.ciphertext = sealed?;

    let sender_data = SenderData {
        leaf_index: sender.0,
        generation,
        reuse_guard,
    }
    .to_bytes()?;
    let (sd_key, sd_nonce) = sender_data_secret.key_and_nonce(suite, &message.ciphertext)?;
    message.encrypted_sender_data =
        suite.aead_seal(&sd_key, &sd_nonce, &sender_data_aad, &sender_data)?;
    Ok(message)
}

/// The encoded `PrivateMessageContent`: content, auth data, `padding` zero bytes.
fn encode_plaintext(auth: &AuthenticatedContent, padding: usize) -> Result<Vec<u8>> {
    let mut w = Writer::new();
    auth.content.body.encode_body(&mut w);
    auth.auth.encode(&mut w);
    let mut plaintext = w.into_bytes()?;
    let padded_len = plaintext
        .len()
        .checked_add(padding)
        .filter(|&n| n <= MAX_VEC_LEN)
        .ok_or(ApiMisuse::InvalidLength);
    match padded_len {
        Ok(n) => plaintext.resize(n, 0),
        Err(e) => {
            plaintext.zeroize();
            return Err(e.into());
        }
    }
    Ok(plaintext)
}

/// Decrypts a received PrivateMessage (RFC 9420 §6.3) and returns its content, with wire
/// format `mls_private_message` and sender `member(leaf_index)`, and the decrypted
/// [`SenderData`].
///
/// Checks, in order: the group and epoch match `group_context`; the sender data opens
/// under the key drawn from the ciphertext sample and decodes; its leaf index lies inside
/// the tree; the content opens under that leaf's key of `generation` (with the reuse guard
/// XORed into the nonce) and decodes, with all-zero padding (§6.3.1). The key is consumed
/// only if all of that succeeds: a rejected message leaves `secret_tree` exactly as it was.
///
/// It does **not** verify the signature, nor that the sender's leaf is non-blank (§6.3.2):
/// the caller looks up the leaf in the ratchet tree (rejecting a blank one), then calls
/// [`verify_content_signature`](super::verify_content_signature) with its key.
///
/// # Errors
/// - [`PeerMisbehaved::WrongGroup`], [`PeerMisbehaved::WrongEpoch`];
/// - [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when the
///   sender data or the content does not open;
/// - [`InvalidMessage`](crate::error::InvalidMessage) when either does not decode, or the
///   padding holds a non-zero byte;
/// - [`PeerMisbehaved::UnknownSender`] for a leaf index outside the tree;
/// - [`Stale::GenerationConsumed`](crate::error::Stale::GenerationConsumed) for a replayed
///   or expired generation, [`Stale::GenerationTooFarAhead`](crate::error::Stale) beyond
///   the forward window.
#[cfg(any(test, fuzzing, feature = "bench-internals"))]
pub(crate) fn unprotect_private(
    suite: &Suite,
    msg: &PrivateMessage,
    secret_tree: &mut SecretTree,
    sender_data_secret: &SenderDataSecret,
    group_context: &GroupContext,
) -> Result<(AuthenticatedContent, SenderData)> {
    let opened = decrypt_private(suite, msg, secret_tree, sender_data_secret, group_context)?;
    secret_tree.commit_open(opened.staged);
    Ok((opened.content, opened.sender_data))
}

/// A PrivateMessage decrypted, its signature not yet checked, and the secret-tree change
/// that opening it makes (applied with [`SecretTree::commit_open`] once the caller accepted
/// the content: a message that fails a later check consumes no key).
#[derive(Debug)]
pub(crate) struct DecryptedPrivate {
    /// The content, its signature unchecked.
    pub(crate) content: AuthenticatedContent,
    pub(crate) sender_data: SenderData,
    pub(crate) staged: StagedOpen,
}

/// Decrypts `msg` under `secret_tree` without changing it (RFC 9420 §6.3): the first half of
/// [`unprotect_private`]; the caller checks the content, then commits `staged`.
///
/// # Errors
/// As [`unprotect_private`].
pub(crate) fn decrypt_private(
    suite: &Suite,
    msg: &PrivateMessage,
    secret_tree: &SecretTree,
    sender_data_secret: &SenderDataSecret,
    group_context: &GroupContext,
) -> Result<DecryptedPrivate> {
    if msg.group_id != group_context.group_id {
        return Err(PeerMisbehaved::WrongGroup.into());
    }
    if msg.epoch != group_context.epoch {
        return Err(PeerMisbehaved::WrongEpoch.into());
    }
    let (sd_key, sd_nonce) = sender_data_secret.key_and_nonce(suite, &msg.ciphertext)?;
    let sender_data_plain = suite.aead_open(
        &sd_key,
        &sd_nonce,
        &msg.sender_data_aad()?,
        &msg.encrypted_sender_data,
    )?;
    let sender_data = SenderData::decode_exact(&sender_data_plain)?;
    let leaf = LeafIndex(sender_data.leaf_index);
    if !secret_tree.size().contains_leaf(leaf) {
        return Err(PeerMisbehaved::UnknownSender.into());
    }
    let staged =
        secret_tree.stage_open(leaf, ratchet_kind(msg.content_type), sender_data.generation)?;
    let mut nonce = AeadNonce(staged.nonce().0.duplicate());
    nonce.apply_reuse_guard(sender_data.reuse_guard);
    let mut plaintext =
        suite.aead_open(staged.key(), &nonce, &msg.content_aad()?, &msg.ciphertext)?;
    let decoded = PrivateMessageContent::decode_plaintext(&plaintext, msg.content_type);
    plaintext.zeroize();
    let decrypted = decoded?;
    Ok(DecryptedPrivate {
        content: AuthenticatedContent {
            wire_format: WireFormat::MLS_PRIVATE_MESSAGE,
            content: FramedContent {
                group_id: msg.group_id.clone(),
                epoch: msg.epoch,
                sender: Sender::Member(sender_data.leaf_index),
                authenticated_data: msg.authenticated_data.clone(),
                body: decrypted.body,
            },
            auth: decrypted.auth,
        },
        sender_data,
        staged,
    })
}

#[cfg(test)]
mod tests;
