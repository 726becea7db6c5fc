//! SFrame cipher suites (RFC 9605 §4.5, registry §8.1) and the per-KID keys (§4.4.2).

use crate::crypto::{Secret, SframeAlgorithm, SframeCipher};
use crate::error::{Error, Result, Unsupported};

crate::codepoint! {
    /// An SFrame cipher suite code point (RFC 9605 §8.1).
    ///
    /// ```text
    /// | Name                         | Nh | Nka | Nk | Nn | Nt |
    /// | AES_128_CTR_HMAC_SHA256_80   | 32 | 16  | 48 | 12 | 10 |
    /// | AES_128_CTR_HMAC_SHA256_64   | 32 | 16  | 48 | 12 |  8 |
    /// | AES_128_CTR_HMAC_SHA256_32   | 32 | 16  | 48 | 12 |  4 |
    /// | AES_128_GCM_SHA256_128       | 32 | n/a | 16 | 12 | 16 |
    /// | AES_256_GCM_SHA512_128       | 64 | n/a | 32 | 12 | 16 |
    /// ```
    pub struct SframeSuite(u16) {
        /// AES-128-CTR with HMAC-SHA256, 80-bit tag.
        AES_128_CTR_HMAC_SHA256_80 = 0x0001,
        /// AES-128-CTR with HMAC-SHA256, 64-bit tag.
        AES_128_CTR_HMAC_SHA256_64 = 0x0002,
        /// AES-128-CTR with HMAC-SHA256, 32-bit tag (see RFC 9605 §7.5 on short tags).
        AES_128_CTR_HMAC_SHA256_32 = 0x0003,
        /// AES-128-GCM with SHA-256 for key derivation, 128-bit tag. meetkey's default for media.
        AES_128_GCM_SHA256_128 = 0x0004,
        /// AES-256-GCM with SHA-512 for key derivation, 128-bit tag.
        AES_256_GCM_SHA512_128 = 0x0005,
    }
}

impl SframeSuite {
    /// The primitives of this suite.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`] for a code point outside 0x0001..=0x0005 (0x0000 is
    /// reserved).
    pub(crate) const fn algorithm(self) -> Result<SframeAlgorithm> {
        match self {
            Self::AES_128_CTR_HMAC_SHA256_80 => Ok(SframeAlgorithm::Aes128CtrHmacSha256Tag80),
            Self::AES_128_CTR_HMAC_SHA256_64 => Ok(SframeAlgorithm::Aes128CtrHmacSha256Tag64),
            Self::AES_128_CTR_HMAC_SHA256_32 => Ok(SframeAlgorithm::Aes128CtrHmacSha256Tag32),
            Self::AES_128_GCM_SHA256_128 => Ok(SframeAlgorithm::Aes128GcmSha256),
            Self::AES_256_GCM_SHA512_128 => Ok(SframeAlgorithm::Aes256GcmSha512),
            Self(other) => Err(Error::Unsupported(Unsupported::CipherSuite(other))),
        }
    }

    /// `AEAD.Nk` (RFC 9605 §4.5): the length of this suite's `base_key`, in bytes.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`] for a suite outside 0x0001..=0x0005.
    pub const fn base_key_len(self) -> Result<usize> {
        match self.algorithm() {
            Ok(a) => Ok(a.key_len()),
            Err(e) => Err(e),
        }
    }

    /// The length of this suite's authentication tag, in bytes.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`] for a suite outside 0x0001..=0x0005.
    pub(crate) const fn tag_len(self) -> Result<usize> {
        match self.algorithm() {
            Ok(a) => Ok(a.tag_len()),
            Err(e) => Err(e),
        }
    }
}

impl Default for SframeSuite {
    /// `AES_128_GCM_SHA256_128`, the default for media (docs/ARCHITECTURE.md).
    fn default() -> Self {
        Self::AES_128_GCM_SHA256_128
    }
}

crate::secret_role! {
    /// A `base_key` (RFC 9605 §4.4.1): the secret behind one or more KIDs. With MLS it is
    /// `MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)` of an epoch (§5.2).
    pub struct BaseKey;
}

impl BaseKey {
    /// Wraps exporter output (or any `base_key` from the key-management layer).
    #[must_use]
    pub const fn from_secret(secret: Secret) -> Self {
        Self(secret)
    }

    /// Copies a `base_key` from bytes (a key-management layer other than meetkey's MLS).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`](crate::error::ApiMisuse::InvalidLength) when longer than
    /// 64 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Secret::from_slice(bytes).map(Self)
    }
}

/// The derived key material of one KID (RFC 9605 §4.4.2), exposed for inspection against test
/// vectors: every comparison is constant-time, nothing is printed.
#[cfg(test)]
#[derive(Debug)]
pub(crate) struct DerivedKeys {
    /// `sframe_secret = HKDF-Extract("", base_key)`.
    pub sframe_secret: Secret,
    /// `sframe_key` (`AEAD.Nk` bytes).
    pub sframe_key: Secret,
    /// `sframe_salt` (`AEAD.Nn` bytes).
    pub sframe_salt: Secret,
}

#[cfg(test)]
impl DerivedKeys {
    /// Runs `derive_key_salt(KID, base_key)` for `suite`.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`] for an unknown suite.
    pub(crate) fn derive(suite: SframeSuite, base_key: &BaseKey, kid: u64) -> Result<Self> {
        let alg = suite.algorithm()?;
        let (sframe_key, sframe_salt) = alg.derive_key_salt(&base_key.0, kid)?;
        Ok(Self {
            sframe_secret: alg.sframe_secret(&base_key.0),
            sframe_key,
            sframe_salt,
        })
    }
}

/// The expanded AEAD key of a KID, derived from a base key (one HKDF run and one key
/// expansion, done once per KID and kept by the contexts).
pub(crate) fn cipher_for(suite: SframeSuite, base_key: &BaseKey, kid: u64) -> Result<SframeCipher> {
    SframeCipher::derive(suite.algorithm()?, &base_key.0, kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suites_map_and_unknown_ones_are_refused() {
        for id in 1..=5u16 {
            let alg = SframeSuite(id).algorithm().unwrap();
            assert_eq!(alg.suite_id(), id);
        }
        for id in [0u16, 6, 0xffff] {
            assert_eq!(
                SframeSuite(id).algorithm(),
                Err(Error::Unsupported(Unsupported::CipherSuite(id)))
            );
        }
        assert_eq!(SframeSuite::default(), SframeSuite::AES_128_GCM_SHA256_128);
    }
}
