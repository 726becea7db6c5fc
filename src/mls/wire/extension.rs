//! Extensions (RFC 9420 §13.4).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::Result;

use super::MAX_VEC_LEN;

crate::codepoint! {
    /// An extension type (RFC 9420 §17.3). Unknown and GREASE values round-trip.
    pub struct ExtensionType(u16) {
        /// `application_id`.
        APPLICATION_ID = 0x0001,
        /// `ratchet_tree`.
        RATCHET_TREE = 0x0002,
        /// `required_capabilities`.
        REQUIRED_CAPABILITIES = 0x0003,
        /// `external_pub`.
        EXTERNAL_PUB = 0x0004,
        /// `external_senders`.
        EXTERNAL_SENDERS = 0x0005,
    }
}

/// `struct { ExtensionType extension_type; opaque extension_data<V>; } Extension;`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The type.
    pub extension_type: ExtensionType,
    /// The type-specific data.
    pub extension_data: Vec<u8>,
}

impl Decode for Extension {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            extension_type: ExtensionType::decode(r)?,
            extension_data: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for Extension {
    fn encode(&self, w: &mut Writer) {
        self.extension_type.encode(w);
        w.write_opaque(&self.extension_data);
    }
}
