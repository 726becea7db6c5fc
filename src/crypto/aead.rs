//! The AEAD of an MLS cipher suite (AES-128-GCM or ChaCha20-Poly1305), used by the secret
//! tree for PrivateMessage content and sender data (RFC 9420 §6.3).

use aes_gcm::aead::{Aead as _, KeyInit, Payload};
use aes_gcm::Aes128Gcm;
use chacha20poly1305::ChaCha20Poly1305;

use super::suite::AeadAlgorithm;
use super::Suite;
use crate::error::{ApiMisuse, Error, Result};

crate::secret_role! {
    /// An AEAD key (`AEAD.Nk` bytes).
    pub(crate) struct AeadKey;
    /// An AEAD nonce (`AEAD.Nn` bytes). Secret: it is derived alongside the key and deleted
    /// with it (RFC 9420 §9.2).
    pub(crate) struct AeadNonce;
}

impl AeadNonce {
    /// XORs the 4-byte `reuse_guard` into the first bytes of the nonce (RFC 9420 §6.3.1).
    pub(crate) fn apply_reuse_guard(&mut self, reuse_guard: [u8; 4]) {
        for (n, g) in self.0.expose_mut().iter_mut().zip(reuse_guard) {
            *n ^= g;
        }
    }
}

impl Suite {
    /// `AEAD.Seal(key, nonce, aad, plaintext)`: ciphertext followed by the tag.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when the key or nonce has the wrong length.
    pub(crate) fn aead_seal(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let nonce = nonce_array(nonce)?;
        let payload = Payload {
            msg: plaintext,
            aad,
        };
        let out = match self.aead {
            AeadAlgorithm::Aes128Gcm => Aes128Gcm::new_from_slice(key.0.expose())
                .map_err(|_| ApiMisuse::InvalidLength)?
                .encrypt(&nonce.into(), payload),
            AeadAlgorithm::ChaCha20Poly1305 => ChaCha20Poly1305::new_from_slice(key.0.expose())
                .map_err(|_| ApiMisuse::InvalidLength)?
                .encrypt(&nonce.into(), payload),
        };
        out.map_err(|_| Error::Internal("AEAD seal failed"))
    }

    /// `AEAD.Open(key, nonce, aad, ciphertext)`.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] when the tag does not verify (no detail given);
    /// [`ApiMisuse::InvalidLength`] for a key or nonce of the wrong length.
    pub(crate) fn aead_open(
        &self,
        key: &AeadKey,
        nonce: &AeadNonce,
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let nonce = nonce_array(nonce)?;
        let payload = Payload {
            msg: ciphertext,
            aad,
        };
        let out = match self.aead {
            AeadAlgorithm::Aes128Gcm => Aes128Gcm::new_from_slice(key.0.expose())
                .map_err(|_| ApiMisuse::InvalidLength)?
                .decrypt(&nonce.into(), payload),
            AeadAlgorithm::ChaCha20Poly1305 => ChaCha20Poly1305::new_from_slice(key.0.expose())
                .map_err(|_| ApiMisuse::InvalidLength)?
                .decrypt(&nonce.into(), payload),
        };
        out.map_err(|_| Error::AuthenticationFailed)
    }
}

fn nonce_array(nonce: &AeadNonce) -> Result<[u8; 12]> {
    <[u8; 12]>::try_from(nonce.0.expose()).map_err(|_| ApiMisuse::InvalidLength.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;

    #[test]
    fn seal_open_and_tamper() {
        for cs in [1u16, 3] {
            let suite = CipherSuite(cs).suite().unwrap();
            let key = AeadKey::from_slice(&vec![7; suite.aead_key_len()]).unwrap();
            let mut nonce = AeadNonce::from_slice(&[1; 12]).unwrap();
            let ct = suite.aead_seal(&key, &nonce, b"aad", b"hello").unwrap();
            assert_eq!(ct.len(), 5 + 16);
            assert_eq!(
                suite.aead_open(&key, &nonce, b"aad", &ct).unwrap(),
                b"hello"
            );
            assert_eq!(
                suite.aead_open(&key, &nonce, b"aaD", &ct),
                Err(Error::AuthenticationFailed)
            );
            let mut bad = ct.clone();
            bad[0] ^= 1;
            assert_eq!(
                suite.aead_open(&key, &nonce, b"aad", &bad),
                Err(Error::AuthenticationFailed)
            );
            nonce.apply_reuse_guard([0, 0, 0, 1]);
            assert_eq!(
                suite.aead_open(&key, &nonce, b"aad", &ct),
                Err(Error::AuthenticationFailed)
            );
            let short = AeadKey::from_slice(&[1; 5]).unwrap();
            assert!(suite
                .aead_seal(&short, &nonce, b"", b"")
                .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength)));
        }
    }
}
