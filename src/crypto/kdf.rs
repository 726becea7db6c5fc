//! The labeled key derivation of RFC 9420 §5 and §8 over HKDF-SHA256, plus `Hash`, `RefHash`
//! and `MAC`.

use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq;

use super::{Digest, Mac, Secret, Suite};
use crate::codec::Writer;
use crate::error::{ApiMisuse, Error, Result};

/// The prefix of every MLS label (RFC 9420 §5.1.2, §8).
pub(crate) const MLS_LABEL_PREFIX: &[u8] = b"MLS 1.0 ";

impl Suite {
    /// `Hash(data)`.
    #[must_use]
    pub(crate) fn hash(&self, data: &[u8]) -> Digest {
        Digest::from_array(<[u8; 32]>::from(Sha256::digest(data)))
    }

    /// `Hash` over several pieces, without concatenating them first.
    #[must_use]
    pub(crate) fn hash_parts(&self, parts: &[&[u8]]) -> Digest {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        Digest::from_array(<[u8; 32]>::from(h.finalize()))
    }

    /// `RefHash(label, value) = Hash(RefHashInput)` (RFC 9420 §5.2).
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`] when `value` exceeds 2^30 - 1 bytes.
    pub(crate) fn ref_hash(&self, label: &[u8], value: &[u8]) -> Result<Digest> {
        let mut w = Writer::with_capacity(label.len() + value.len() + 8);
        w.write_opaque(label);
        w.write_opaque(value);
        Ok(self.hash(&w.into_bytes()?))
    }

    /// `KDF.Extract(salt, ikm)`.
    #[must_use]
    pub(crate) fn extract(&self, salt: &Secret, ikm: &Secret) -> Secret {
        self.extract_raw(salt.expose(), ikm.expose())
    }

    pub(in crate::crypto) fn extract_raw(&self, salt: &[u8], ikm: &[u8]) -> Secret {
        let (prk, _) = Hkdf::<Sha256>::extract(Some(salt), ikm);
        Secret::from_array(<[u8; 32]>::from(prk))
    }

    /// `KDF.Expand(secret, info, length)` into a secret of at most 64 bytes.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `length` exceeds 64 or `secret` is shorter than
    /// `KDF.Nh`.
    pub(in crate::crypto) fn expand(
        &self,
        secret: &Secret,
        info: &[u8],
        length: usize,
    ) -> Result<Secret> {
        let mut out = Secret::zero(length)?;
        let hk = Hkdf::<Sha256>::from_prk(secret.expose()).map_err(|_| ApiMisuse::InvalidLength)?;
        hk.expand(info, out.expose_mut())
            .map_err(|_| ApiMisuse::InvalidLength)?;
        Ok(out)
    }

    /// `ExpandWithLabel(secret, label, context, length)` (RFC 9420 §8).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `length` exceeds 64 bytes;
    /// [`ApiMisuse::EncodingOverflow`] when `context` exceeds 2^30 - 1 bytes.
    pub(crate) fn expand_with_label(
        &self,
        secret: &Secret,
        label: &[u8],
        context: &[u8],
        length: usize,
    ) -> Result<Secret> {
        let info = kdf_label(label, context, length)?;
        self.expand(secret, &info, length)
    }

    /// `DeriveSecret(secret, label) = ExpandWithLabel(secret, label, "", KDF.Nh)`.
    ///
    /// # Errors
    /// As [`Suite::expand_with_label`]; cannot fail for well-formed secrets.
    pub(crate) fn derive_secret(&self, secret: &Secret, label: &[u8]) -> Result<Secret> {
        self.expand_with_label(secret, label, &[], self.hash_len())
    }

    /// `DeriveTreeSecret(secret, label, generation, length)` (RFC 9420 §9.1): the generation
    /// is the context, as a big-endian `uint32`.
    ///
    /// # Errors
    /// As [`Suite::expand_with_label`].
    pub(crate) fn derive_tree_secret(
        &self,
        secret: &Secret,
        label: &[u8],
        generation: u32,
        length: usize,
    ) -> Result<Secret> {
        self.expand_with_label(secret, label, &generation.to_be_bytes(), length)
    }

    /// `MAC(key, data)`: HMAC-SHA256.
    #[must_use]
    pub(crate) fn mac(&self, key: &Secret, data: &[u8]) -> Mac {
        // HMAC accepts keys of any length; the error arm is unreachable.
        let tag = <Hmac<Sha256>>::new_from_slice(key.expose())
            .map(|mut m| {
                m.update(data);
                <[u8; 32]>::from(m.finalize().into_bytes())
            })
            .unwrap_or([0; 32]);
        Mac::new(Digest::from_array(tag))
    }

    /// Checks `tag == MAC(key, data)` in constant time.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] when the tag does not match.
    pub(crate) fn verify_mac(&self, key: &Secret, data: &[u8], tag: &Mac) -> Result<()> {
        if bool::from(self.mac(key, data).ct_eq(tag)) {
            Ok(())
        } else {
            Err(Error::AuthenticationFailed)
        }
    }
}

/// The encoded `KDFLabel { uint16 length; opaque label<V>; opaque context<V>; }`.
fn kdf_label(label: &[u8], context: &[u8], length: usize) -> Result<Vec<u8>> {
    let length = u16::try_from(length).map_err(|_| ApiMisuse::InvalidLength)?;
    let mut w =
        Writer::with_capacity(2 + 1 + MLS_LABEL_PREFIX.len() + label.len() + 4 + context.len());
    w.write_u16(length);
    w.write_prefixed(|w| {
        w.write_raw(MLS_LABEL_PREFIX);
        w.write_raw(label);
    });
    w.write_opaque(context);
    w.into_bytes()
}
