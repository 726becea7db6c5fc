//! PrivateMessage: signed and encrypted (RFC 9420 §6.3).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{InvalidMessage, Result};

use super::{ContentType, FramedContentAuthData, FramedContentBody, MAX_VEC_LEN};

/// An encrypted handshake or application message (RFC 9420 §6.3).
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     ContentType content_type;
///     opaque authenticated_data<V>;
///     opaque encrypted_sender_data<V>;
///     opaque ciphertext<V>;
/// } PrivateMessage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrivateMessage {
    /// The group the message belongs to.
    pub group_id: Vec<u8>,
    /// The epoch it was sent in.
    pub epoch: u64,
    /// The type of the encrypted content.
    pub content_type: ContentType,
    /// Application-chosen data authenticated with the message.
    pub authenticated_data: Vec<u8>,
    /// The AEAD-encrypted [`SenderData`].
    pub encrypted_sender_data: Vec<u8>,
    /// The AEAD-encrypted [`PrivateMessageContent`].
    pub ciphertext: Vec<u8>,
}

impl PrivateMessage {
    /// The encoded `PrivateContentAAD` (RFC 9420 §6.3.1), the AAD of `ciphertext`.
    ///
    /// ```text
    /// struct {
    ///     opaque group_id<V>;
    ///     uint64 epoch;
    ///     ContentType content_type;
    ///     opaque authenticated_data<V>;
    /// } PrivateContentAAD;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn content_aad(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_sender_data_aad(&mut w);
        w.write_opaque(&self.authenticated_data);
        w.into_bytes()
    }

    /// The encoded `SenderDataAAD` (RFC 9420 §6.3.2), the AAD of `encrypted_sender_data`.
    ///
    /// ```text
    /// struct {
    ///     opaque group_id<V>;
    ///     uint64 epoch;
    ///     ContentType content_type;
    /// } SenderDataAAD;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn sender_data_aad(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_sender_data_aad(&mut w);
        w.into_bytes()
    }

    fn encode_sender_data_aad(&self, w: &mut Writer) {
        w.write_opaque(&self.group_id);
        w.write_u64(self.epoch);
        self.content_type.encode(w);
    }
}

impl Decode for PrivateMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            group_id: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            epoch: r.read_u64()?,
            content_type: ContentType::decode(r)?,
            authenticated_data: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            encrypted_sender_data: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            ciphertext: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for PrivateMessage {
    fn encode(&self, w: &mut Writer) {
        self.encode_sender_data_aad(w);
        w.write_opaque(&self.authenticated_data);
        w.write_opaque(&self.encrypted_sender_data);
        w.write_opaque(&self.ciphertext);
    }
}

/// Which member sent a PrivateMessage, and with which key generation (RFC 9420 §6.3.2).
///
/// ```text
/// struct {
///     uint32 leaf_index;
///     uint32 generation;
///     opaque reuse_guard[4];
/// } SenderData;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SenderData {
    /// The sender's leaf index.
    pub leaf_index: u32,
    /// The generation of the sender's ratchet that keyed the content.
    pub generation: u32,
    /// Random bytes XORed into the first four bytes of the content nonce.
    pub reuse_guard: [u8; 4],
}

impl Decode for SenderData {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            leaf_index: r.read_u32()?,
            generation: r.read_u32()?,
            reuse_guard: r.take_array()?,
        })
    }
}

impl Encode for SenderData {
    fn encode(&self, w: &mut Writer) {
        w.write_u32(self.leaf_index);
        w.write_u32(self.generation);
        w.write_raw(&self.reuse_guard);
    }
}

/// The plaintext of a PrivateMessage's `ciphertext` (RFC 9420 §6.3.1): the content
/// selected by `PrivateMessage.content_type`, its auth data, then zero padding.
///
/// Its layout depends on the content type, so it is decoded with
/// [`PrivateMessageContent::decode_plaintext`] rather than [`Decode`].
///
/// ```text
/// struct {
///     select (PrivateMessage.content_type) {
///         case application: opaque application_data<V>;
///         case proposal:    Proposal proposal;
///         case commit:      Commit commit;
///     };
///
///     FramedContentAuthData auth;
///     opaque padding[length_of_padding];
/// } PrivateMessageContent;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrivateMessageContent {
    /// The content.
    pub body: FramedContentBody,
    /// Its signature and, for a commit, confirmation tag.
    pub auth: FramedContentAuthData,
    /// The number of zero bytes of padding.
    pub padding_len: usize,
}

impl PrivateMessageContent {
    /// Decodes a whole decrypted plaintext whose content type is `content_type`.
    ///
    /// Every byte after the auth data is padding and MUST be zero (RFC 9420 §6.3.1).
    ///
    /// # Errors
    /// [`InvalidMessage::NonZeroPadding`] when a padding byte is not zero; other
    /// [`InvalidMessage`] details when the content or auth data do not decode.
    pub(crate) fn decode_plaintext(plaintext: &[u8], content_type: ContentType) -> Result<Self> {
        let mut r = Reader::new(plaintext);
        let body = FramedContentBody::decode_as(&mut r, content_type)?;
        let auth = FramedContentAuthData::decode_for(&mut r, content_type)?;
        let padding = r.remaining();
        if padding.iter().any(|&b| b != 0) {
            return Err(InvalidMessage::NonZeroPadding.into());
        }
        Ok(Self {
            body,
            auth,
            padding_len: padding.len(),
        })
    }
}

impl Encode for PrivateMessageContent {
    fn encode(&self, w: &mut Writer) {
        self.body.encode_body(w);
        self.auth.encode(w);
        const ZEROS: [u8; 64] = [0; 64];
        let mut left = self.padding_len;
        while left > 0 {
            let n = left.min(ZEROS.len());
            w.write_raw(ZEROS.get(..n).unwrap_or_default());
            left -= n;
        }
    }
}

#[cfg(test)]
mod tests;
