//! MLSMessage, the envelope of everything MLS sends (RFC 9420 §6).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{ApiMisuse, Error, InvalidMessage, Result, Unsupported};

use super::framing::read_wire_format;
use super::{
    ContentType, GroupInfo, KeyPackage, PrivateMessage, ProtocolVersion, PublicMessage, Sender,
    Welcome, WireFormat,
};

/// The message an [`MlsMessage`] carries, selected by its wire format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum MlsMessageBody {
    /// `mls_public_message`.
    PublicMessage(Box<PublicMessage>),
    /// `mls_private_message`.
    PrivateMessage(PrivateMessage),
    /// `mls_welcome`.
    Welcome(Welcome),
    /// `mls_group_info`.
    GroupInfo(Box<GroupInfo>),
    /// `mls_key_package`.
    KeyPackage(Box<KeyPackage>),
}

impl MlsMessageBody {
    /// The wire format that selects this body.
    #[must_use]
    pub(crate) const fn wire_format(&self) -> WireFormat {
        match self {
            Self::PublicMessage(_) => WireFormat::MLS_PUBLIC_MESSAGE,
            Self::PrivateMessage(_) => WireFormat::MLS_PRIVATE_MESSAGE,
            Self::Welcome(_) => WireFormat::MLS_WELCOME,
            Self::GroupInfo(_) => WireFormat::MLS_GROUP_INFO,
            Self::KeyPackage(_) => WireFormat::MLS_KEY_PACKAGE,
        }
    }
}

/// The envelope of every MLS message on the wire (RFC 9420 §6).
///
/// Decoding accepts only `mls10`: the reserved version 0 and an unknown wire format 0 are
/// [`InvalidMessage::InvalidValue`], other versions [`Unsupported::ProtocolVersion`], and
/// other wire formats [`Unsupported::WireFormat`] (the body has no length prefix, so it
/// cannot be skipped). A KeyPackage whose `version` differs from the message's is rejected
/// (RFC 9420 §10: the two MUST match).
///
/// ```text
/// struct {
///     ProtocolVersion version = mls10;
///     WireFormat wire_format;
///     select (MLSMessage.wire_format) {
///         case mls_public_message:  PublicMessage public_message;
///         case mls_private_message: PrivateMessage private_message;
///         case mls_welcome:         Welcome welcome;
///         case mls_group_info:      GroupInfo group_info;
///         case mls_key_package:     KeyPackage key_package;
///     };
/// } MLSMessage;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlsMessage {
    /// The protocol version (always `mls10` once decoded).
    pub(crate) version: ProtocolVersion,
    /// The message, which determines the wire format.
    pub(crate) body: MlsMessageBody,
}

/// What an [`MlsMessage`] carries, as far as it shows without keys: the wire format and,
/// for a handshake or application message, its content type (in the clear for both
/// PublicMessage and PrivateMessage, RFC 9420 §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// Application data (always a PrivateMessage).
    Application,
    /// A proposal, public or private.
    Proposal,
    /// A commit, public or private.
    Commit,
    /// A Welcome.
    Welcome,
    /// A GroupInfo.
    GroupInfo,
    /// A KeyPackage.
    KeyPackage,
}

impl From<ContentType> for MessageKind {
    fn from(t: ContentType) -> Self {
        match t {
            ContentType::Application => Self::Application,
            ContentType::Proposal => Self::Proposal,
            ContentType::Commit => Self::Commit,
        }
    }
}

impl MlsMessage {
    /// What the message carries (read from the clear parts; nothing is verified).
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        match &self.body {
            MlsMessageBody::PublicMessage(m) => m.content.content_type().into(),
            MlsMessageBody::PrivateMessage(m) => m.content_type.into(),
            MlsMessageBody::Welcome(_) => MessageKind::Welcome,
            MlsMessageBody::GroupInfo(_) => MessageKind::GroupInfo,
            MlsMessageBody::KeyPackage(_) => MessageKind::KeyPackage,
        }
    }

    /// The group and epoch the message claims (a handshake, application message or
    /// GroupInfo; `None` for a Welcome or KeyPackage). Unverified: a delivery service
    /// orders and buffers by it, a group checks it.
    #[must_use]
    pub fn group_and_epoch(&self) -> Option<(&[u8], u64)> {
        match &self.body {
            MlsMessageBody::PublicMessage(m) => Some((&m.content.group_id, m.content.epoch)),
            MlsMessageBody::PrivateMessage(m) => Some((&m.group_id, m.epoch)),
            MlsMessageBody::GroupInfo(gi) => {
                Some((&gi.group_context.group_id, gi.group_context.epoch))
            }
            MlsMessageBody::Welcome(_) | MlsMessageBody::KeyPackage(_) => None,
        }
    }

    /// The sender a PublicMessage shows (a PrivateMessage encrypts its sender; other
    /// messages have none). Unverified.
    #[must_use]
    pub fn sender(&self) -> Option<Sender> {
        match &self.body {
            MlsMessageBody::PublicMessage(m) => Some(m.content.sender),
            _ => None,
        }
    }

    /// An `mls10` message carrying `body`.
    #[must_use]
    pub(crate) const fn new(body: MlsMessageBody) -> Self {
        Self {
            version: ProtocolVersion::MLS10,
            body,
        }
    }

    /// The wire format of the body.
    #[must_use]
    pub(crate) const fn wire_format(&self) -> WireFormat {
        self.body.wire_format()
    }
}

impl Decode for MlsMessage {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let version = match ProtocolVersion::decode(r)? {
            ProtocolVersion::MLS10 => ProtocolVersion::MLS10,
            ProtocolVersion(0) => return Err(InvalidMessage::InvalidValue.into()),
            ProtocolVersion(v) => return Err(Unsupported::ProtocolVersion(v).into()),
        };
        let body = match read_wire_format(r)? {
            WireFormat::MLS_PUBLIC_MESSAGE => {
                MlsMessageBody::PublicMessage(Box::new(PublicMessage::decode(r)?))
            }
            WireFormat::MLS_PRIVATE_MESSAGE => {
                MlsMessageBody::PrivateMessage(PrivateMessage::decode(r)?)
            }
            WireFormat::MLS_WELCOME => MlsMessageBody::Welcome(Welcome::decode(r)?),
            WireFormat::MLS_GROUP_INFO => {
                MlsMessageBody::GroupInfo(Box::new(GroupInfo::decode(r)?))
            }
            WireFormat::MLS_KEY_PACKAGE => {
                let kp = KeyPackage::decode(r)?;
                if kp.version != version {
                    return Err(InvalidMessage::InvalidValue.into());
                }
                MlsMessageBody::KeyPackage(Box::new(kp))
            }
            WireFormat(other) => return Err(Unsupported::WireFormat(other).into()),
        };
        Ok(Self { version, body })
    }
}

impl Encode for MlsMessage {
    fn encode(&self, w: &mut Writer) {
        self.version.encode(w);
        self.wire_format().encode(w);
        match &self.body {
            MlsMessageBody::PublicMessage(m) => m.encode(w),
            MlsMessageBody::PrivateMessage(m) => m.encode(w),
            MlsMessageBody::Welcome(m) => m.encode(w),
            MlsMessageBody::GroupInfo(m) => m.encode(w),
            MlsMessageBody::KeyPackage(m) => m.encode(w),
        }
    }
}

#[cfg(test)]
mod tests;

// The KeyPackage, Welcome and GroupInfo an application publishes travel as MLSMessages
// (RFC 9420 §6): each converts into one, and back out of one that carries it (any other
// message is `ApiMisuse::UnexpectedContentType`).

impl From<KeyPackage> for MlsMessage {
    fn from(key_package: KeyPackage) -> Self {
        Self::new(MlsMessageBody::KeyPackage(Box::new(key_package)))
    }
}

impl From<Welcome> for MlsMessage {
    fn from(welcome: Welcome) -> Self {
        Self::new(MlsMessageBody::Welcome(welcome))
    }
}

impl From<GroupInfo> for MlsMessage {
    fn from(group_info: GroupInfo) -> Self {
        Self::new(MlsMessageBody::GroupInfo(Box::new(group_info)))
    }
}

impl TryFrom<MlsMessage> for KeyPackage {
    type Error = Error;

    fn try_from(message: MlsMessage) -> Result<Self> {
        match message.body {
            MlsMessageBody::KeyPackage(kp) => Ok(*kp),
            _ => Err(ApiMisuse::UnexpectedContentType.into()),
        }
    }
}

impl TryFrom<MlsMessage> for Welcome {
    type Error = Error;

    fn try_from(message: MlsMessage) -> Result<Self> {
        match message.body {
            MlsMessageBody::Welcome(w) => Ok(w),
            _ => Err(ApiMisuse::UnexpectedContentType.into()),
        }
    }
}

impl TryFrom<MlsMessage> for GroupInfo {
    type Error = Error;

    fn try_from(message: MlsMessage) -> Result<Self> {
        match message.body {
            MlsMessageBody::GroupInfo(gi) => Ok(*gi),
            _ => Err(ApiMisuse::UnexpectedContentType.into()),
        }
    }
}
