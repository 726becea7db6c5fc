//! Extensions (RFC 9420 §13.4).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::error::Result;

use super::{Credential, MAX_VEC_LEN};

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

/// A party allowed to send proposals to the group from outside it (RFC 9420 §12.1.8.1),
/// one entry of the `external_senders` GroupContext extension.
///
/// ```text
/// struct {
///   SignaturePublicKey signature_key;
///   Credential credential;
/// } ExternalSender;
///
/// ExternalSender external_senders<V>;
/// ```
///
/// A message whose sender is `external(sender_index)` is signed with the `signature_key` of
/// the entry at `sender_index` (RFC 9420 §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalSender {
    /// `SignaturePublicKey signature_key` (`opaque<V>`).
    pub signature_key: Vec<u8>,
    /// The sender's credential.
    pub credential: Credential,
}

impl Decode for ExternalSender {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            signature_key: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            credential: Credential::decode(r)?,
        })
    }
}

impl Encode for ExternalSender {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.signature_key);
        self.credential.encode(w);
    }
}

impl ExternalSender {
    /// The `external_senders` GroupContext extension listing `senders` in order (the order
    /// gives each its `sender_index`).
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for an
    /// absurdly long list.
    pub fn extension(senders: &[Self]) -> Result<Extension> {
        let mut w = Writer::new();
        w.write_vec(senders);
        Ok(Extension {
            extension_type: ExtensionType::EXTERNAL_SENDERS,
            extension_data: w.into_bytes()?,
        })
    }

    /// The entries of the `external_senders` extension among `extensions`, `None` when
    /// there is no such extension.
    ///
    /// # Errors
    /// [`InvalidMessage`](crate::error::InvalidMessage) when its data does not decode as
    /// `ExternalSender external_senders<V>` exactly.
    pub(crate) fn from_extensions(extensions: &[Extension]) -> Result<Option<Vec<Self>>> {
        let Some(ext) = extensions
            .iter()
            .find(|e| e.extension_type == ExtensionType::EXTERNAL_SENDERS)
        else {
            return Ok(None);
        };
        let mut r = Reader::new(&ext.extension_data);
        let senders: Vec<Self> = r.read_vec(MAX_VEC_LEN)?;
        r.finish()?;
        Ok(Some(senders))
    }
}
