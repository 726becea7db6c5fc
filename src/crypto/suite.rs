//! MLS cipher suites (RFC 9420 §5.1, §17.1).

use crate::error::{Result, Unsupported};

crate::codepoint! {
    /// An MLS cipher suite code point (RFC 9420 §17.1). Only the suites meetkey implements
    /// have constants; other values round-trip (a peer's KeyPackage may list them) and are
    /// [`Unsupported::CipherSuite`] wherever a suite is used.
    pub struct CipherSuite(u16) {
        /// X25519, AES-128-GCM, SHA-256, Ed25519 (mandatory to implement).
        MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 = 0x0001,
        /// X25519, ChaCha20-Poly1305, SHA-256, Ed25519.
        MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 = 0x0003,
    }
}

impl CipherSuite {
    /// The implementation of this suite.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`] for every suite but 0x0001 and 0x0003.
    pub(crate) const fn suite(self) -> Result<Suite> {
        match self {
            Self::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519 => Ok(Suite {
                id: self,
                aead: AeadAlgorithm::Aes128Gcm,
            }),
            Self::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519 => Ok(Suite {
                id: self,
                aead: AeadAlgorithm::ChaCha20Poly1305,
            }),
            Self(other) => Err(crate::error::Error::Unsupported(Unsupported::CipherSuite(
                other,
            ))),
        }
    }
}

/// The AEAD of a suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::crypto) enum AeadAlgorithm {
    Aes128Gcm,
    ChaCha20Poly1305,
}

/// An implemented MLS cipher suite: the primitives behind one [`CipherSuite`] code point.
///
/// Both implemented suites use DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, HMAC-SHA256 and
/// Ed25519; they differ in the AEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Suite {
    id: CipherSuite,
    pub(in crate::crypto) aead: AeadAlgorithm,
}

impl Suite {
    /// The code point.
    #[must_use]
    pub(crate) const fn id(&self) -> CipherSuite {
        self.id
    }

    /// `KDF.Nh`: the output size of the hash and of `KDF.Extract`, in bytes.
    #[must_use]
    pub(crate) const fn hash_len(&self) -> usize {
        32
    }

    /// `AEAD.Nk`: the key size of the AEAD, in bytes.
    #[must_use]
    pub(crate) const fn aead_key_len(&self) -> usize {
        match self.aead {
            AeadAlgorithm::Aes128Gcm => 16,
            AeadAlgorithm::ChaCha20Poly1305 => 32,
        }
    }

    /// `AEAD.Nn`: the nonce size of the AEAD, in bytes.
    #[must_use]
    pub(crate) const fn aead_nonce_len(&self) -> usize {
        12
    }

    /// The size of an AEAD tag, in bytes.
    #[must_use]
    pub(crate) const fn aead_tag_len(&self) -> usize {
        16
    }

    /// The HPKE AEAD used by this suite's HPKE.
    #[must_use]
    pub(crate) const fn hpke_aead(&self) -> super::hpke::HpkeAead {
        match self.aead {
            AeadAlgorithm::Aes128Gcm => super::hpke::HpkeAead::Aes128Gcm,
            AeadAlgorithm::ChaCha20Poly1305 => super::hpke::HpkeAead::ChaCha20Poly1305,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_suites_1_and_3_are_implemented() {
        for v in 0..=8u16 {
            let ok = CipherSuite(v).suite().is_ok();
            assert_eq!(ok, v == 1 || v == 3, "suite {v}");
        }
        assert_eq!(
            CipherSuite(0x0a0a).suite(),
            Err(crate::error::Error::Unsupported(Unsupported::CipherSuite(
                0x0a0a
            )))
        );
        let s3 = CipherSuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_ED25519
            .suite()
            .unwrap();
        assert_eq!(
            (s3.hash_len(), s3.aead_key_len(), s3.aead_nonce_len()),
            (32, 32, 12)
        );
        let s1 = CipherSuite(1).suite().unwrap();
        assert_eq!(s1.aead_key_len(), 16);
    }
}
