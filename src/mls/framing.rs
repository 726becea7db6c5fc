//! Message framing (RFC 9420 §6): signing content, and protecting it as a PublicMessage
//! (membership tag) or a PrivateMessage (AEAD under the secret tree), as pure functions.
//!
//! ```text
//!            FramedContent
//!                  │ sign_content (SignWithLabel "FramedContentTBS", §6.1)
//!                  ▼
//!          AuthenticatedContent ◄──────────────────────────────┐
//!           │                 │                                │ (then the caller runs
//!   protect_public      protect_private                        │  verify_content_signature
//!   (+membership_tag)   (content AEAD under the sender's       │  with the sender's key)
//!           │            ratchet, sender data AEAD, §6.3)      │
//!           ▼                 ▼                                │
//!     PublicMessage     PrivateMessage ── unprotect_private ───┤
//!           └──────────────────────────── unprotect_public ────┘
//! ```
//!
//! Nothing here holds group state. The caller (`mls::group`) chooses the epoch's secrets and
//! GroupContext, looks up the sender's signature key and checks that the sender's leaf is not
//! blank. Unprotecting checks what the bytes and the keys given can prove: group and epoch
//! against the context, tag presence, the membership tag, the AEADs, the padding and the
//! content type rules of §6 and §6.1. Decrypting a PrivateMessage ([`decrypt_private`]) reads
//! the secret tree without changing it and returns the change it would make; the caller
//! commits it once the whole message is accepted, so a rejected message leaves the tree
//! exactly as it was.
//!
//! The signature is not verified by the unprotect functions: the key depends on the sender
//! and the group's tree, so the caller calls [`verify_content`] next (RFC 9420 §6.1
//! "Recipients of an MLSMessage MUST verify the signature"), which alone makes the
//! [`VerifiedContent`] that staging a commit takes.

mod content;
mod private;
mod public;

#[cfg(any(test, feature = "bench-internals"))]
pub(crate) use content::verify_content_signature;
pub(crate) use content::{proposal_ref, sign_content, verify_content, VerifiedContent};
#[cfg(any(test, fuzzing, feature = "bench-internals"))]
pub(crate) use private::unprotect_private;
pub(crate) use private::{decrypt_private, protect_private};
pub(crate) use public::{protect_public, unprotect_public};

use super::secret_tree::RatchetKind;
use super::wire::{ContentType, FramedContentAuthData, FramedContentBody, Sender};

/// The ratchet that keys a content type (RFC 9420 §6.3.1): application data uses the
/// application ratchet, proposals and commits the handshake ratchet.
const fn ratchet_kind(content_type: ContentType) -> RatchetKind {
    match content_type {
        ContentType::Application => RatchetKind::Application,
        ContentType::Proposal | ContentType::Commit => RatchetKind::Handshake,
    }
}

/// Whether a sender of this type may send this content (RFC 9420 §6.1): `external` senders
/// only proposals, `new_member_commit` only commits, `new_member_proposal` only Add
/// proposals; members anything. (Which proposal types an external sender may send, §12.1.8,
/// is checked by the caller with the sender's key: `validate::external_sender_may_propose`.)
const fn sender_may_send(sender: Sender, body: &FramedContentBody) -> bool {
    match (sender, body) {
        (Sender::Member(_), _)
        | (Sender::External(_), FramedContentBody::Proposal(_))
        | (Sender::NewMemberCommit, FramedContentBody::Commit(_)) => true,
        (Sender::NewMemberProposal, FramedContentBody::Proposal(p)) => {
            matches!(p, super::wire::Proposal::Add(_))
        }
        _ => false,
    }
}

/// Whether the confirmation tag is present exactly when the content is a commit
/// (RFC 9420 §6.1).
const fn confirmation_tag_consistent(
    body: &FramedContentBody,
    auth: &FramedContentAuthData,
) -> bool {
    matches!(body, FramedContentBody::Commit(_)) == auth.confirmation_tag.is_some()
}

#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
