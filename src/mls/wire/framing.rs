//! Message framing (RFC 9420 §6): content, its authentication, and PublicMessage.

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{InvalidMessage, Result};

use super::{Commit, GroupContext, Proposal, ProtocolVersion, MAX_VEC_LEN};

crate::codepoint! {
    /// `WireFormat` (RFC 9420 §6, §17.2). Unknown values round-trip as code points.
    pub(crate) struct WireFormat(u16) {
        /// `mls_public_message`.
        MLS_PUBLIC_MESSAGE = 0x0001,
        /// `mls_private_message`.
        MLS_PRIVATE_MESSAGE = 0x0002,
        /// `mls_welcome`.
        MLS_WELCOME = 0x0003,
        /// `mls_group_info`.
        MLS_GROUP_INFO = 0x0004,
        /// `mls_key_package`.
        MLS_KEY_PACKAGE = 0x0005,
    }
}

/// Reads a `WireFormat`, rejecting the reserved value 0 (RFC 9420 §17.2).
pub(super) fn read_wire_format(r: &mut Reader<'_>) -> Result<WireFormat> {
    match WireFormat::decode(r)? {
        WireFormat(0) => Err(InvalidMessage::InvalidValue.into()),
        wf => Ok(wf),
    }
}

/// What a message carries (RFC 9420 §6).
///
/// ```text
/// enum { reserved(0), application(1), proposal(2), commit(3), (255) } ContentType;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ContentType {
    /// `application(1)`.
    Application,
    /// `proposal(2)`.
    Proposal,
    /// `commit(3)`.
    Commit,
}

impl Decode for ContentType {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::Application),
            2 => Ok(Self::Proposal),
            3 => Ok(Self::Commit),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for ContentType {
    fn encode(&self, w: &mut Writer) {
        w.write_u8(match self {
            Self::Application => 1,
            Self::Proposal => 2,
            Self::Commit => 3,
        });
    }
}

/// Who sent a message (RFC 9420 §6).
///
/// ```text
/// enum { reserved(0), member(1), external(2), new_member_proposal(3),
///        new_member_commit(4), (255) } SenderType;
///
/// struct {
///     SenderType sender_type;
///     select (Sender.sender_type) {
///         case member:              uint32 leaf_index;
///         case external:            uint32 sender_index;
///         case new_member_commit:
///         case new_member_proposal: struct{};
///     };
/// } Sender;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    /// `member(1)`: the member at this leaf index.
    Member(u32),
    /// `external(2)`: the sender at this index of the `external_senders` extension.
    External(u32),
    /// `new_member_proposal(3)`: a client proposing to add itself.
    NewMemberProposal,
    /// `new_member_commit(4)`: a client joining by external commit.
    NewMemberCommit,
}

impl Decode for Sender {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            1 => Ok(Self::Member(r.read_u32()?)),
            2 => Ok(Self::External(r.read_u32()?)),
            3 => Ok(Self::NewMemberProposal),
            4 => Ok(Self::NewMemberCommit),
            _ => Err(InvalidMessage::InvalidValue.into()),
        }
    }
}

impl Encode for Sender {
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Member(leaf_index) => {
                w.write_u8(1);
                w.write_u32(*leaf_index);
            }
            Self::External(sender_index) => {
                w.write_u8(2);
                w.write_u32(*sender_index);
            }
            Self::NewMemberProposal => w.write_u8(3),
            Self::NewMemberCommit => w.write_u8(4),
        }
    }
}

/// The content selected by a [`ContentType`]: the `select` of `FramedContent` and of
/// `PrivateMessageContent` (RFC 9420 §6, §6.3.1).
///
/// ```text
/// select (FramedContent.content_type) {
///     case application: opaque application_data<V>;
///     case proposal:    Proposal proposal;
///     case commit:      Commit commit;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FramedContentBody {
    /// `application_data<V>`.
    Application(Vec<u8>),
    /// A proposal.
    Proposal(Proposal),
    /// A commit.
    Commit(Box<Commit>),
}

impl FramedContentBody {
    /// The content type that selects this body.
    #[must_use]
    pub(crate) const fn content_type(&self) -> ContentType {
        match self {
            Self::Application(_) => ContentType::Application,
            Self::Proposal(_) => ContentType::Proposal,
            Self::Commit(_) => ContentType::Commit,
        }
    }

    /// Reads the body selected by `content_type` (the type itself is not read).
    ///
    /// # Errors
    /// [`InvalidMessage`] when the bytes do not encode such a body.
    pub(crate) fn decode_as(r: &mut Reader<'_>, content_type: ContentType) -> Result<Self> {
        Ok(match content_type {
            ContentType::Application => Self::Application(r.read_opaque(MAX_VEC_LEN)?.to_vec()),
            ContentType::Proposal => Self::Proposal(Proposal::decode(r)?),
            ContentType::Commit => Self::Commit(Box::new(Commit::decode(r)?)),
        })
    }

    /// Writes the body without its content type.
    pub(crate) fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Application(data) => w.write_opaque(data),
            Self::Proposal(p) => p.encode(w),
            Self::Commit(c) => c.encode(w),
        }
    }
}

/// The content of a handshake or application message with its context (RFC 9420 §6).
///
/// ```text
/// struct {
///     opaque group_id<V>;
///     uint64 epoch;
///     Sender sender;
///     opaque authenticated_data<V>;
///
///     ContentType content_type;
///     select (FramedContent.content_type) {
///         case application: opaque application_data<V>;
///         case proposal:    Proposal proposal;
///         case commit:      Commit commit;
///     };
/// } FramedContent;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FramedContent {
    /// The group the message belongs to.
    pub group_id: Vec<u8>,
    /// The epoch it was sent in.
    pub epoch: u64,
    /// Who sent it.
    pub sender: Sender,
    /// Application-chosen data authenticated with the message.
    pub authenticated_data: Vec<u8>,
    /// The content type and the content it selects.
    pub body: FramedContentBody,
}

impl FramedContent {
    /// The content type of the body.
    #[must_use]
    pub(crate) const fn content_type(&self) -> ContentType {
        self.body.content_type()
    }

    /// The encoded `FramedContentTBS` (RFC 9420 §6.1), the content the sender signs with
    /// label `"FramedContentTBS"`. `context` is included only when the sender is `member`
    /// or `new_member_commit`, as the RFC selects.
    ///
    /// ```text
    /// struct {
    ///     ProtocolVersion version = mls10;
    ///     WireFormat wire_format;
    ///     FramedContent content;
    ///     select (FramedContentTBS.content.sender.sender_type) {
    ///         case member:
    ///         case new_member_commit:   GroupContext context;
    ///         case external:
    ///         case new_member_proposal: struct{};
    ///     };
    /// } FramedContentTBS;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn to_be_signed(
        &self,
        wire_format: WireFormat,
        context: &GroupContext,
    ) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_tbs(&mut w, wire_format, context);
        w.into_bytes()
    }

    pub(super) fn encode_tbs(
        &self,
        w: &mut Writer,
        wire_format: WireFormat,
        context: &GroupContext,
    ) {
        ProtocolVersion::MLS10.encode(w);
        wire_format.encode(w);
        self.encode(w);
        match self.sender {
            Sender::Member(_) | Sender::NewMemberCommit => context.encode(w),
            Sender::External(_) | Sender::NewMemberProposal => {}
        }
    }
}

impl Decode for FramedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let group_id = r.read_opaque(MAX_VEC_LEN)?.to_vec();
        let epoch = r.read_u64()?;
        let sender = Sender::decode(r)?;
        let authenticated_data = r.read_opaque(MAX_VEC_LEN)?.to_vec();
        let content_type = ContentType::decode(r)?;
        Ok(Self {
            group_id,
            epoch,
            sender,
            authenticated_data,
            body: FramedContentBody::decode_as(r, content_type)?,
        })
    }
}

impl Encode for FramedContent {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.group_id);
        w.write_u64(self.epoch);
        self.sender.encode(w);
        w.write_opaque(&self.authenticated_data);
        self.content_type().encode(w);
        self.body.encode_body(w);
    }
}

/// The signature over a [`FramedContent`] and, for a commit, the confirmation tag
/// (RFC 9420 §6.1). Which fields exist depends on the content type, so decoding needs it.
///
/// The tag is `Some` exactly when the content is a commit; encoding writes it when present,
/// so a value built with the wrong presence encodes to bytes that do not decode.
///
/// ```text
/// opaque MAC<V>;
///
/// struct {
///     /* SignWithLabel(., "FramedContentTBS", FramedContentTBS) */
///     opaque signature<V>;
///     select (FramedContent.content_type) {
///         case commit:
///             /* MAC(confirmation_key, GroupContext.confirmed_transcript_hash) */
///             MAC confirmation_tag;
///         case application:
///         case proposal:
///             struct{};
///     };
/// } FramedContentAuthData;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FramedContentAuthData {
    /// The sender's signature over the `FramedContentTBS`.
    pub signature: Vec<u8>,
    /// The confirmation tag (`MAC<V>`), present iff the content is a commit.
    pub confirmation_tag: Option<Vec<u8>>,
}

impl FramedContentAuthData {
    /// Reads the auth data of content of type `content_type`.
    ///
    /// # Errors
    /// [`InvalidMessage`] when the bytes do not encode it.
    pub(crate) fn decode_for(r: &mut Reader<'_>, content_type: ContentType) -> Result<Self> {
        let signature = r.read_opaque(MAX_VEC_LEN)?.to_vec();
        let confirmation_tag = match content_type {
            ContentType::Commit => Some(r.read_opaque(MAX_VEC_LEN)?.to_vec()),
            ContentType::Application | ContentType::Proposal => None,
        };
        Ok(Self {
            signature,
            confirmation_tag,
        })
    }
}

impl Encode for FramedContentAuthData {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.signature);
        if let Some(tag) = &self.confirmation_tag {
            w.write_opaque(tag);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
