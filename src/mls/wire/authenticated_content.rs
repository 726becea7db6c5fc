//! `AuthenticatedContent` and the transcript hash inputs built from it (RFC 9420 §6, §8.2).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::{PeerMisbehaved, Result};

use super::framing::read_wire_format;
use super::{ContentType, FramedContent, FramedContentAuthData, WireFormat};

/// Content with its authentication, independent of how it was sent: what a PublicMessage
/// or PrivateMessage becomes once unprotected, and what transcript hashes and proposal
/// references are computed over (RFC 9420 §6).
///
/// ```text
/// struct {
///     WireFormat wire_format;
///     FramedContent content;
///     FramedContentAuthData auth;
/// } AuthenticatedContent;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthenticatedContent {
    /// How the content was (or will be) sent.
    pub wire_format: WireFormat,
    /// The content.
    pub content: FramedContent,
    /// Its signature and, for a commit, confirmation tag.
    pub auth: FramedContentAuthData,
}

impl AuthenticatedContent {
    /// The `ConfirmedTranscriptHashInput` of this commit (RFC 9420 §8.2).
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnexpectedContentType`] when the content is not a commit.
    pub(crate) fn confirmed_transcript_hash_input(
        &self,
    ) -> Result<ConfirmedTranscriptHashInput<'_>> {
        if self.content.content_type() != ContentType::Commit {
            return Err(PeerMisbehaved::UnexpectedContentType.into());
        }
        Ok(ConfirmedTranscriptHashInput {
            wire_format: self.wire_format,
            content: &self.content,
            signature: &self.auth.signature,
        })
    }

    /// The `InterimTranscriptHashInput` of this commit (RFC 9420 §8.2).
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnexpectedContentType`] when the content is not a commit (so it
    /// has no confirmation tag).
    #[cfg(test)]
    pub(crate) fn interim_transcript_hash_input(&self) -> Result<InterimTranscriptHashInput<'_>> {
        match (&self.auth.confirmation_tag, self.content.content_type()) {
            (Some(tag), ContentType::Commit) => Ok(InterimTranscriptHashInput {
                confirmation_tag: tag,
            }),
            _ => Err(PeerMisbehaved::UnexpectedContentType.into()),
        }
    }
}

impl Decode for AuthenticatedContent {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        let wire_format = read_wire_format(r)?;
        let content = FramedContent::decode(r)?;
        let auth = FramedContentAuthData::decode_for(r, content.content_type())?;
        Ok(Self {
            wire_format,
            content,
            auth,
        })
    }
}

impl Encode for AuthenticatedContent {
    fn encode(&self, w: &mut Writer) {
        self.wire_format.encode(w);
        self.content.encode(w);
        self.auth.encode(w);
    }
}

/// What the confirmed transcript hash is updated with: a commit up to its signature
/// (RFC 9420 §8.2). Borrowed from an [`AuthenticatedContent`]; encode it with
/// [`Encode::to_bytes`].
///
/// ```text
/// struct {
///     WireFormat wire_format;
///     FramedContent content; /* with content_type == commit */
///     opaque signature<V>;
/// } ConfirmedTranscriptHashInput;
/// ```
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConfirmedTranscriptHashInput<'a> {
    /// How the commit was sent.
    pub wire_format: WireFormat,
    /// The commit's content.
    pub content: &'a FramedContent,
    /// The commit's signature.
    pub signature: &'a [u8],
}

impl Encode for ConfirmedTranscriptHashInput<'_> {
    fn encode(&self, w: &mut Writer) {
        self.wire_format.encode(w);
        self.content.encode(w);
        w.write_opaque(self.signature);
    }
}

/// What the interim transcript hash is updated with: the commit's confirmation tag
/// (RFC 9420 §8.2). A joiner builds it from `GroupInfo.confirmation_tag`.
///
/// ```text
/// struct {
///     MAC confirmation_tag;
/// } InterimTranscriptHashInput;
/// ```
#[derive(Debug, Clone, Copy)]
#[cfg(test)]
pub(crate) struct InterimTranscriptHashInput<'a> {
    /// The confirmation tag.
    pub confirmation_tag: &'a [u8],
}

#[cfg(test)]
impl Encode for InterimTranscriptHashInput<'_> {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(self.confirmation_tag);
    }
}

#[cfg(test)]
mod tests;
