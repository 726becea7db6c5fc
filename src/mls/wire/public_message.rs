//! PublicMessage: signed, not encrypted (RFC 9420 §6.2).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::Result;

use super::{FramedContent, FramedContentAuthData, GroupContext, Sender, WireFormat, MAX_VEC_LEN};

/// A message that is authenticated but not encrypted (RFC 9420 §6.2).
///
/// `membership_tag` is `Some` exactly when the sender is a `member`; decoding enforces
/// that, and encoding writes the tag when present.
///
/// ```text
/// struct {
///     FramedContent content;
///     FramedContentAuthData auth;
///     select (PublicMessage.content.sender.sender_type) {
///         case member:
///             MAC membership_tag;
///         case external:
///         case new_member_commit:
///         case new_member_proposal:
///             struct{};
///     };
/// } PublicMessage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublicMessage {
    /// The content.
    pub content: FramedContent,
    /// Its signature and, for a commit, confirmation tag.
    pub auth: FramedContentAuthData,
    /// `MAC(membership_key, AuthenticatedContentTBM)`, for member senders.
    pub membership_tag: Option<Vec<u8>>,
}

impl PublicMessage {
    /// The encoded `AuthenticatedContentTBM` (RFC 9420 §6.2), the input of the
    /// membership tag: the `FramedContentTBS` (wire format `mls_public_message`) followed
    /// by the auth data.
    ///
    /// ```text
    /// struct {
    ///   FramedContentTBS content_tbs;
    ///   FramedContentAuthData auth;
    /// } AuthenticatedContentTBM;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn to_be_maced(&self, context: &GroupContext) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.content
            .encode_tbs(&mut w, WireFormat::MLS_PUBLIC_MESSAGE, context);
        self.auth.encode(&mut w);
        w.into_bytes()
    }
}

impl Decode for PublicMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let content = FramedContent::decode(r)?;
        let auth = FramedContentAuthData::decode_for(r, content.content_type())?;
        let membership_tag = match content.sender {
            Sender::Member(_) => Some(r.read_opaque(MAX_VEC_LEN)?.to_vec()),
            Sender::External(_) | Sender::NewMemberProposal | Sender::NewMemberCommit => None,
        };
        Ok(Self {
            content,
            auth,
            membership_tag,
        })
    }
}

impl Encode for PublicMessage {
    fn encode(&self, w: &mut Writer) {
        self.content.encode(w);
        self.auth.encode(w);
        if let Some(tag) = &self.membership_tag {
            w.write_opaque(tag);
        }
    }
}
