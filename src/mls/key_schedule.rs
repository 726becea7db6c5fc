//! The MLS key schedule (RFC 9420 §8): one type per secret, each derivation consuming its input.
//!
//! ```text
//!                     init_secret_[n-1]
//!                           │
//!     commit_secret ──► KDF.Extract
//!                           │
//!                  ExpandWithLabel(., "joiner", GroupContext_[n], KDF.Nh)
//!                           │
//!                      joiner_secret
//!                           │
//! psk_secret (or 0) ──► KDF.Extract ──► (IntermediateSecret)
//!                           ├──► DeriveSecret(., "welcome") = welcome_secret
//!                  ExpandWithLabel(., "epoch", GroupContext_[n], KDF.Nh)
//!                           │
//!                      epoch_secret ──► DeriveSecret(., <label>) = EpochSecrets
//!                           │
//!                    DeriveSecret(., "init") = init_secret_[n]
//! ```
//!
//! Each step takes `self` by value: once the joiner secret is derived the init secret is gone,
//! once the epoch secrets are derived the epoch secret is gone (the deletion schedule of
//! RFC 9420 §9.2, enforced by the type system rather than by discipline).

use crate::codec::{Encode, Writer};
use crate::crypto::{AeadKey, AeadNonce, HpkePrivateKey, HpkePublicKey, Secret, Suite};
use crate::error::{ApiMisuse, Result};

use super::wire::PreSharedKeyId;

crate::secret_role! {
    /// `init_secret`: carried from one epoch to the next.
    pub(crate) struct InitSecret;
    /// `commit_secret`: from the UpdatePath of a Commit, or zero.
    pub(crate) struct CommitSecret;
    /// `joiner_secret`: what a Welcome gives new members.
    pub(crate) struct JoinerSecret;
    /// `psk_secret`: the combined pre-shared keys of a Commit, or zero.
    pub(crate) struct PskSecret;
    /// `welcome_secret`: keys the GroupInfo of a Welcome.
    pub(crate) struct WelcomeSecret;
    /// `epoch_secret`: the root of an epoch's secrets.
    pub(crate) struct EpochSecret;
    /// `sender_data_secret`: keys the sender data of PrivateMessages.
    pub(crate) struct SenderDataSecret;
    /// `encryption_secret`: the root of the secret tree.
    pub(crate) struct EncryptionSecret;
    /// `exporter_secret`: the root of `MLS-Exporter`.
    pub(crate) struct ExporterSecret;
    /// `external_secret`: derives the group's external HPKE key pair.
    pub(crate) struct ExternalSecret;
    /// `confirmation_key`: MACs the confirmed transcript hash.
    pub(crate) struct ConfirmationKey;
    /// `membership_key`: MACs PublicMessages from members.
    pub(crate) struct MembershipKey;
    /// `resumption_psk`: proves membership in this epoch later.
    pub(crate) struct ResumptionPsk;
    /// `epoch_authenticator`: compared out of band to detect impersonation.
    pub(crate) struct EpochAuthenticator;
}

/// The secret between the joiner secret and the epoch secret: `Extract(joiner, psk)`.
#[derive(Debug)]
pub(crate) struct IntermediateSecret(Secret);

impl InitSecret {
    /// A fresh random init secret for a new group (RFC 9420 §11).
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn random(suite: &Suite, rng: &mut impl crate::crypto::Rng) -> Result<Self> {
        Secret::random(suite.hash_len(), rng).map(Self)
    }

    /// `joiner_secret = ExpandWithLabel(Extract(init_secret, commit_secret), "joiner",
    /// GroupContext_[n], KDF.Nh)`.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd GroupContext.
    pub(crate) fn joiner_secret(
        &self,
        suite: &Suite,
        commit_secret: &CommitSecret,
        group_context: &[u8],
    ) -> Result<JoinerSecret> {
        let prk = suite.extract(&self.0, &commit_secret.0);
        suite
            .expand_with_label(&prk, b"joiner", group_context, suite.hash_len())
            .map(JoinerSecret)
    }
}

impl CommitSecret {
    /// The all-zero commit secret of a Commit without a path.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn zero(suite: &Suite) -> Result<Self> {
        Secret::zero(suite.hash_len()).map(Self)
    }
}

impl JoinerSecret {
    /// `Extract(joiner_secret, psk_secret)`.
    #[must_use]
    pub(crate) fn intermediate(&self, suite: &Suite, psk_secret: &PskSecret) -> IntermediateSecret {
        IntermediateSecret::of(suite, &self.0, psk_secret)
    }
}

impl IntermediateSecret {
    /// `Extract(joiner_secret, psk_secret)`, from the joiner secret's bytes (as a Welcome's
    /// GroupSecrets carry them).
    #[must_use]
    pub(crate) fn of(suite: &Suite, joiner_secret: &Secret, psk_secret: &PskSecret) -> Self {
        Self(suite.extract(joiner_secret, &psk_secret.0))
    }

    /// `welcome_secret = DeriveSecret(intermediate, "welcome")`.
    ///
    /// # Errors
    /// Never for well-formed secrets.
    pub(crate) fn welcome_secret(&self, suite: &Suite) -> Result<WelcomeSecret> {
        suite.derive_secret(&self.0, b"welcome").map(WelcomeSecret)
    }

    /// `epoch_secret = ExpandWithLabel(intermediate, "epoch", GroupContext_[n], KDF.Nh)`.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd GroupContext.
    pub(crate) fn epoch_secret(self, suite: &Suite, group_context: &[u8]) -> Result<EpochSecret> {
        suite
            .expand_with_label(&self.0, b"epoch", group_context, suite.hash_len())
            .map(EpochSecret)
    }
}

impl WelcomeSecret {
    /// `welcome_key` and `welcome_nonce`, which encrypt the GroupInfo of a Welcome (§12.4.3).
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn key_and_nonce(&self, suite: &Suite) -> Result<(AeadKey, AeadNonce)> {
        let key = suite.expand_with_label(&self.0, b"key", &[], suite.aead_key_len())?;
        let nonce = suite.expand_with_label(&self.0, b"nonce", &[], suite.aead_nonce_len())?;
        Ok((AeadKey(key), AeadNonce(nonce)))
    }
}

/// The secrets of one epoch (RFC 9420 §8, table "Epoch-Derived Secrets").
#[derive(Debug)]
#[non_exhaustive]
pub(crate) struct EpochSecrets {
    /// `sender_data_secret`.
    pub sender_data_secret: SenderDataSecret,
    /// `encryption_secret`.
    pub encryption_secret: EncryptionSecret,
    /// `exporter_secret`.
    pub exporter_secret: ExporterSecret,
    /// `external_secret`.
    pub external_secret: ExternalSecret,
    /// `confirmation_key`.
    pub confirmation_key: ConfirmationKey,
    /// `membership_key`.
    pub membership_key: MembershipKey,
    /// `resumption_psk`.
    pub resumption_psk: ResumptionPsk,
    /// `epoch_authenticator`.
    pub epoch_authenticator: EpochAuthenticator,
}

impl EpochSecret {
    /// Derives the epoch's secrets and the next epoch's `init_secret`. Consumes the epoch
    /// secret.
    ///
    /// # Errors
    /// Never for well-formed secrets.
    pub(crate) fn derive(self, suite: &Suite) -> Result<(EpochSecrets, InitSecret)> {
        let d = |label: &[u8]| suite.derive_secret(&self.0, label);
        let secrets = EpochSecrets {
            sender_data_secret: SenderDataSecret(d(b"sender data")?),
            encryption_secret: EncryptionSecret(d(b"encryption")?),
            exporter_secret: ExporterSecret(d(b"exporter")?),
            external_secret: ExternalSecret(d(b"external")?),
            confirmation_key: ConfirmationKey(d(b"confirm")?),
            membership_key: MembershipKey(d(b"membership")?),
            resumption_psk: ResumptionPsk(d(b"resumption")?),
            epoch_authenticator: EpochAuthenticator(d(b"authentication")?),
        };
        Ok((secrets, InitSecret(d(b"init")?)))
    }
}

impl ExporterSecret {
    /// `MLS-Exporter(label, context, length) = ExpandWithLabel(DeriveSecret(exporter_secret,
    /// label), "exported", Hash(context), length)` (RFC 9420 §8.5). At most 64 bytes.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `length` exceeds 64.
    pub(crate) fn export(
        &self,
        suite: &Suite,
        label: &[u8],
        context: &[u8],
        length: usize,
    ) -> Result<Secret> {
        let derived = suite.derive_secret(&self.0, label)?;
        suite.expand_with_label(
            &derived,
            b"exported",
            suite.hash(context).as_bytes(),
            length,
        )
    }
}

impl ExternalSecret {
    /// `external_priv, external_pub = KEM.DeriveKeyPair(external_secret)`.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn key_pair(&self, suite: &Suite) -> Result<(HpkePrivateKey, HpkePublicKey)> {
        suite.derive_key_pair(&self.0)
    }
}

impl ConfirmationKey {
    /// `confirmation_tag = MAC(confirmation_key, confirmed_transcript_hash)` (§6.1).
    #[must_use]
    pub(crate) fn confirmation_tag(
        &self,
        suite: &Suite,
        confirmed_transcript_hash: &[u8],
    ) -> crate::crypto::Mac {
        suite.mac(&self.0, confirmed_transcript_hash)
    }

    /// Checks a received confirmation tag in constant time.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) on mismatch.
    pub(crate) fn verify(
        &self,
        suite: &Suite,
        confirmed_transcript_hash: &[u8],
        tag: &crate::crypto::Mac,
    ) -> Result<()> {
        suite.verify_mac(&self.0, confirmed_transcript_hash, tag)
    }
}

impl MembershipKey {
    /// `membership_tag = MAC(membership_key, AuthenticatedContentTBM)` (§6.2).
    #[must_use]
    pub(crate) fn membership_tag(&self, suite: &Suite, tbm: &[u8]) -> crate::crypto::Mac {
        suite.mac(&self.0, tbm)
    }

    /// Checks a received membership tag in constant time.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) on mismatch.
    pub(crate) fn verify(&self, suite: &Suite, tbm: &[u8], tag: &crate::crypto::Mac) -> Result<()> {
        suite.verify_mac(&self.0, tbm, tag)
    }
}

impl SenderDataSecret {
    /// `sender_data_key` and `sender_data_nonce` for a PrivateMessage whose content
    /// ciphertext is `ciphertext` (RFC 9420 §6.3.2): the sample is its first `KDF.Nh` bytes,
    /// or all of it if shorter.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn key_and_nonce(
        &self,
        suite: &Suite,
        ciphertext: &[u8],
    ) -> Result<(AeadKey, AeadNonce)> {
        let sample = ciphertext.get(..suite.hash_len()).unwrap_or(ciphertext);
        let key = suite.expand_with_label(&self.0, b"key", sample, suite.aead_key_len())?;
        let nonce = suite.expand_with_label(&self.0, b"nonce", sample, suite.aead_nonce_len())?;
        Ok((AeadKey(key), AeadNonce(nonce)))
    }
}

/// One pre-shared key to inject: its identifier and its value.
#[derive(Debug)]
pub(crate) struct PskInput<'a> {
    /// The identifier, as carried in the PreSharedKey proposal or GroupSecrets.
    pub id: &'a PreSharedKeyId,
    /// The PSK value (an external PSK, or a `resumption_psk` of an earlier epoch).
    pub psk: &'a Secret,
}

impl PskSecret {
    /// The all-zero `psk_secret` of a Commit without PSKs.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn zero(suite: &Suite) -> Result<Self> {
        Secret::zero(suite.hash_len()).map(Self)
    }

    /// Chains PSKs into `psk_secret` (RFC 9420 §8.4):
    ///
    /// ```text
    /// psk_extracted_[i] = KDF.Extract(0, psk_[i])
    /// psk_input_[i] = ExpandWithLabel(psk_extracted_[i], "derived psk", PSKLabel, KDF.Nh)
    /// psk_secret_[0] = 0
    /// psk_secret_[i] = KDF.Extract(psk_input_[i-1], psk_secret_[i-1])
    /// ```
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] for more than 65 535 PSKs.
    pub(crate) fn from_psks(suite: &Suite, psks: &[PskInput<'_>]) -> Result<Self> {
        let count = u16::try_from(psks.len()).map_err(|_| ApiMisuse::InvalidLength)?;
        let zero = Secret::zero(suite.hash_len())?;
        let mut psk_secret = Secret::zero(suite.hash_len())?;
        let mut label = Writer::new();
        for (index, input) in (0u16..).zip(psks) {
            let extracted = suite.extract(&zero, input.psk);
            // struct { PreSharedKeyID id; uint16 index; uint16 count; } PSKLabel;
            label.clear();
            input.id.encode(&mut label);
            label.write_u16(index);
            label.write_u16(count);
            if label.overflowed() {
                return Err(ApiMisuse::EncodingOverflow.into());
            }
            let psk_input = suite.expand_with_label(
                &extracted,
                b"derived psk",
                label.as_bytes(),
                suite.hash_len(),
            )?;
            psk_secret = suite.extract(&psk_input, &psk_secret);
        }
        Ok(Self(psk_secret))
    }
}
