//! Welcome, GroupSecrets and GroupInfo (RFC 9420 §12.4.3).

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{CipherSuite, Secret, MAX_SECRET_LEN};
use crate::error::{InvalidMessage, Result};

use super::key_package::read_cipher_suite;
use super::{Extension, GroupContext, HpkeCiphertext, PreSharedKeyId, MAX_VEC_LEN};

/// Reads a secret `opaque<V>` of at most [`MAX_SECRET_LEN`] bytes straight into a [`Secret`].
fn read_secret(r: &mut Reader<'_>) -> Result<Secret> {
    Secret::from_slice(r.read_opaque(MAX_SECRET_LEN)?)
        .map_err(|_| InvalidMessage::LengthTooLarge.into())
}

/// The path secret a joiner gets for the lowest node it shares with the committer
/// (RFC 9420 §12.4.3.1). Held as a [`Secret`]: zeroized on drop, redacted in `Debug`.
///
/// ```text
/// struct {
///   opaque path_secret<V>;
/// } PathSecret;
/// ```
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct PathSecret {
    /// The path secret (at most 64 bytes).
    pub path_secret: Secret,
}

impl Decode for PathSecret {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            path_secret: read_secret(r)?,
        })
    }
}

impl Encode for PathSecret {
    fn encode(&self, w: &mut Writer) {
        self.path_secret.write_opaque_to(w);
    }
}

/// The secrets a Welcome encrypts to each new member (RFC 9420 §12.4.3.1).
///
/// The secrets are [`Secret`]s, so a decoded value zeroizes them on drop. Encoding writes
/// them in the clear: encrypt the encoding to the joiner's `init_key` at once and drop it.
/// Secrets longer than 64 bytes (`KDF.Nh` of the largest hash) are rejected.
///
/// ```text
/// struct {
///   opaque joiner_secret<V>;
///   optional<PathSecret> path_secret;
///   PreSharedKeyID psks<V>;
/// } GroupSecrets;
/// ```
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GroupSecrets {
    /// The joiner secret of the new epoch.
    pub joiner_secret: Secret,
    /// The path secret, when the joiner shares a path node with the committer's update.
    pub path_secret: Option<PathSecret>,
    /// The PSKs mixed into the new epoch.
    pub psks: Vec<PreSharedKeyId>,
}

impl Decode for GroupSecrets {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            joiner_secret: read_secret(r)?,
            path_secret: Option::decode(r)?,
            psks: r.read_vec(MAX_VEC_LEN)?,
        })
    }
}

impl Encode for GroupSecrets {
    fn encode(&self, w: &mut Writer) {
        self.joiner_secret.write_opaque_to(w);
        self.path_secret.encode(w);
        w.write_vec(&self.psks);
    }
}

/// The group secrets encrypted to one new member (RFC 9420 §12.4.3.1).
///
/// ```text
/// struct {
///   KeyPackageRef new_member;
///   HPKECiphertext encrypted_group_secrets;
/// } EncryptedGroupSecrets;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EncryptedGroupSecrets {
    /// `KeyPackageRef` (`opaque HashReference<V>`, §5.2) of the new member's KeyPackage.
    pub new_member: Vec<u8>,
    /// The encrypted [`GroupSecrets`].
    pub encrypted_group_secrets: HpkeCiphertext,
}

impl Decode for EncryptedGroupSecrets {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            new_member: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            encrypted_group_secrets: HpkeCiphertext::decode(r)?,
        })
    }
}

impl Encode for EncryptedGroupSecrets {
    fn encode(&self, w: &mut Writer) {
        w.write_opaque(&self.new_member);
        self.encrypted_group_secrets.encode(w);
    }
}

/// What a committer sends to the members it adds (RFC 9420 §12.4.3.1).
///
/// ```text
/// struct {
///   CipherSuite cipher_suite;
///   EncryptedGroupSecrets secrets<V>;
///   opaque encrypted_group_info<V>;
/// } Welcome;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// The group's cipher suite (reserved 0 rejected).
    pub(crate) cipher_suite: CipherSuite,
    /// One entry per new member.
    pub(crate) secrets: Vec<EncryptedGroupSecrets>,
    /// The [`GroupInfo`], encrypted under the welcome key.
    pub(crate) encrypted_group_info: Vec<u8>,
}

impl Decode for Welcome {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            cipher_suite: read_cipher_suite(r)?,
            secrets: r.read_vec(MAX_VEC_LEN)?,
            encrypted_group_info: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for Welcome {
    fn encode(&self, w: &mut Writer) {
        self.cipher_suite.encode(w);
        w.write_vec(&self.secrets);
        w.write_opaque(&self.encrypted_group_info);
    }
}

/// The state a new member needs to join, signed by a member (RFC 9420 §12.4.3).
///
/// ```text
/// struct {
///     GroupContext group_context;
///     Extension extensions<V>;
///     MAC confirmation_tag;
///     uint32 signer;
///     /* SignWithLabel(., "GroupInfoTBS", GroupInfoTBS) */
///     opaque signature<V>;
/// } GroupInfo;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The group's current context.
    pub(crate) group_context: GroupContext,
    /// Extensions for joiners (e.g. `ratchet_tree`, `external_pub`).
    pub(crate) extensions: Vec<Extension>,
    /// The confirmation tag of the epoch (`MAC<V>`).
    pub(crate) confirmation_tag: Vec<u8>,
    /// The leaf index of the member that signed.
    pub(crate) signer: u32,
    /// `SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)`.
    pub(crate) signature: Vec<u8>,
}

impl GroupInfo {
    fn encode_content(&self, w: &mut Writer) {
        self.group_context.encode(w);
        w.write_vec(&self.extensions);
        w.write_opaque(&self.confirmation_tag);
        w.write_u32(self.signer);
    }

    /// The encoded `GroupInfoTBS` (RFC 9420 §12.4.3): every field but the signature.
    ///
    /// ```text
    /// struct {
    ///     GroupContext group_context;
    ///     Extension extensions<V>;
    ///     MAC confirmation_tag;
    ///     uint32 signer;
    /// } GroupInfoTBS;
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// field is longer than an MLS varint can describe.
    pub(crate) fn to_be_signed(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode_content(&mut w);
        w.into_bytes()
    }
}

impl Decode for GroupInfo {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        Ok(Self {
            group_context: GroupContext::decode(r)?,
            extensions: r.read_vec(MAX_VEC_LEN)?,
            confirmation_tag: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
            signer: r.read_u32()?,
            signature: r.read_opaque(MAX_VEC_LEN)?.to_vec(),
        })
    }
}

impl Encode for GroupInfo {
    fn encode(&self, w: &mut Writer) {
        self.encode_content(w);
        w.write_opaque(&self.signature);
    }
}

#[cfg(test)]
pub(crate) mod tests;
