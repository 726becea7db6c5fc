//! Ed25519 signatures and `SignWithLabel` / `VerifyWithLabel` (RFC 9420 §5.1.2).

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::kdf::MLS_LABEL_PREFIX;
use crate::codec::Writer;
use crate::error::{Error, InvalidMessage, Result};

/// The length of an Ed25519 signature in bytes.
pub const SIGNATURE_LEN: usize = 64;

/// An Ed25519 signing key. Zeroized on drop; never printed.
pub struct SignaturePrivateKey(SigningKey);

impl SignaturePrivateKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl super::Rng) -> Self {
        Self(SigningKey::generate(rng))
    }

    /// Imports a key from its 32-byte RFC 8032 seed.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] unless `seed` is 32 bytes.
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        let seed = <&[u8; 32]>::try_from(seed).map_err(|_| InvalidMessage::InvalidKey)?;
        Ok(Self(SigningKey::from_bytes(seed)))
    }

    /// Writes the 32-byte seed as `opaque<V>` into a saved group state (which the caller
    /// zeroizes).
    pub(crate) fn write_seed_to(&self, w: &mut Writer) {
        let mut seed = self.0.to_bytes();
        w.write_opaque(&seed);
        zeroize::Zeroize::zeroize(&mut seed);
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> SignaturePublicKey {
        SignaturePublicKey(self.0.verifying_key())
    }

    /// Signs `message` as it is (no label). Protocols must add their own domain separation.
    #[must_use]
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(message).to_bytes()
    }

    /// `SignWithLabel(key, label, content)`: signs the encoded
    /// `SignContent { opaque label<V> = "MLS 1.0 " + label; opaque content<V>; }`.
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when
    /// `content` exceeds 2^30 - 1 bytes.
    pub fn sign_with_label(&self, label: &[u8], content: &[u8]) -> Result<[u8; SIGNATURE_LEN]> {
        Ok(self.sign(&sign_content(label, content)?))
    }
}

impl core::fmt::Debug for SignaturePrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SignaturePrivateKey")
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key, parsed once (point decompression) and then cheap to verify with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignaturePublicKey(VerifyingKey);

impl SignaturePublicKey {
    /// Parses a 32-byte RFC 8032 public key.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] when the bytes are not a valid Ed25519 point.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes = <&[u8; 32]>::try_from(bytes).map_err(|_| InvalidMessage::InvalidKey)?;
        VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| InvalidMessage::InvalidKey.into())
    }

    /// The 32 encoded bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies a signature over `message` as it is, with the strict checks of RFC 8032
    /// (canonical `S`, no small-order keys or `R`).
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for any invalid signature, including a wrong length.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| Error::AuthenticationFailed)?;
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| Error::AuthenticationFailed)
    }

    /// `VerifyWithLabel(key, label, content, signature)`.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for an invalid signature;
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for
    /// oversized content.
    pub fn verify_with_label(&self, label: &[u8], content: &[u8], signature: &[u8]) -> Result<()> {
        self.verify(&sign_content(label, content)?, signature)
    }
}

impl core::fmt::Debug for SignaturePublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SignaturePublicKey(")?;
        for b in self.to_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

fn sign_content(label: &[u8], content: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(MLS_LABEL_PREFIX.len() + label.len() + content.len() + 8);
    w.write_prefixed(|w| {
        w.write_raw(MLS_LABEL_PREFIX);
        w.write_raw(label);
    });
    w.write_opaque(content);
    w.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labeled_signatures_bind_the_label() {
        let sk = SignaturePrivateKey::from_seed(&[9; 32]).unwrap();
        let pk = sk.public_key();
        let sig = sk.sign_with_label(b"LeafNodeTBS", b"content").unwrap();
        assert_eq!(
            pk.verify_with_label(b"LeafNodeTBS", b"content", &sig),
            Ok(())
        );
        assert_eq!(
            pk.verify_with_label(b"GroupInfoTBS", b"content", &sig),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(
            pk.verify_with_label(b"LeafNodeTBS", b"contenT", &sig),
            Err(Error::AuthenticationFailed)
        );
        assert_eq!(
            pk.verify_with_label(b"LeafNodeTBS", b"content", &sig[..63]),
            Err(Error::AuthenticationFailed)
        );
        // The raw signature over the same content is not a labeled one.
        assert_eq!(
            pk.verify(b"content", &sig),
            Err(Error::AuthenticationFailed)
        );
    }

    #[test]
    fn malformed_keys_are_rejected() {
        assert!(SignaturePublicKey::from_bytes(&[0; 31]).is_err());
        assert!(SignaturePrivateKey::from_seed(&[0; 33]).is_err());
        assert_eq!(
            format!("{:?}", SignaturePrivateKey::from_seed(&[1; 32]).unwrap()),
            "SignaturePrivateKey { .. }"
        );
    }
}
