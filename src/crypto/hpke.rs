//! HPKE (RFC 9180) through the `hpke` crate: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and
//! AES-128-GCM, ChaCha20-Poly1305 or export-only, in all four modes; plus the MLS uses of it,
//! `DeriveKeyPair` and `EncryptWithLabel` / `DecryptWithLabel` (RFC 9420 §5.1.3).
//!
//! ```text
//!  setup_sender(mode, pkR, info, rng) ──► (enc, SenderContext) ──► seal (seq 0, 1, …) / export
//!  setup_receiver(mode, enc, skR, info) ──► ReceiverContext ──► open (seq 0, 1, …) / export
//! ```

use hpke::aead::{AeadCtxR, AeadCtxS, AesGcm128, ChaCha20Poly1305, ExportOnlyAead};
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, HpkeError, Kem as _, OpModeR, OpModeS, PskBundle, Serializable};

use super::kdf::MLS_LABEL_PREFIX;
use super::{Rng, Secret, Suite};
use crate::codec::Writer;
use crate::error::{ApiMisuse, Error, InvalidMessage, Result};

mod labeled;

type Kem = X25519HkdfSha256;
type KemPrivate = <Kem as hpke::Kem>::PrivateKey;
type KemPublic = <Kem as hpke::Kem>::PublicKey;
type KemEncapped = <Kem as hpke::Kem>::EncappedKey;

/// The length of an X25519 HPKE key or encapsulated key.
const NPK: usize = 32;

/// The HPKE AEAD (RFC 9180 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Export-only serves the RFC 9180 vector tests; MLS suites seal.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum HpkeAead {
    /// AES-128-GCM (0x0001).
    Aes128Gcm,
    /// ChaCha20-Poly1305 (0x0003).
    ChaCha20Poly1305,
    /// Export-only (0xFFFF): no seal or open, only the exporter.
    ExportOnly,
}

impl HpkeAead {
    /// The AEAD with RFC 9180 identifier `id`.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for other ids.
    #[cfg(test)]
    pub(crate) const fn from_id(id: u16) -> Result<Self> {
        match id {
            0x0001 => Ok(Self::Aes128Gcm),
            0x0003 => Ok(Self::ChaCha20Poly1305),
            0xffff => Ok(Self::ExportOnly),
            other => Err(Error::Unsupported(crate::error::Unsupported::CipherSuite(
                other,
            ))),
        }
    }
}

/// An X25519 HPKE private key. Zeroized on drop; never printed.
pub(crate) struct HpkePrivateKey(Secret);

impl HpkePrivateKey {
    /// The serialized private key, for the RFC 9180 steps done in `crypto` itself.
    pub(in crate::crypto) const fn secret(&self) -> &Secret {
        &self.0
    }

    /// Imports a serialized private key (`SerializePrivateKey`, 32 bytes).
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] for a key that is not 32 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Self> {
        if bytes.len() != NPK {
            return Err(InvalidMessage::InvalidKey.into());
        }
        Secret::from_slice(bytes).map(Self)
    }

    /// The public key of this private key.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] if the stored key does not parse (cannot happen for
    /// keys made by this module).
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn public_key(&self) -> Result<HpkePublicKey> {
        let sk = self.to_kem()?;
        Ok(HpkePublicKey(<[u8; NPK]>::from(
            Kem::sk_to_pk(&sk).to_bytes(),
        )))
    }

    /// Writes the key as `opaque<V>` into a saved group state (which the caller zeroizes).
    pub(crate) fn write_to(&self, w: &mut Writer) {
        self.0.write_opaque_to(w);
    }

    fn to_kem(&self) -> Result<KemPrivate> {
        KemPrivate::from_bytes(self.0.expose()).map_err(|_| InvalidMessage::InvalidKey.into())
    }
}

impl PartialEq for HpkePrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for HpkePrivateKey {}

impl core::fmt::Debug for HpkePrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HpkePrivateKey").finish_non_exhaustive()
    }
}

/// An X25519 HPKE public key (`SerializePublicKey`, 32 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct HpkePublicKey([u8; NPK]);

impl HpkePublicKey {
    /// Wraps a serialized public key.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] unless `bytes` is 32 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> Result<Self> {
        <[u8; NPK]>::try_from(bytes)
            .map(Self)
            .map_err(|_| InvalidMessage::InvalidKey.into())
    }

    /// Wraps a serialized public key received from a peer, refusing keys no honest peer
    /// produces: anything but 32 bytes, and the low-order points of X25519 and its twist
    /// (RFC 7748 §6.1: a Diffie-Hellman with one of them yields the all-zero value, which
    /// RFC 9180 §7.1.4 makes `Encap` refuse, so every later seal to the key would fail).
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`] for a wrong length or a low-order point.
    pub(crate) fn validated(bytes: &[u8]) -> Result<Self> {
        let key = Self::from_slice(bytes)?;
        if is_low_order_u(&key.0) {
            return Err(InvalidMessage::InvalidKey.into());
        }
        Ok(key)
    }

    /// The serialized key.
    #[must_use]
    pub(crate) const fn as_bytes(&self) -> &[u8; NPK] {
        &self.0
    }

    fn to_kem(self) -> Result<KemPublic> {
        KemPublic::from_bytes(&self.0).map_err(|_| InvalidMessage::InvalidKey.into())
    }
}

impl core::fmt::Debug for HpkePublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("HpkePublicKey(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// The u-coordinates of the points of order 1, 2, 4 and 8 on Curve25519 and its twist
/// (RFC 7748 §6.1), canonical little-endian: 0, 1, p − 1 and the two points of order 8.
fn low_order_u() -> &'static [[u8; NPK]] {
    static LIST: std::sync::OnceLock<Vec<[u8; NPK]>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<[u8; NPK]> = curve25519_dalek::constants::EIGHT_TORSION
            .iter()
            .map(|p| p.to_montgomery().to_bytes())
            .collect();
        // p − 1 = 2^255 − 20: the point of order 2 on the twist.
        let mut minus_one = [0xff; NPK];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        list.push(minus_one);
        list.sort_unstable();
        list.dedup();
        list
    })
}

/// Whether `u` (as X25519 reads it: top bit ignored, values ≥ p reduced) is a low-order
/// point. Public data: no constant time needed.
fn is_low_order_u(u: &[u8; NPK]) -> bool {
    let mut v = *u;
    v[31] &= 0x7f;
    // Reduce the 19 values in [p, 2^255) (p = 2^255 − 19): v − p = v[0] − 0xed with
    // every other byte zero.
    let top_is_ones = v[1..31].iter().all(|&b| b == 0xff) && v[31] == 0x7f;
    if top_is_ones && v[0] >= 0xed {
        let low = v[0] - 0xed;
        v = [0; NPK];
        v[0] = low;
    }
    low_order_u().contains(&v)
}

/// `DeriveKeyPair(ikm)` of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1.3).
///
/// # Errors
/// Never for X25519; the `Result` guards the key conversion.
pub(crate) fn derive_key_pair(ikm: &Secret) -> Result<(HpkePrivateKey, HpkePublicKey)> {
    let (sk, pk) = Kem::derive_keypair(ikm.expose());
    let sk = HpkePrivateKey(Secret::from_array(<[u8; NPK]>::from(sk.to_bytes())));
    Ok((sk, HpkePublicKey(<[u8; NPK]>::from(pk.to_bytes()))))
}

/// A pre-shared key and its identifier (modes `psk` and `auth_psk`).
#[derive(Clone, Copy)]
pub(crate) struct Psk<'a> {
    /// The PSK bytes (secret).
    pub psk: &'a [u8],
    /// The PSK identifier.
    pub psk_id: &'a [u8],
}

impl core::fmt::Debug for Psk<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Psk")
            .field("psk_id", &self.psk_id)
            .finish_non_exhaustive()
    }
}

/// The sender's mode (RFC 9180 §5): what it authenticates with.
#[derive(Debug, Clone, Copy)]
// The PSK and auth modes serve the RFC 9180 vector tests only; MLS uses mode_base.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum SenderMode<'a> {
    /// `mode_base`.
    Base,
    /// `mode_psk`.
    Psk(Psk<'a>),
    /// `mode_auth`: the sender's static key.
    Auth(&'a HpkePrivateKey),
    /// `mode_auth_psk`.
    AuthPsk(&'a HpkePrivateKey, Psk<'a>),
}

/// The receiver's mode (RFC 9180 §5): what it expects the sender to authenticate with.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum ReceiverMode<'a> {
    /// `mode_base`.
    Base,
    /// `mode_psk`.
    Psk(Psk<'a>),
    /// `mode_auth`: the sender's static public key.
    Auth(&'a HpkePublicKey),
    /// `mode_auth_psk`.
    AuthPsk(&'a HpkePublicKey, Psk<'a>),
}

fn bundle<'a>(p: Psk<'a>) -> Result<PskBundle<'a>> {
    // RFC 9180 §5.1 VerifyPSKInputs: a PSK mode needs both a PSK and its identifier.
    if p.psk.is_empty() || p.psk_id.is_empty() {
        return Err(ApiMisuse::InvalidLength.into());
    }
    Ok(PskBundle {
        psk: p.psk,
        psk_id: p.psk_id,
    })
}

fn sender_mode(mode: SenderMode<'_>) -> Result<OpModeS<'_, Kem>> {
    let pair = |sk: &HpkePrivateKey| -> Result<(KemPrivate, KemPublic)> {
        let sk = sk.to_kem()?;
        let pk = Kem::sk_to_pk(&sk);
        Ok((sk, pk))
    };
    Ok(match mode {
        SenderMode::Base => OpModeS::Base,
        SenderMode::Psk(p) => OpModeS::Psk(bundle(p)?),
        SenderMode::Auth(sk) => OpModeS::Auth(pair(sk)?),
        SenderMode::AuthPsk(sk, p) => OpModeS::AuthPsk(pair(sk)?, bundle(p)?),
    })
}

fn receiver_mode(mode: ReceiverMode<'_>) -> Result<OpModeR<'_, Kem>> {
    Ok(match mode {
        ReceiverMode::Base => OpModeR::Base,
        ReceiverMode::Psk(p) => OpModeR::Psk(bundle(p)?),
        ReceiverMode::Auth(pk) => OpModeR::Auth(pk.to_kem()?),
        ReceiverMode::AuthPsk(pk, p) => OpModeR::AuthPsk(pk.to_kem()?, bundle(p)?),
    })
}

fn map_seal(e: HpkeError) -> Error {
    match e {
        HpkeError::MessageLimitReached => ApiMisuse::CounterExhausted.into(),
        HpkeError::KdfOutputTooLong | HpkeError::IncorrectInputLength(..) => {
            ApiMisuse::InvalidLength.into()
        }
        _ => Error::Internal("HPKE seal failed"),
    }
}

fn map_open(e: HpkeError) -> Error {
    match e {
        HpkeError::MessageLimitReached => ApiMisuse::CounterExhausted.into(),
        HpkeError::KdfOutputTooLong => ApiMisuse::InvalidLength.into(),
        // Decapsulation and tag failures are one opaque error.
        _ => Error::AuthenticationFailed,
    }
}

macro_rules! contexts {
    ($($variant:ident => $aead:ty),*) => {
        /// An HPKE sender context: seals with increasing sequence numbers and exports.
        pub(crate) enum SenderContext {
            $( #[doc = stringify!($aead)] $variant(Box<AeadCtxS<$aead, HkdfSha256, Kem>>), )*
        }

        /// An HPKE receiver context: opens with increasing sequence numbers and exports.
        pub(crate) enum ReceiverContext {
            $( #[doc = stringify!($aead)] $variant(Box<AeadCtxR<$aead, HkdfSha256, Kem>>), )*
        }

        /// `SetupS` in the given mode: encapsulates to `pk_r` and derives the context.
        ///
        /// # Errors
        /// [`InvalidMessage::InvalidKey`] for a bad key; [`ApiMisuse::InvalidLength`] for an
        /// empty PSK or PSK id.
        pub(crate) fn setup_sender(
            aead: HpkeAead,
            mode: SenderMode<'_>,
            pk_r: &HpkePublicKey,
            info: &[u8],
            rng: &mut impl Rng,
        ) -> Result<(Vec<u8>, SenderContext)> {
            let mode = sender_mode(mode)?;
            let pk_r = pk_r.to_kem()?;
            match aead {
                $( HpkeAead::$variant => {
                    let (enc, ctx) = hpke::setup_sender::<$aead, HkdfSha256, Kem, _>(&mode, &pk_r, info, rng)
                        .map_err(|_| Error::from(InvalidMessage::InvalidKey))?;
                    Ok((enc.to_bytes().to_vec(), SenderContext::$variant(Box::new(ctx))))
                } )*
            }
        }

        /// `SetupR` in the given mode: decapsulates `enc` with `sk_r` and derives the context.
        ///
        /// # Errors
        /// [`Error::AuthenticationFailed`] when decapsulation fails;
        /// [`InvalidMessage::InvalidKey`] for a malformed `enc` or key.
        pub(crate) fn setup_receiver(
            aead: HpkeAead,
            mode: ReceiverMode<'_>,
            enc: &[u8],
            sk_r: &HpkePrivateKey,
            info: &[u8],
        ) -> Result<ReceiverContext> {
            let mode = receiver_mode(mode)?;
            let sk_r = sk_r.to_kem()?;
            let enc = KemEncapped::from_bytes(enc).map_err(|_| InvalidMessage::InvalidKey)?;
            match aead {
                $( HpkeAead::$variant => {
                    let ctx = hpke::setup_receiver::<$aead, HkdfSha256, Kem>(&mode, &sk_r, &enc, info)
                        .map_err(map_open)?;
                    Ok(ReceiverContext::$variant(Box::new(ctx)))
                } )*
            }
        }

        impl SenderContext {
            /// `Seal(aad, pt)` with the next sequence number.
            ///
            /// # Errors
            /// [`ApiMisuse::CounterExhausted`] when the sequence number is exhausted;
            /// [`ApiMisuse::ExportOnlyContext`] for the export-only AEAD, which cannot seal.
            #[cfg(any(test, feature = "bench-internals"))]
            pub(crate) fn seal(&mut self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>> {
                // The hpke crate panics when an export-only context seals: refuse first.
                if matches!(self, Self::ExportOnly(_)) {
                    return Err(ApiMisuse::ExportOnlyContext.into());
                }
                match self { $( Self::$variant(c) => c.seal(plaintext, aad).map_err(map_seal), )* }
            }

            /// `Export(exporter_context, length)`, at most 64 bytes.
            ///
            /// # Errors
            /// [`ApiMisuse::InvalidLength`] above 64 bytes.
            pub(crate) fn export(&self, exporter_context: &[u8], length: usize) -> Result<Secret> {
                let mut out = Secret::zero(length)?;
                match self { $( Self::$variant(c) => c.export(exporter_context, out.expose_mut()).map_err(map_seal)?, )* }
                Ok(out)
            }
        }

        impl ReceiverContext {
            /// `Open(aad, ct)` with the next sequence number.
            ///
            /// # Errors
            /// [`Error::AuthenticationFailed`] when the ciphertext does not verify;
            /// [`ApiMisuse::ExportOnlyContext`] for the export-only AEAD.
            #[cfg(test)]
            pub(crate) fn open(&mut self, aad: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>> {
                if matches!(self, Self::ExportOnly(_)) {
                    return Err(ApiMisuse::ExportOnlyContext.into());
                }
                match self { $( Self::$variant(c) => c.open(ciphertext, aad).map_err(map_open), )* }
            }

            /// `Export(exporter_context, length)`, at most 64 bytes.
            ///
            /// # Errors
            /// [`ApiMisuse::InvalidLength`] above 64 bytes.
            pub(crate) fn export(&self, exporter_context: &[u8], length: usize) -> Result<Secret> {
                let mut out = Secret::zero(length)?;
                match self { $( Self::$variant(c) => c.export(exporter_context, out.expose_mut()).map_err(map_seal)?, )* }
                Ok(out)
            }
        }

        impl core::fmt::Debug for SenderContext {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct("SenderContext").finish_non_exhaustive()
            }
        }

        impl core::fmt::Debug for ReceiverContext {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct("ReceiverContext").finish_non_exhaustive()
            }
        }
    };
}

contexts!(Aes128Gcm => AesGcm128, ChaCha20Poly1305 => ChaCha20Poly1305, ExportOnly => ExportOnlyAead);

/// The encoded `EncryptContext { opaque label<V> = "MLS 1.0 " + label; opaque context<V>; }`.
pub(in crate::crypto) fn encrypt_context(label: &[u8], context: &[u8]) -> Result<Vec<u8>> {
    let mut w = Writer::with_capacity(MLS_LABEL_PREFIX.len() + label.len() + context.len() + 8);
    w.write_prefixed(|w| {
        w.write_raw(MLS_LABEL_PREFIX);
        w.write_raw(label);
    });
    w.write_opaque(context);
    w.into_bytes()
}

/// The output of `EncryptWithLabel`: `HPKECiphertext { kem_output; ciphertext }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LabeledCiphertext {
    /// The encapsulated key.
    pub kem_output: Vec<u8>,
    /// The AEAD ciphertext.
    pub ciphertext: Vec<u8>,
}

#[cfg(test)]
mod low_order_tests {
    #![allow(clippy::indexing_slicing, clippy::unwrap_used)]
    use super::*;

    /// RFC 7748 §6.1 / RFC 9180 §7.1.4: every key `validated` refuses is one whose DH output
    /// is all zero for any scalar, including the non-canonical encodings (top bit set,
    /// values ≥ p); derived keys pass.
    #[test]
    fn low_order_keys_are_refused_and_really_are_low_order() {
        let scalar = [0x42u8; 32];
        let mut refused = 0;
        for u in low_order_u() {
            for variant in 0..3u8 {
                let mut k = *u;
                match variant {
                    0 => {}
                    1 => k[31] |= 0x80,
                    _ => {
                        // u + p, for the u below 19 (then still below 2^255).
                        if k[1..].iter().any(|&b| b != 0) || k[0] >= 19 {
                            continue;
                        }
                        let low = k[0] + 0xed;
                        k = [0xff; 32];
                        k[0] = low;
                        k[31] = 0x7f;
                    }
                }
                assert_eq!(x25519_dalek::x25519(scalar, k), [0; 32], "{k:02x?}");
                assert_eq!(
                    HpkePublicKey::validated(&k),
                    Err(InvalidMessage::InvalidKey.into())
                );
                refused += 1;
            }
        }
        assert!(refused >= 12, "{refused}");
        assert_eq!(
            HpkePublicKey::validated(&[0; 31]),
            Err(InvalidMessage::InvalidKey.into())
        );
        for i in 0..64u8 {
            let (_, pk) = derive_key_pair(&Secret::from_slice(&[i; 32]).unwrap()).unwrap();
            assert!(HpkePublicKey::validated(pk.as_bytes()).is_ok());
        }
    }
}
