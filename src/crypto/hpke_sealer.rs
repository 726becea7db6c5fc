//! `EncryptWithLabel` to many recipients under one label and context (RFC 9420 §5.1.3),
//! with the HPKE base-mode key schedule (RFC 9180 §5.1) computed from a precomputed
//! `info_hash`.
//!
//! A Welcome encrypts the GroupSecrets of each new member with
//! `EncryptWithLabel(init_key, "Welcome", encrypted_group_info, group_secrets)`: the HPKE
//! `info` holds the whole encrypted GroupInfo — with the ratchet tree, O(n) bytes — and
//! `SetupBaseS` hashes it into `info_hash` for every recipient, O(n²) for a commit adding n
//! members (at 5 000 members, more than half the commit's time). `info_hash` does not depend
//! on the recipient, so [`LabeledSealer`] computes it once; everything else follows RFC 9180
//! step by step for DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and the suite's AEAD:
//!
//! ```text
//! Encap(pkR):  skE, pkE = DeriveKeyPair(32 random bytes)      (as the hpke crate does)
//!              dh = DH(skE, pkR)                               (all-zero output rejected)
//!              shared_secret = ExtractAndExpand(dh, enc || pkR)
//! KeySchedule: key_schedule_context = mode_base || psk_id_hash || info_hash   (precomputed)
//!              secret = LabeledExtract(shared_secret, "secret", "")
//!              key, base_nonce = LabeledExpand(secret, "key" | "base_nonce", context, Nk | Nn)
//! Seal:        AEAD.Seal(key, base_nonce, "", plaintext)       (sequence number 0)
//! ```
//!
//! The output is byte-identical to [`Suite::encrypt_with_label`] (the `hpke` crate) for the
//! same random bytes, and the RFC 9180 vectors check each step (tests below).

use hkdf::Hkdf;
use hmac::{Hmac, Mac as _};
use hpke::kem::X25519HkdfSha256;
use hpke::{Kem as _, Serializable};
use sha2::Sha256;
use zeroize::{Zeroize as _, Zeroizing};

use super::aead::{AeadKey, AeadNonce};
use super::hpke::{encrypt_context, HpkePrivateKey, HpkePublicKey, LabeledCiphertext};
use super::suite::AeadAlgorithm;
use super::{Rng, Secret, Suite};
use crate::error::{ApiMisuse, Error, InvalidMessage, Result};

/// `"HPKE-v1"` (RFC 9180 §4).
const VERSION_LABEL: &[u8] = b"HPKE-v1";
/// `suite_id` of the KEM: `"KEM" || I2OSP(0x0020, 2)` (DHKEM(X25519, HKDF-SHA256)).
const KEM_SUITE_ID: &[u8] = b"KEM\x00\x20";
/// `Nh` of HKDF-SHA256, `Nsecret` of the KEM, `Nn` of both AEADs.
const NH: usize = 32;
const NN: usize = 12;
/// `mode_base` (RFC 9180 §5).
const MODE_BASE: u8 = 0x00;

/// `EncryptWithLabel(·, label, context, ·)` for any number of recipients; see the module
/// documentation.
#[derive(Debug)]
pub(crate) struct LabeledSealer {
    suite: Suite,
    /// `Nk` of the AEAD.
    nk: usize,
    /// `suite_id` of the HPKE key schedule: `"HPKE" || kem_id || kdf_id || aead_id`.
    suite_id: [u8; 10],
    /// `mode_base || psk_id_hash || info_hash` (public: it hashes public inputs).
    key_schedule_context: [u8; 1 + 2 * NH],
}

impl Suite {
    /// A sealer for `EncryptWithLabel(·, label, context, ·)` to many recipients.
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`] when `context` exceeds 2^30 − 1 bytes.
    pub(crate) fn labeled_sealer(&self, label: &[u8], context: &[u8]) -> Result<LabeledSealer> {
        LabeledSealer::with_info(*self, &encrypt_context(label, context)?)
    }
}

impl LabeledSealer {
    /// The base-mode sender key schedule of `suite` for HPKE `info`, up to the shared secret.
    fn with_info(suite: Suite, info: &[u8]) -> Result<Self> {
        let (nk, aead_id): (usize, u16) = match suite.aead {
            AeadAlgorithm::Aes128Gcm => (16, 0x0001),
            AeadAlgorithm::ChaCha20Poly1305 => (32, 0x0003),
        };
        let [a0, a1] = aead_id.to_be_bytes();
        let suite_id = [b'H', b'P', b'K', b'E', 0x00, 0x20, 0x00, 0x01, a0, a1];
        let psk_id_hash = labeled_extract(b"", &suite_id, b"psk_id_hash", &[b""])?;
        let info_hash = labeled_extract(b"", &suite_id, b"info_hash", &[info])?;
        let mut key_schedule_context = [0u8; 1 + 2 * NH];
        let parts = core::iter::once(&MODE_BASE)
            .chain(psk_id_hash.iter())
            .chain(info_hash.iter());
        for (d, s) in key_schedule_context.iter_mut().zip(parts) {
            *d = *s;
        }
        Ok(Self {
            suite,
            nk,
            suite_id,
            key_schedule_context,
        })
    }

    /// `EncryptWithLabel(pk, label, context, plaintext)`, drawing the ephemeral key from `rng`
    /// exactly as the `hpke` crate does (32 bytes into `DeriveKeyPair`).
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] when `pk` is a low-order point (the DH output is zero).
    pub(crate) fn seal(
        &self,
        pk: &HpkePublicKey,
        plaintext: &[u8],
        rng: &mut impl Rng,
    ) -> Result<LabeledCiphertext> {
        let mut ikm_e = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *ikm_e);
        self.seal_with_ikm_e(pk, &*ikm_e, &[], plaintext)
    }

    /// KeySchedule (RFC 9180 §5.1), mode_base with an empty PSK, from the KEM's shared
    /// secret: the AEAD key and `base_nonce`.
    fn key_and_nonce(&self, shared_secret: &[u8; NH]) -> Result<(AeadKey, AeadNonce)> {
        let secret = labeled_extract(shared_secret, &self.suite_id, b"secret", &[b""])?;
        let ctx = &self.key_schedule_context;
        let mut key = Secret::zero(self.nk)?;
        labeled_expand(&*secret, &self.suite_id, b"key", ctx, key.expose_mut())?;
        let mut nonce = Secret::zero(NN)?;
        labeled_expand(
            &*secret,
            &self.suite_id,
            b"base_nonce",
            ctx,
            nonce.expose_mut(),
        )?;
        Ok((AeadKey(key), AeadNonce(nonce)))
    }

    /// [`Self::seal`] of a secret (a path secret): the bytes go from the secret type to the
    /// AEAD without leaving `crypto`.
    ///
    /// # Errors
    /// As [`Self::seal`].
    pub(crate) fn seal_secret(
        &self,
        pk: &HpkePublicKey,
        secret: &Secret,
        rng: &mut impl Rng,
    ) -> Result<LabeledCiphertext> {
        self.seal(pk, secret.expose(), rng)
    }

    /// `SealBase` with the ephemeral key pair derived from `ikm_e` (`EncryptWithLabel` has
    /// an empty `aad`; the RFC 9180 vectors do not).
    fn seal_with_ikm_e(
        &self,
        pk: &HpkePublicKey,
        ikm_e: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<LabeledCiphertext> {
        let (sk_e, pk_e) = X25519HkdfSha256::derive_keypair(ikm_e);
        let sk_e = Zeroizing::new(<[u8; 32]>::from(sk_e.to_bytes()));
        let enc = <[u8; 32]>::from(pk_e.to_bytes());
        let shared_secret = shared_secret(&sk_e, pk.as_bytes(), &enc, pk.as_bytes())?;
        let (key, nonce) = self.key_and_nonce(&shared_secret)?;
        // Sequence number 0: the nonce is base_nonce itself.
        let ciphertext = self.suite.aead_seal(&key, &nonce, aad, plaintext)?;
        Ok(LabeledCiphertext {
            kem_output: enc.to_vec(),
            ciphertext,
        })
    }
}

impl Suite {
    /// `DecryptWithLabel(sk, label, context, kem_output, ciphertext)` for a recipient that
    /// knows its public key `pk` (a tree node's, a KeyPackage's `init_key`): DHKEM `Decap`
    /// needs `pkR` for the KEM context, and the `hpke` crate recomputes it from `sk` (a
    /// fixed-base scalar multiplication) on every call. A `pk` that is not `sk`'s yields
    /// another shared secret, so the AEAD refuses the ciphertext.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] for a `kem_output` that is not 32 bytes or a low-order
    /// point; [`Error::AuthenticationFailed`] when the AEAD refuses the ciphertext.
    pub(crate) fn decrypt_with_label_known_public(
        &self,
        sk: &HpkePrivateKey,
        pk: &HpkePublicKey,
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Vec<u8>> {
        let enc: [u8; 32] = kem_output
            .try_into()
            .map_err(|_| InvalidMessage::InvalidKey)?;
        let sk_r: Zeroizing<[u8; 32]> = Zeroizing::new(
            sk.secret()
                .expose()
                .try_into()
                .map_err(|_| InvalidMessage::InvalidKey)?,
        );
        // Decap (RFC 9180 §4.1): dh = DH(skR, pkE); shared_secret = ExtractAndExpand(dh,
        // enc || pkRm).
        let shared_secret = shared_secret(&sk_r, &enc, &enc, pk.as_bytes())?;
        let info = encrypt_context(label, context)?;
        let schedule = LabeledSealer::with_info(*self, &info)?;
        let (key, nonce) = schedule.key_and_nonce(&shared_secret)?;
        self.aead_open(&key, &nonce, &[], ciphertext)
    }

    /// [`Suite::decrypt_with_label_known_public`] of a secret (a path secret): the plaintext
    /// goes straight into a [`Secret`] and the intermediate buffer is zeroized.
    ///
    /// # Errors
    /// As [`Suite::decrypt_with_label_known_public`]; [`InvalidMessage::InvalidKey`] when the
    /// plaintext is longer than 64 bytes.
    pub(crate) fn decrypt_secret_with_label_known_public(
        &self,
        sk: &HpkePrivateKey,
        pk: &HpkePublicKey,
        label: &[u8],
        context: &[u8],
        kem_output: &[u8],
        ciphertext: &[u8],
    ) -> Result<Secret> {
        let mut pt = Zeroizing::new(
            self.decrypt_with_label_known_public(sk, pk, label, context, kem_output, ciphertext)?,
        );
        let s = Secret::from_slice(&pt).map_err(|_| Error::from(InvalidMessage::InvalidKey));
        pt.zeroize();
        s
    }
}

/// The DHKEM shared secret (RFC 9420 §4.1): `dh = DH(sk, peer)` — `DH(skE, pkR)` in `Encap`,
/// `DH(skR, pkE)` in `Decap` — then `ExtractAndExpand(dh, enc || pkR)`.
fn shared_secret(
    sk: &[u8; 32],
    peer: &[u8; 32],
    enc: &[u8; 32],
    pk_r: &[u8; 32],
) -> Result<Zeroizing<[u8; NH]>> {
    let dh =
        x25519_dalek::StaticSecret::from(*sk).diffie_hellman(&x25519_dalek::PublicKey::from(*peer));
    // RFC 9180 §7.1.4: the all-zero DH output (a low-order public key) MUST be rejected.
    if !dh.was_contributory() {
        return Err(InvalidMessage::InvalidKey.into());
    }
    let eae_prk = labeled_extract(b"", KEM_SUITE_ID, b"eae_prk", &[dh.as_bytes()])?;
    let mut shared_secret = Zeroizing::new([0u8; NH]);
    labeled_expand(
        &*eae_prk,
        KEM_SUITE_ID,
        b"shared_secret",
        &[enc.as_slice(), pk_r.as_slice()].concat(),
        &mut *shared_secret,
    )?;
    Ok(shared_secret)
}

/// `LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm)`,
/// with `ikm` given in parts; `Extract(salt, ikm) = HMAC-SHA256(salt, ikm)` (RFC 5869 §2.2).
fn labeled_extract(
    salt: &[u8],
    suite_id: &[u8],
    label: &[u8],
    ikm: &[&[u8]],
) -> Result<Zeroizing<[u8; NH]>> {
    let mut mac = <Hmac<Sha256>>::new_from_slice(salt)
        .map_err(|_| Error::Internal("HMAC takes keys of any length"))?;
    mac.update(VERSION_LABEL);
    mac.update(suite_id);
    mac.update(label);
    for part in ikm {
        mac.update(part);
    }
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}

/// `LabeledExpand(prk, label, info, L) =
/// Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)`.
fn labeled_expand(
    prk: &[u8],
    suite_id: &[u8],
    label: &[u8],
    info: &[u8],
    out: &mut [u8],
) -> Result<()> {
    let length = u16::try_from(out.len()).map_err(|_| ApiMisuse::InvalidLength)?;
    let hk = Hkdf::<Sha256>::from_prk(prk).map_err(|_| ApiMisuse::InvalidLength)?;
    let length = length.to_be_bytes();
    let labeled_info = [length.as_slice(), VERSION_LABEL, suite_id, label, info];
    hk.expand_multi_info(&labeled_info, out)
        .map_err(|_| ApiMisuse::InvalidLength.into())
}

#[cfg(test)]
mod tests;
