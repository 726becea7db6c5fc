//! The primitives behind the SFrame cipher suites and the key and salt derivation of
//! RFC 9605 §4.4.2.
//!
//! ```text
//!  base_key ──HKDF-Extract("", ·)──► sframe_secret ─┬─HKDF-Expand(key label, Nk)──► sframe_key
//!                                                   └─HKDF-Expand(salt label, Nn)─► sframe_salt
//!  labels: "SFrame 1.0 Secret key " / "SFrame 1.0 Secret salt " + KID (u64 BE) + suite (u16 BE)
//! ```

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};

use super::Secret;
use crate::error::{ApiMisuse, Result};

/// The algorithms of one of the five registered SFrame cipher suites (RFC 9605 §4.5, §8.1).
///
/// The SFrame layer maps its cipher-suite code point to one of these; this type says which
/// hash, AEAD and tag length the crypto layer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum SframeAlgorithm {
    /// `AES_128_CTR_HMAC_SHA256_80` (0x0001): AES-128-CTR then HMAC-SHA256 truncated to 10 bytes.
    Aes128CtrHmacSha256Tag80,
    /// `AES_128_CTR_HMAC_SHA256_64` (0x0002): tag truncated to 8 bytes.
    Aes128CtrHmacSha256Tag64,
    /// `AES_128_CTR_HMAC_SHA256_32` (0x0003): tag truncated to 4 bytes.
    Aes128CtrHmacSha256Tag32,
    /// `AES_128_GCM_SHA256_128` (0x0004).
    Aes128GcmSha256,
    /// `AES_256_GCM_SHA512_128` (0x0005).
    Aes256GcmSha512,
}

/// `AEAD.Nn` of every SFrame suite: 12 bytes.
pub(crate) const SFRAME_NONCE_LEN: usize = 12;

impl SframeAlgorithm {
    /// The IANA code point of the suite (RFC 9605 §8.1), used in the derivation labels.
    #[must_use]
    pub(crate) const fn suite_id(self) -> u16 {
        match self {
            Self::Aes128CtrHmacSha256Tag80 => 1,
            Self::Aes128CtrHmacSha256Tag64 => 2,
            Self::Aes128CtrHmacSha256Tag32 => 3,
            Self::Aes128GcmSha256 => 4,
            Self::Aes256GcmSha512 => 5,
        }
    }

    /// `AEAD.Nk`: 48 for the CTR-HMAC suites (16 AES + 32 HMAC), 16 or 32 for AES-GCM.
    #[must_use]
    pub(crate) const fn key_len(self) -> usize {
        match self {
            Self::Aes128GcmSha256 => 16,
            Self::Aes256GcmSha512 => 32,
            _ => 48,
        }
    }

    /// `AEAD.Nn`: 12 for every suite.
    #[must_use]
    pub(crate) const fn nonce_len(self) -> usize {
        SFRAME_NONCE_LEN
    }

    /// `AEAD.Nt`: the tag length in bytes.
    #[must_use]
    pub(crate) const fn tag_len(self) -> usize {
        match self {
            Self::Aes128CtrHmacSha256Tag80 => 10,
            Self::Aes128CtrHmacSha256Tag64 => 8,
            Self::Aes128CtrHmacSha256Tag32 => 4,
            Self::Aes128GcmSha256 | Self::Aes256GcmSha512 => 16,
        }
    }

    /// `sframe_secret = HKDF-Extract("", base_key)` (RFC 9605 §4.4.2).
    #[must_use]
    pub(crate) fn sframe_secret(self, base_key: &Secret) -> Secret {
        match self {
            Self::Aes256GcmSha512 => {
                let (prk, _) = Hkdf::<Sha512>::extract(Some(&[]), base_key.expose());
                Secret::from_array(<[u8; 64]>::from(prk))
            }
            _ => {
                let (prk, _) = Hkdf::<Sha256>::extract(Some(&[]), base_key.expose());
                Secret::from_array(<[u8; 32]>::from(prk))
            }
        }
    }

    /// `derive_key_salt(KID, base_key)` (RFC 9605 §4.4.2): `(sframe_key, sframe_salt)`.
    ///
    /// ```text
    /// sframe_secret = HKDF-Extract("", base_key)
    /// sframe_key_label = "SFrame 1.0 Secret key " + KID + cipher_suite
    /// sframe_key = HKDF-Expand(sframe_secret, sframe_key_label, AEAD.Nk)
    /// sframe_salt_label = "SFrame 1.0 Secret salt " + KID + cipher_suite
    /// sframe_salt = HKDF-Expand(sframe_secret, sframe_salt_label, AEAD.Nn)
    /// ```
    ///
    /// # Errors
    /// Never for the registered suites ([`ApiMisuse::InvalidLength`] would mean a bug).
    pub(crate) fn derive_key_salt(self, base_key: &Secret, kid: u64) -> Result<(Secret, Secret)> {
        let secret = self.sframe_secret(base_key);
        let mut key = Secret::zero(self.key_len())?;
        let mut salt = Secret::zero(self.nonce_len())?;
        let key_label = sframe_key_label(kid, self.suite_id());
        let salt_label = sframe_salt_label(kid, self.suite_id());
        let (k, s) = match self {
            Self::Aes256GcmSha512 => {
                let hk = Hkdf::<Sha512>::from_prk(secret.expose())
                    .map_err(|_| ApiMisuse::InvalidLength)?;
                (
                    hk.expand(&key_label, key.expose_mut()),
                    hk.expand(&salt_label, salt.expose_mut()),
                )
            }
            _ => {
                let hk = Hkdf::<Sha256>::from_prk(secret.expose())
                    .map_err(|_| ApiMisuse::InvalidLength)?;
                (
                    hk.expand(&key_label, key.expose_mut()),
                    hk.expand(&salt_label, salt.expose_mut()),
                )
            }
        };
        k.and(s).map_err(|_| ApiMisuse::InvalidLength)?;
        Ok((key, salt))
    }
}

const KEY_LABEL: &[u8; 22] = b"SFrame 1.0 Secret key ";
const SALT_LABEL: &[u8; 23] = b"SFrame 1.0 Secret salt ";

/// `"SFrame 1.0 Secret key " + KID + cipher_suite`, KID as 8 and the suite as 2 big-endian bytes.
#[must_use]
pub(crate) fn sframe_key_label(kid: u64, suite_id: u16) -> [u8; 32] {
    label(KEY_LABEL, kid, suite_id)
}

/// `"SFrame 1.0 Secret salt " + KID + cipher_suite`.
#[must_use]
pub(crate) fn sframe_salt_label(kid: u64, suite_id: u16) -> [u8; 33] {
    label(SALT_LABEL, kid, suite_id)
}

fn label<const P: usize, const N: usize>(prefix: &[u8; P], kid: u64, suite_id: u16) -> [u8; N] {
    let mut out = [0; N];
    let parts: [&[u8]; 3] = [prefix, &kid.to_be_bytes(), &suite_id.to_be_bytes()];
    let mut at = 0;
    for part in parts {
        if let Some(dst) = out.get_mut(at..at + part.len()) {
            dst.copy_from_slice(part);
        }
        at += part.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_the_rfc_layout() {
        let l = sframe_key_label(0x123, 1);
        assert_eq!(&l[..22], b"SFrame 1.0 Secret key ");
        assert_eq!(&l[22..], &[0, 0, 0, 0, 0, 0, 1, 0x23, 0, 1]);
        let l = sframe_salt_label(u64::MAX, 5);
        assert_eq!(
            &l[23..],
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 5]
        );
    }

    #[test]
    fn derivation_depends_on_kid_and_suite() {
        let base = Secret::from_slice(&[7; 16]).unwrap();
        let alg = SframeAlgorithm::Aes128GcmSha256;
        let (k1, s1) = alg.derive_key_salt(&base, 1).unwrap();
        let (k2, s2) = alg.derive_key_salt(&base, 2).unwrap();
        assert_ne!(k1, k2);
        assert_ne!(s1, s2);
        assert_eq!(k1.len(), 16);
        let (k3, _) = SframeAlgorithm::Aes128CtrHmacSha256Tag80
            .derive_key_salt(&base, 1)
            .unwrap();
        assert_eq!(k3.len(), 48);
        let (k4, _) = SframeAlgorithm::Aes256GcmSha512
            .derive_key_salt(&base, 1)
            .unwrap();
        assert_eq!(k4.len(), 32);
    }
}
