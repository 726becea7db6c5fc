//! MLS wire types (RFC 9420): decode and encode only.
//!
//! Nothing here verifies a signature, holds a key or touches group state: a decoded
//! `KeyPackage`, `LeafNode` or `GroupInfo` is well-formed, not yet trusted. Decoding never
//! trusts: every vector is bounded by [`MAX_VEC_LEN`] and by the input, every enum is
//! checked, reserved values (0) are rejected where the RFC reserves them, and `optional<T>`
//! presence octets other than 0 and 1 are rejected. Decoded values cost a bounded multiple
//! of the input's size: at most 24 bytes of memory per encoded byte of a vector item (twice
//! that while a `Vec` grows). Large enum variants are boxed for that reason.
//!
//! ```text
//!  MlsMessage ─┬─ PublicMessage ── FramedContent ─┬─ application_data
//!              │   + FramedContentAuthData        ├─ Proposal ── Add(KeyPackage) / Update(LeafNode) / ...
//!              ├─ PrivateMessage (ciphertexts)    └─ Commit ── ProposalOrRef*, UpdatePath?
//!              ├─ Welcome ── EncryptedGroupSecrets* (-> GroupSecrets), encrypted GroupInfo
//!              ├─ GroupInfo ── GroupContext, extensions (e.g. RatchetTree), confirmation_tag
//!              └─ KeyPackage ── LeafNode ── Credential, Capabilities, LeafNodeSource
//! ```
//!
//! A body with no length prefix cannot be skipped, so unknown credential types, proposal
//! types and wire formats are `Unsupported` errors rather than opaque values; unknown code
//! points in lists (capabilities, extensions) round-trip unchanged. Rules that need more
//! than the bytes of one structure (signatures, tags, sorted `unmerged_leaves`, the
//! `key_package` source of a KeyPackage's leaf, lifetimes, ...) belong to `mls::validate`.

mod authenticated_content;
mod commit;
mod credential;
mod extension;
mod framing;
mod group_context;
mod key_package;
mod leaf_node;
mod message;
mod private_message;
mod proposal;
mod psk;
mod public_message;
mod tree;
mod update_path;
mod welcome;

#[cfg(test)]
mod testing;

pub(crate) use authenticated_content::AuthenticatedContent;
pub(crate) use commit::Commit;
#[cfg(test)]
pub(crate) use credential::Certificate;
pub use credential::{Credential, CredentialType};
pub use extension::{Extension, ExtensionType, ExternalSender};
pub use framing::Sender;
pub(crate) use framing::{
    ContentType, FramedContent, FramedContentAuthData, FramedContentBody, WireFormat,
};
pub(crate) use group_context::GroupContext;
pub(crate) use group_context::ProtocolVersion;
pub use key_package::KeyPackage;
pub use leaf_node::Lifetime;
pub(crate) use leaf_node::{Capabilities, LeafNode, LeafNodeSource};
pub(crate) use message::MlsMessageBody;
pub use message::{MessageKind, MlsMessage};
pub(crate) use private_message::{PrivateMessage, PrivateMessageContent, SenderData};
pub(crate) use proposal::ProposalType;
pub(crate) use proposal::{
    Add, ExternalInit, GroupContextExtensions, PreSharedKey, Proposal, ProposalOrRef, ReInit,
    Remove, Update,
};
pub(crate) use psk::{PreSharedKeyId, Psk, ResumptionPskUsage};
pub(crate) use public_message::PublicMessage;
pub use tree::RatchetTree;
pub(crate) use tree::{Node, ParentNode};
pub(crate) use update_path::{HpkeCiphertext, UpdatePath, UpdatePathNode};
pub(crate) use welcome::{EncryptedGroupSecrets, GroupSecrets, PathSecret};
pub use welcome::{GroupInfo, Welcome};

/// The largest vector meetkey accepts on the wire: 16 MiB. MLS allows 2^30 - 1; nothing a
/// meeting sends comes near 16 MiB, and the bound caps what a hostile peer can make us hold.
pub(crate) const MAX_VEC_LEN: usize = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    /// Each item type that appears in a vector, with the size of its smallest encoding:
    /// its in-memory size stays within 24 bytes per encoded byte (the module-level bound).
    #[test]
    fn vector_items_cost_at_most_24_bytes_per_encoded_byte() {
        let items = [
            ("Certificate", size_of::<Certificate>(), 1),
            ("Extension", size_of::<Extension>(), 3),
            ("HpkeCiphertext", size_of::<HpkeCiphertext>(), 2),
            ("UpdatePathNode", size_of::<UpdatePathNode>(), 2),
            (
                "EncryptedGroupSecrets",
                size_of::<EncryptedGroupSecrets>(),
                3,
            ),
            ("PreSharedKeyId", size_of::<PreSharedKeyId>(), 3),
            ("ProposalOrRef", size_of::<ProposalOrRef>(), 2),
            ("Option<Node>", size_of::<Option<Node>>(), 1),
            ("u32", size_of::<u32>(), 4),
            ("ExtensionType", size_of::<ExtensionType>(), 2),
        ];
        for (name, size, min_encoded) in items {
            assert!(size <= 24 * min_encoded, "{name}: {size} bytes");
        }
    }
}

/// `from_bytes` / `to_bytes` for the wire types an application exchanges, so that users
/// never need the internal codec traits.
macro_rules! public_bytes {
    ($($t:ident),* $(,)?) => {$(
        impl $t {
            /// Decodes its TLS presentation-language encoding (RFC 9420 §2.1); every byte of
            /// `bytes` must belong to it.
            ///
            /// # Errors
            /// [`Error::InvalidMessage`](crate::error::Error::InvalidMessage) when `bytes`
            /// does not encode one value of this type.
            pub fn from_bytes(bytes: &[u8]) -> crate::error::Result<Self> {
                <Self as crate::codec::Decode>::decode_exact(bytes)
            }

            /// Its TLS presentation-language encoding.
            ///
            /// # Errors
            /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow)
            /// when a vector inside is longer than an MLS varint can describe.
            pub fn to_bytes(&self) -> crate::error::Result<Vec<u8>> {
                crate::codec::Encode::to_bytes(self)
            }
        }
    )*};
}
public_bytes!(
    MlsMessage,
    KeyPackage,
    Welcome,
    GroupInfo,
    Extension,
    RatchetTree
);
