//! MLS wire types (RFC 9420): decode and encode only.
//!
//! Nothing here verifies a signature, holds a key or touches group state. Decoding never
//! trusts: every vector is bounded by [`MAX_VEC_LEN`] and by the input, and every enum is
//! checked. Types whose contents still need verification are named `…In`.

mod extension;
mod group_context;
mod psk;

pub use extension::{Extension, ExtensionType};
pub use group_context::{GroupContext, ProtocolVersion};
pub use psk::{PreSharedKeyId, Psk, ResumptionPskUsage};

/// The largest vector meetkey accepts on the wire: 16 MiB. MLS allows 2^30 - 1; nothing a
/// meeting sends comes near 16 MiB, and the bound caps what a hostile peer can make us hold.
pub const MAX_VEC_LEN: usize = 16 << 20;
