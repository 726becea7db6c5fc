//! The MLS uses of HPKE on a [`Suite`]: `DeriveKeyPair`, `EncryptWithLabel` and
//! `DecryptWithLabel` (RFC 9420 §5.1.3).

use super::*;

impl Suite {
    /// `DeriveKeyPair(ikm)` of this suite's KEM.
    ///
    /// # Errors
    /// As [`derive_key_pair`].
    pub(crate) fn derive_key_pair(&self, ikm: &Secret) -> Result<(HpkePrivateKey, HpkePublicKey)> {
        derive_key_pair(ikm)
    }

    /// `EncryptWithLabel(pk, label, context, plaintext) = SealBase(pk, EncryptContext, "", pt)`.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] for a bad public key.
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn encrypt_with_label(
        &self,
        pk: &HpkePublicKey,
        label: &[u8],
        context: &[u8],
        plaintext: &[u8],
        rng: &mut impl Rng,
    ) -> Result<LabeledCiphertext> {
        let info = encrypt_context(label, context)?;
        let (kem_output, mut ctx) =
            setup_sender(self.hpke_aead(), SenderMode::Base, pk, &info, rng)?;
        let ciphertext = ctx.seal(&[], plaintext)?;
        Ok(LabeledCiphertext {
            kem_output,
            ciphertext,
        })
    }

    /// `EncryptWithLabel` of a secret (a path secret, the GroupSecrets of a Welcome): the
    /// bytes go from one secret type to HPKE without leaving this module.
    ///
    /// # Errors
    /// As [`Suite::encrypt_with_label`].
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn encrypt_secret_with_label(
        &self,
        pk: &HpkePublicKey,
        label: &[u8],
        context: &[u8],
        secret: &Secret,
        rng: &mut impl Rng,
    ) -> Result<LabeledCiphertext> {
        self.encrypt_with_label(pk, label, context, secret.expose(), rng)
    }

    /// `DecryptWithLabel(sk, label, context, kem_output, ciphertext)`.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] when the ciphertext does not open;
    /// [`InvalidMessage::InvalidKey`] for a malformed `kem_output`.
    #[cfg(test)]
    pub(crate) fn decrypt_with_label(
        &self,
        sk: &HpkePrivateKey,
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let info = encrypt_context(label, context)?;
        let mut ctx = setup_receiver(self.hpke_aead(), ReceiverMode::Base, kem_output, sk, &info)?;
        ctx.open(&[], ciphertext)
    }
}
