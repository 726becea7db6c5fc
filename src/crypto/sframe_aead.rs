//! The AEADs of the SFrame cipher suites (RFC 9605 §4.4.3, §4.5) with the expanded key cached.
//!
//! ```text
//!  (sframe_key, sframe_salt) ──SframeCipher::new (once per KID)──► SframeCipher
//!      ├─ AES-GCM suites: ring LessSafeKey (AES key schedule + GHASH key, expanded once)
//!      └─ AES-CTR-HMAC suites (§4.5.1): AES-128 encryption key schedule + keyed HMAC-SHA256 state
//!  seal_in_place / open_in_place(ctr, header, metadata, buffer, tag): no allocation, no re-keying
//!  nonce = sframe_salt XOR encode_big_endian(CTR, 12)
//! ```
//!
//! The AES-GCM backend is ring, chosen by measurement (`crypto-bench/benches/aead_backends.rs`:
//! ring, aws-lc-rs and RustCrypto `aes-gcm` sealing 100 B, 1 200 B and 50 000 B in one run).

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use aes::Aes128Enc;
use hmac::{Hmac, Mac as _};
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_128_GCM, AES_256_GCM};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use super::sframe_kdf::{SframeAlgorithm, SFRAME_NONCE_LEN};
use super::Secret;
use crate::error::{ApiMisuse, Error, Result};

/// Header and metadata up to this many bytes are joined on the stack for the AES-GCM AAD;
/// longer metadata costs one temporary heap buffer (ring takes the AAD as one slice).
pub(crate) const SFRAME_STACK_AAD_LEN: usize = 512;

/// The AEAD key of one SFrame KID: the expanded cipher and the salt, ready for every frame.
///
/// Built once per KID from `sframe_key` and `sframe_salt`; sealing and opening then only run
/// the cipher. `Debug` prints the algorithm alone.
///
/// # Security
/// The salt is zeroized on drop and the AES-CTR key schedule is too (`aes` with `zeroize`).
/// Neither ring's expanded AES-GCM key nor the keyed HMAC state offers zeroization; the
/// `sframe_key` they came from is a [`Secret`] and is zeroized by its owner.
pub(crate) struct SframeCipher {
    alg: SframeAlgorithm,
    salt: [u8; SFRAME_NONCE_LEN],
    inner: Inner,
}

#[expect(
    clippy::large_enum_variant,
    reason = "one per KID, built once and never moved on the per-frame path; a Box would add an indirection per frame"
)]
enum Inner {
    Gcm(LessSafeKey),
    CtrHmac { enc: Aes128Enc, mac: Hmac<Sha256> },
}

type Aes128Ctr = ctr::Ctr32BE<Aes128Enc>;

/// AES-128-CTR from the cached key schedule, starting at `nonce ‖ 0x00000000`.
fn aes128_ctr(enc: &Aes128Enc, nonce: &[u8; SFRAME_NONCE_LEN]) -> Aes128Ctr {
    Aes128Ctr::from_core(ctr::CtrCore::inner_iv_init(
        enc.clone(),
        &ctr_iv(nonce).into(),
    ))
}

impl SframeCipher {
    /// Expands `sframe_key` (`AEAD.Nk` bytes) and keeps `sframe_salt` (`AEAD.Nn` bytes).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when the key or salt has the wrong length.
    pub(crate) fn new(alg: SframeAlgorithm, key: &Secret, salt: &Secret) -> Result<Self> {
        let salt = <[u8; SFRAME_NONCE_LEN]>::try_from(salt.expose())
            .map_err(|_| ApiMisuse::InvalidLength)?;
        if key.len() != alg.key_len() {
            return Err(ApiMisuse::InvalidLength.into());
        }
        let inner = match alg {
            SframeAlgorithm::Aes128GcmSha256 | SframeAlgorithm::Aes256GcmSha512 => {
                let ring_alg = if alg == SframeAlgorithm::Aes128GcmSha256 {
                    &AES_128_GCM
                } else {
                    &AES_256_GCM
                };
                let unbound = UnboundKey::new(ring_alg, key.expose())
                    .map_err(|_| ApiMisuse::InvalidLength)?;
                Inner::Gcm(LessSafeKey::new(unbound))
            }
            _ => {
                // RFC 9605 §4.5.1 derive_subkeys: enc_key = key[..Nka], auth_key = key[Nka..].
                let (enc_key, auth_key) = key.expose().split_at_checked(16).unwrap_or_default();
                Inner::CtrHmac {
                    enc: Aes128Enc::new_from_slice(enc_key)
                        .map_err(|_| ApiMisuse::InvalidLength)?,
                    mac: <Hmac<Sha256> as KeyInit>::new_from_slice(auth_key)
                        .map_err(|_| ApiMisuse::InvalidLength)?,
                }
            }
        };
        Ok(Self { alg, salt, inner })
    }

    /// Derives `(sframe_key, sframe_salt)` for `kid` from `base_key` (RFC 9605 §4.4.2) and
    /// expands them.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] never for the registered suites (a bug otherwise).
    pub(crate) fn derive(alg: SframeAlgorithm, base_key: &Secret, kid: u64) -> Result<Self> {
        let (key, salt) = alg.derive_key_salt(base_key, kid)?;
        Self::new(alg, &key, &salt)
    }

    /// `AEAD.Nt` in bytes.
    #[must_use]
    pub(crate) const fn tag_len(&self) -> usize {
        self.alg.tag_len()
    }

    /// `nonce = xor(sframe_salt, encode_big_endian(CTR, AEAD.Nn))` (RFC 9605 §4.4.3).
    fn nonce(&self, ctr: u64) -> [u8; SFRAME_NONCE_LEN] {
        let mut nonce = self.salt;
        for (n, c) in nonce.iter_mut().skip(4).zip(ctr.to_be_bytes()) {
            *n ^= c;
        }
        nonce
    }

    /// `AEAD.Encrypt(sframe_key, nonce(ctr), header + metadata, buffer)` in place: the
    /// plaintext in `in_out` becomes the ciphertext and the tag is written to `tag`.
    ///
    /// # Errors
    /// [`ApiMisuse::BufferTooSmall`] when `tag` is not exactly `AEAD.Nt` bytes, and
    /// [`ApiMisuse::InvalidLength`] for a payload longer than the cipher can take
    /// (2^36 bytes). `in_out` is untouched on error.
    pub(crate) fn seal_in_place(
        &self,
        ctr: u64,
        header: &[u8],
        metadata: &[u8],
        in_out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<()> {
        if tag.len() != self.tag_len() {
            return Err(ApiMisuse::BufferTooSmall.into());
        }
        let nonce = self.nonce(ctr);
        match &self.inner {
            Inner::Gcm(key) => {
                let sealed = with_aad(header, metadata, |aad| {
                    key.seal_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        in_out,
                    )
                })
                .map_err(|_| ApiMisuse::InvalidLength)?;
                tag.copy_from_slice(sealed.as_ref());
            }
            Inner::CtrHmac { enc, mac } => {
                let mut cipher = aes128_ctr(enc, &nonce);
                cipher
                    .try_apply_keystream(in_out)
                    .map_err(|_| ApiMisuse::InvalidLength)?;
                let full = compute_tag(mac, tag.len(), &nonce, header, metadata, in_out);
                tag.copy_from_slice(full.get(..tag.len()).unwrap_or_default());
            }
        }
        Ok(())
    }

    /// `AEAD.Decrypt(sframe_key, nonce(ctr), header + metadata, buffer || tag)` in place.
    ///
    /// The tag is verified before any plaintext is released. On [`Error::AuthenticationFailed`]
    /// the AES-CTR-HMAC suites leave `in_out` untouched (the tag is checked before
    /// decrypting), and the AES-GCM suites leave it zero-filled (ring decrypts while it
    /// authenticates and wipes the result when the tag is wrong). No plaintext escapes either way.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] (no detail) when the tag does not verify or has the
    /// wrong length.
    pub(crate) fn open_in_place(
        &self,
        ctr: u64,
        header: &[u8],
        metadata: &[u8],
        in_out: &mut [u8],
        tag: &[u8],
    ) -> Result<()> {
        if tag.len() != self.tag_len() {
            return Err(Error::AuthenticationFailed);
        }
        let nonce = self.nonce(ctr);
        match &self.inner {
            Inner::Gcm(key) => {
                let tag = Tag::try_from(tag).map_err(|_| Error::AuthenticationFailed)?;
                with_aad(header, metadata, |aad| {
                    key.open_in_place_separate_tag(
                        Nonce::assume_unique_for_key(nonce),
                        Aad::from(aad),
                        tag,
                        in_out,
                        0..,
                    )
                    .map(|_| ())
                })
                .map_err(|_| Error::AuthenticationFailed)
            }
            Inner::CtrHmac { enc, mac } => {
                let full = compute_tag(mac, tag.len(), &nonce, header, metadata, in_out);
                let expected = full.get(..tag.len()).unwrap_or_default();
                if !bool::from(expected.ct_eq(tag)) {
                    return Err(Error::AuthenticationFailed);
                }
                let mut cipher = aes128_ctr(enc, &nonce);
                cipher
                    .try_apply_keystream(in_out)
                    .map_err(|_| Error::AuthenticationFailed)
            }
        }
    }
}

/// `initial_counter = nonce + 0x00000000` (RFC 9605 §4.5.1).
fn ctr_iv(nonce: &[u8; SFRAME_NONCE_LEN]) -> [u8; 16] {
    let mut iv = [0; 16];
    if let Some(dst) = iv.get_mut(..SFRAME_NONCE_LEN) {
        dst.copy_from_slice(nonce);
    }
    iv
}

/// `compute_tag` of RFC 9605 §4.5.1, untruncated: HMAC(auth_key, aad_len || ct_len ||
/// tag_len || nonce || aad || ct), each length as a big-endian `uint64`, aad = header + metadata.
fn compute_tag(
    keyed: &Hmac<Sha256>,
    tag_len: usize,
    nonce: &[u8],
    header: &[u8],
    metadata: &[u8],
    ct: &[u8],
) -> [u8; 32] {
    let aad_len = (header.len() as u64).saturating_add(metadata.len() as u64);
    let mut mac = keyed.clone();
    mac.update(&aad_len.to_be_bytes());
    mac.update(&(ct.len() as u64).to_be_bytes());
    mac.update(&(tag_len as u64).to_be_bytes());
    mac.update(nonce);
    mac.update(header);
    mac.update(metadata);
    mac.update(ct);
    mac.finalize().into_bytes().into()
}

/// Runs `f` over `header || metadata` as one slice, joined on the stack when it fits.
fn with_aad<T>(header: &[u8], metadata: &[u8], f: impl FnOnce(&[u8]) -> T) -> T {
    if metadata.is_empty() {
        return f(header);
    }
    let total = header.len().saturating_add(metadata.len());
    let mut stack = [0u8; SFRAME_STACK_AAD_LEN];
    if let Some(buf) = stack.get_mut(..total) {
        let (h, m) = buf.split_at_mut(header.len());
        h.copy_from_slice(header);
        m.copy_from_slice(metadata);
        f(buf)
    } else {
        let mut joined = Vec::with_capacity(total);
        joined.extend_from_slice(header);
        joined.extend_from_slice(metadata);
        f(&joined)
    }
}

impl Drop for SframeCipher {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

impl core::fmt::Debug for SframeCipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SframeCipher")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [SframeAlgorithm; 5] = [
        SframeAlgorithm::Aes128CtrHmacSha256Tag80,
        SframeAlgorithm::Aes128CtrHmacSha256Tag64,
        SframeAlgorithm::Aes128CtrHmacSha256Tag32,
        SframeAlgorithm::Aes128GcmSha256,
        SframeAlgorithm::Aes256GcmSha512,
    ];

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let base = Secret::from_slice(&[9; 16]).unwrap();
        for alg in ALL {
            let c = SframeCipher::derive(alg, &base, 7).unwrap();
            for meta_len in [0usize, 3, SFRAME_STACK_AAD_LEN + 1] {
                let meta = vec![0x5a; meta_len];
                let mut buf = *b"hello sframe";
                let mut tag = vec![0; c.tag_len()];
                c.seal_in_place(3, b"hdr", &meta, &mut buf, &mut tag)
                    .unwrap();
                assert_ne!(&buf, b"hello sframe");
                let sealed = buf;
                c.open_in_place(3, b"hdr", &meta, &mut buf, &tag).unwrap();
                assert_eq!(&buf, b"hello sframe");
                for (ctr, hdr, bad_meta) in [
                    (4, &b"hdr"[..], false),
                    (3, b"hdR", false),
                    (3, b"hdr", true),
                ] {
                    let mut m = meta.clone();
                    if bad_meta {
                        m.push(0);
                    }
                    let mut b = sealed;
                    assert_eq!(
                        c.open_in_place(ctr, hdr, &m, &mut b, &tag),
                        Err(Error::AuthenticationFailed)
                    );
                    assert_ne!(&b, b"hello sframe", "{alg:?}: plaintext released");
                }
                let mut b = sealed;
                assert_eq!(
                    c.open_in_place(3, b"hdr", &meta, &mut b, &tag[1..]),
                    Err(Error::AuthenticationFailed)
                );
            }
        }
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let k = Secret::from_slice(&[1; 16]).unwrap();
        let salt = Secret::from_slice(&[2; 12]).unwrap();
        assert!(SframeCipher::new(SframeAlgorithm::Aes128GcmSha256, &k, &salt).is_ok());
        assert!(
            SframeCipher::new(SframeAlgorithm::Aes256GcmSha512, &k, &salt)
                .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength))
        );
        assert!(
            SframeCipher::new(SframeAlgorithm::Aes128CtrHmacSha256Tag80, &k, &salt)
                .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength))
        );
        let short_salt = Secret::from_slice(&[2; 11]).unwrap();
        assert!(
            SframeCipher::new(SframeAlgorithm::Aes128GcmSha256, &k, &short_salt)
                .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength))
        );
        let c = SframeCipher::new(SframeAlgorithm::Aes128GcmSha256, &k, &salt).unwrap();
        let mut tag = [0; 15];
        assert_eq!(
            c.seal_in_place(0, b"", b"", &mut [], &mut tag),
            Err(ApiMisuse::BufferTooSmall.into())
        );
        assert_eq!(
            format!("{c:?}"),
            "SframeCipher { alg: Aes128GcmSha256, .. }"
        );
    }
}
