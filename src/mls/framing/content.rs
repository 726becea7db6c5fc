//! Content authentication (RFC 9420 §6.1) and proposal references (§5.2).

use crate::codec::Encode;
use crate::crypto::{SignaturePrivateKey, SignaturePublicKey, Suite};
use crate::error::{ApiMisuse, Result};
use crate::mls::wire::{
    AuthenticatedContent, ContentType, FramedContent, FramedContentAuthData, GroupContext,
    WireFormat,
};

/// The label of the content signature.
const FRAMED_CONTENT_TBS: &[u8] = b"FramedContentTBS";

/// The label of a ProposalRef (RFC 9420 §5.2), in full: `RefHash` adds no prefix.
const PROPOSAL_REF_LABEL: &[u8] = b"MLS 1.0 Proposal Reference";

/// Signs `content` for sending as `wire_format` (RFC 9420 §6.1):
///
/// ```text
/// signature = SignWithLabel(signer, "FramedContentTBS", FramedContentTBS)
/// ```
///
/// The `FramedContentTBS` includes `group_context` when the sender is a `member` or a
/// `new_member_commit`. The result has no confirmation tag: for a commit the caller sets
/// `auth.confirmation_tag` once the new epoch's confirmation key is known (the tag is not
/// signed). Both implemented suites sign with Ed25519, so `suite` selects nothing yet.
///
/// # Errors
/// [`ApiMisuse::EncodingOverflow`] when a field is longer than an MLS varint can describe.
pub(crate) fn sign_content(
    suite: &Suite,
    signer: &SignaturePrivateKey,
    wire_format: WireFormat,
    content: FramedContent,
    group_context: &GroupContext,
) -> Result<AuthenticatedContent> {
    let _ = suite; // Ed25519 for both implemented suites.
    let tbs = content.to_be_signed(wire_format, group_context)?;
    let signature = signer.sign_with_label(FRAMED_CONTENT_TBS, &tbs)?;
    Ok(AuthenticatedContent {
        wire_format,
        content,
        auth: FramedContentAuthData {
            signature: signature.to_vec(),
            confirmation_tag: None,
        },
    })
}

/// Content whose signature verified under its sender's key (RFC 9420 §6.1). Only
/// [`verify_content`] makes one, so a function that takes it (staging a commit) cannot be
/// handed content whose signature nobody checked.
#[derive(Debug)]
pub(crate) struct VerifiedContent(AuthenticatedContent);

impl core::ops::Deref for VerifiedContent {
    type Target = AuthenticatedContent;

    fn deref(&self) -> &AuthenticatedContent {
        &self.0
    }
}

impl VerifiedContent {
    /// The verified content, for a caller that keeps it.
    pub(crate) fn into_content(self) -> AuthenticatedContent {
        self.0
    }
}

/// Checks the signature of `auth` with the sender's `key` (see
/// [`verify_content_signature`]) and returns it as [`VerifiedContent`].
///
/// # Errors
/// As [`verify_content_signature`].
pub(crate) fn verify_content(
    suite: &Suite,
    key: &SignaturePublicKey,
    auth: AuthenticatedContent,
    group_context: &GroupContext,
) -> Result<VerifiedContent> {
    verify_content_signature(suite, key, &auth, group_context)?;
    Ok(VerifiedContent(auth))
}

/// Verifies the signature of `auth` with the sender's key (RFC 9420 §6.1): the key of the
/// leaf at `leaf_index` for a `member`, of the `external_senders` entry for an `external`
/// sender, of the leaf in the Commit's path or in the KeyPackage for new members. Choosing
/// the key is the caller's job.
///
/// # Errors
/// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) when the
/// signature does not verify; [`ApiMisuse::EncodingOverflow`] for absurdly large content.
pub(crate) fn verify_content_signature(
    suite: &Suite,
    key: &SignaturePublicKey,
    auth: &AuthenticatedContent,
    group_context: &GroupContext,
) -> Result<()> {
    let _ = suite; // Ed25519 for both implemented suites.
    let tbs = auth.content.to_be_signed(auth.wire_format, group_context)?;
    key.verify_with_label(FRAMED_CONTENT_TBS, &tbs, &auth.auth.signature)
}

/// `MakeProposalRef(value) = RefHash("MLS 1.0 Proposal Reference", value)` where `value` is
/// the encoded AuthenticatedContent carrying the proposal (RFC 9420 §5.2), hashed with the
/// group's suite.
///
/// # Errors
/// [`ApiMisuse::UnexpectedContentType`] when the content is not a proposal;
/// [`ApiMisuse::EncodingOverflow`] for absurdly large content.
pub(crate) fn proposal_ref(suite: &Suite, auth: &AuthenticatedContent) -> Result<Vec<u8>> {
    if auth.content.content_type() != ContentType::Proposal {
        return Err(ApiMisuse::UnexpectedContentType.into());
    }
    let value = auth.to_bytes()?;
    Ok(suite
        .ref_hash(PROPOSAL_REF_LABEL, &value)?
        .as_bytes()
        .to_vec())
}
