//! PublicMessage protection (RFC 9420 §6.2): signed content plus, for members, a
//! membership tag.

use crate::crypto::{Mac, Suite};
use crate::error::{ApiMisuse, Error, InvalidMessage, PeerMisbehaved, Result};
use crate::mls::key_schedule::MembershipKey;
use crate::mls::wire::{
    AuthenticatedContent, ContentType, GroupContext, PublicMessage, Sender, WireFormat,
};

use super::{confirmation_tag_consistent, sender_may_send};

/// Encodes signed content as a PublicMessage (RFC 9420 §6.2). For a `member` sender it
/// adds
///
/// ```text
/// membership_tag = MAC(membership_key, AuthenticatedContentTBM)
/// ```
///
/// and other senders get no tag (`membership_key` is then ignored: non-members do not have
/// it). `auth` must have been signed for `mls_public_message`.
///
/// # Errors
/// - [`ApiMisuse::UnexpectedContentType`] for application data (RFC 9420 §6: applications
///   MUST use PrivateMessage for it) or content the sender type may not send (§6.1);
/// - [`ApiMisuse::WireFormatMismatch`] when `auth` was signed for another wire format;
/// - [`ApiMisuse::ConfirmationTagPresence`] when a commit lacks its confirmation tag or
///   other content has one;
/// - [`ApiMisuse::MissingKey`] for a member sender without `membership_key`;
/// - [`ApiMisuse::EncodingOverflow`] for absurdly large content.
pub(crate) fn protect_public(
    suite: &Suite,
    auth: AuthenticatedContent,
    membership_key: Option<&MembershipKey>,
    group_context: &GroupContext,
) -> Result<PublicMessage> {
    if auth.content.content_type() == ContentType::Application
        || !sender_may_send(auth.content.sender, &auth.content.body)
    {
        return Err(ApiMisuse::UnexpectedContentType.into());
    }
    if auth.wire_format != WireFormat::MLS_PUBLIC_MESSAGE {
        return Err(ApiMisuse::WireFormatMismatch.into());
    }
    if !confirmation_tag_consistent(&auth.content.body, &auth.auth) {
        return Err(ApiMisuse::ConfirmationTagPresence.into());
    }
    let mut message = PublicMessage {
        content: auth.content,
        auth: auth.auth,
        membership_tag: None,
    };
    if let Sender::Member(_) = message.content.sender {
        let key = membership_key.ok_or(ApiMisuse::MissingKey)?;
        let tbm = message.to_be_maced(group_context)?;
        message.membership_tag = Some(key.membership_tag(suite, &tbm).as_bytes().to_vec());
    }
    Ok(message)
}

/// Checks a received PublicMessage and returns its content (RFC 9420 §6.2), with wire
/// format `mls_public_message`.
///
/// Checks, in order: the group and epoch match `group_context`; the content is not
/// application data (§6) and the sender type may send it (§6.1); a commit has a
/// confirmation tag and nothing else does; a `member` sender's message has a membership tag
/// that verifies under `membership_key`, and other senders' messages have none.
///
/// It does **not** verify the signature or the confirmation tag: the caller looks up the
/// sender's key and calls [`verify_content_signature`](super::verify_content_signature),
/// and checks the confirmation tag of a commit against the new epoch.
///
/// # Errors
/// - [`PeerMisbehaved::WrongGroup`], [`PeerMisbehaved::WrongEpoch`];
/// - [`PeerMisbehaved::UnexpectedContentType`] for application data or content the sender
///   type may not send;
/// - [`InvalidMessage::InvalidValue`] for a confirmation tag on a non-commit or none on a
///   commit (such a value cannot come from the decoder);
/// - [`PeerMisbehaved::MembershipTagPresence`] for a missing or unexpected membership tag;
/// - [`Error::AuthenticationFailed`] when the membership tag does not verify;
/// - [`ApiMisuse::MissingKey`] for a member's message without `membership_key`.
pub(crate) fn unprotect_public(
    suite: &Suite,
    msg: &PublicMessage,
    membership_key: Option<&MembershipKey>,
    group_context: &GroupContext,
) -> Result<AuthenticatedContent> {
    let content = &msg.content;
    if content.group_id != group_context.group_id {
        return Err(PeerMisbehaved::WrongGroup.into());
    }
    if content.epoch != group_context.epoch {
        return Err(PeerMisbehaved::WrongEpoch.into());
    }
    if content.content_type() == ContentType::Application
        || !sender_may_send(content.sender, &content.body)
    {
        return Err(PeerMisbehaved::UnexpectedContentType.into());
    }
    if !confirmation_tag_consistent(&content.body, &msg.auth) {
        return Err(InvalidMessage::InvalidValue.into());
    }
    match (content.sender, &msg.membership_tag) {
        (Sender::Member(_), Some(tag)) => {
            let key = membership_key.ok_or(ApiMisuse::MissingKey)?;
            let tag = Mac::from_slice(tag).map_err(|_| Error::AuthenticationFailed)?;
            key.verify(suite, &msg.to_be_maced(group_context)?, &tag)?;
        }
        (Sender::Member(_), None) => return Err(PeerMisbehaved::MembershipTagPresence.into()),
        (_, Some(_)) => return Err(PeerMisbehaved::MembershipTagPresence.into()),
        (_, None) => {}
    }
    Ok(AuthenticatedContent {
        wire_format: WireFormat::MLS_PUBLIC_MESSAGE,
        content: msg.content.clone(),
        auth: msg.auth.clone(),
    })
}
