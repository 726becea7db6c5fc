//! Ed25519 signatures and `SignWithLabel` / `VerifyWithLabel` (RFC 9420 §5.1.2).

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};

use super::kdf::MLS_LABEL_PREFIX;
use crate::codec::Writer;
use crate::error::{Error, InvalidMessage, Result};

/// The length of an Ed25519 signature in bytes.
pub(crate) const SIGNATURE_LEN: usize = 64;

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
    pub(crate) fn sign_with_label(
        &self,
        label: &[u8],
        content: &[u8],
    ) -> Result<[u8; SIGNATURE_LEN]> {
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
    pub fn to_bytes(self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies a signature over `message` as it is, with the strict checks of RFC 8032
    /// (canonical `S`, no small-order keys or `R`): exactly `ed25519-dalek`'s
    /// `verify_strict`, computed more cheaply.
    ///
    /// `verify_strict` is the plain check (`[S]B − [k]A` compresses to the bytes of `R`,
    /// `S` canonical) plus: `R` decompresses, `R` is not of small order, `A` is not of small
    /// order. When the plain check passes, `R`'s bytes are the canonical encoding of a curve
    /// point, so `R` decompresses, and it is of small order exactly when its bytes are one of
    /// the eight canonical encodings of the 8-torsion points. Comparing bytes instead of
    /// decompressing `R` (a field square root, about 7 % of joining a group) gives the same
    /// answer for every input; the tests check it against `verify_strict`.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for any invalid signature, including a wrong length.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let sig = ed25519_dalek::Signature::from_slice(signature)
            .map_err(|_| Error::AuthenticationFailed)?;
        if self.0.is_weak() || small_order_encodings().contains(sig.r_bytes()) {
            return Err(Error::AuthenticationFailed);
        }
        ed25519_dalek::Verifier::verify(&self.0, message, &sig)
            .map_err(|_| Error::AuthenticationFailed)
    }

    /// `VerifyWithLabel(key, label, content, signature)`.
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`] for an invalid signature;
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) for
    /// oversized content.
    pub(crate) fn verify_with_label(
        &self,
        label: &[u8],
        content: &[u8],
        signature: &[u8],
    ) -> Result<()> {
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

/// The canonical encodings of the eight points of order dividing 8, computed once from
/// `curve25519-dalek`'s table of them.
fn small_order_encodings() -> &'static [[u8; 32]; 8] {
    static ENCODINGS: std::sync::OnceLock<[[u8; 32]; 8]> = std::sync::OnceLock::new();
    ENCODINGS
        .get_or_init(|| curve25519_dalek::constants::EIGHT_TORSION.map(|p| p.compress().to_bytes()))
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
        assert!(SignaturePublicKey::from_bytes(&[0; 31])
            .is_err_and(|e| e == Error::InvalidMessage(InvalidMessage::InvalidKey)));
        assert!(SignaturePrivateKey::from_seed(&[0; 33])
            .is_err_and(|e| e == Error::InvalidMessage(InvalidMessage::InvalidKey)));
        assert_eq!(
            format!("{:?}", SignaturePrivateKey::from_seed(&[1; 32]).unwrap()),
            "SignaturePrivateKey { .. }"
        );
    }

    mod strict {
        use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
        use curve25519_dalek::{EdwardsPoint, Scalar};
        use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
        use rand_core::{RngCore as _, SeedableRng as _};
        use sha2::{Digest as _, Sha512};

        use super::*;

        /// Ours against `verify_strict`, and what the plain check says.
        fn check(a: &[u8; 32], message: &[u8], sig: &[u8; 64]) -> (bool, bool, bool) {
            let Ok(key) = VerifyingKey::from_bytes(a) else {
                return (false, false, false);
            };
            let s = Signature::from_bytes(sig);
            let ours = SignaturePublicKey(key).verify(message, sig).is_ok();
            (
                ours,
                key.verify_strict(message, &s).is_ok(),
                key.verify(message, &s).is_ok(),
            )
        }

        /// `k = SHA-512(R || A || M) mod l`.
        fn challenge(r: &[u8; 32], a: &[u8; 32], m: &[u8]) -> Scalar {
            let h = Sha512::new()
                .chain_update(r)
                .chain_update(a)
                .chain_update(m);
            Scalar::from_bytes_mod_order_wide(&h.finalize().into())
        }

        fn sig(r: [u8; 32], s: Scalar) -> [u8; 64] {
            let mut out = [0u8; 64];
            out[..32].copy_from_slice(&r);
            out[32..].copy_from_slice(s.as_bytes());
            out
        }

        #[test]
        fn small_order_encodings_are_the_eight_torsion_points() {
            let e = small_order_encodings();
            let mut sorted = e.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), 8);
            let mut identity = [0u8; 32];
            identity[0] = 1;
            assert!(e.contains(&identity));
            for p in EIGHT_TORSION {
                assert!(p.is_small_order());
            }
        }

        /// Random keys, messages and signatures, valid and corrupted in every byte
        /// position: ours agrees with `verify_strict` on each.
        #[test]
        fn agrees_with_verify_strict_on_valid_and_corrupted_signatures() {
            let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(77);
            let mut accepted = 0;
            for i in 0..40 {
                let sk = SignaturePrivateKey::generate(&mut r);
                let a = sk.public_key().to_bytes();
                let mut m = vec![0u8; i * 7];
                r.fill_bytes(&mut m);
                let good = sk.sign(&m);
                let (ours, strict, _) = check(&a, &m, &good);
                assert!(ours && strict);
                accepted += 1;
                for pos in 0..64 {
                    let mut bad = good;
                    bad[pos] ^= 1 << (pos % 8);
                    let (ours, strict, _) = check(&a, &m, &bad);
                    assert_eq!(ours, strict, "byte {pos}");
                }
                // S + l (non-canonical S) is refused by both.
                let s = Scalar::from_canonical_bytes(good[32..].try_into().unwrap()).unwrap();
                let mut wide = [0u8; 32];
                // l = 2^252 + 27742317777372353535851937790883648493, little-endian.
                let l: [u8; 32] = [
                    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde,
                    0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                ];
                assert_eq!(Scalar::from_bytes_mod_order(l), Scalar::ZERO);
                let sum = s.as_bytes().iter().zip(&l).scan(0u16, |c, (x, y)| {
                    let v = u16::from(*x) + u16::from(*y) + *c;
                    *c = v >> 8;
                    Some(v.to_le_bytes()[0])
                });
                for (w, b) in wide.iter_mut().zip(sum) {
                    *w = b;
                }
                let mut nc = good;
                nc[32..].copy_from_slice(&wide);
                assert_eq!(check(&a, &m, &nc), (false, false, false));
            }
            assert_eq!(accepted, 40);
        }

        /// Signatures the plain check accepts but `verify_strict` refuses: `R` the identity
        /// (`S = k·a`), a small-order key with `S = 0`. Ours refuses them all.
        #[test]
        fn refuses_what_only_the_plain_check_accepts() {
            let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(5);
            let mut identity = [0u8; 32];
            identity[0] = 1;
            // R = identity with a known private scalar a.
            let mut wide = [0u8; 64];
            r.fill_bytes(&mut wide);
            let a_scalar = Scalar::from_bytes_mod_order_wide(&wide);
            let a = (ED25519_BASEPOINT_POINT * a_scalar).compress().to_bytes();
            let m = b"small-order R";
            let s = challenge(&identity, &a, m) * a_scalar;
            assert_eq!(check(&a, m, &sig(identity, s)), (false, false, true));
            // Every other 8-torsion R is refused too.
            for t in small_order_encodings() {
                let (ours, strict, _) = check(&a, m, &sig(*t, s));
                assert!(!ours && !strict);
            }
            // A = identity, R = identity, S = 0: [0]B - [k]A = identity for every message.
            assert_eq!(
                check(&identity, m, &sig(identity, Scalar::ZERO)),
                (false, false, true)
            );
            // A of order 8, R = identity, S = 0: accepted by the plain check when 8 | k.
            let t8: EdwardsPoint = EIGHT_TORSION[1];
            let a8 = t8.compress().to_bytes();
            let mut found = 0;
            for i in 0u32..200 {
                let m = i.to_le_bytes();
                let (ours, strict, plain) = check(&a8, &m, &sig(identity, Scalar::ZERO));
                assert!(!ours && !strict);
                found += usize::from(plain);
            }
            assert!(found > 0, "some message had 8 | k");
        }
    }
}
