//! The cryptographic layer: cipher suites, secret types, HPKE and the labeled functions of
//! RFC 9420 §5.
//!
//! This is the only module that names the primitive crates (x25519-dalek through `hpke`,
//! ed25519-dalek, aes-gcm, chacha20poly1305, hkdf, hmac, sha2), and the only one that can
//! read the bytes of a [`Secret`]. Everything above it works with [`Suite`], [`Secret`] and
//! the key types here, so a change of backend touches this folder alone.
//!
//! ```text
//!  CipherSuite (code point) ──supported()──► Suite ──► kdf: Extract / ExpandWithLabel / DeriveSecret /
//!                                                        DeriveTreeSecret / RefHash / MAC
//!                                                 ├──► aead: seal / open (AEAD of the suite)
//!                                                 ├──► hpke: DeriveKeyPair, Encrypt/DecryptWithLabel
//!                                                 └──► signature: Sign/VerifyWithLabel (Ed25519)
//!  SframeAlgorithm (RFC 9605 suites) ──► derive_key_salt ──► SframeCipher (expanded once per KID)
//! ```

mod aead;
mod digest;
pub(crate) mod hpke;
mod hpke_sealer;
mod kdf;
mod leak_check;
mod rng;
mod secret;
mod sframe_aead;
mod sframe_kdf;
mod sha256;
mod signature;
mod state_seal;
mod suite;

pub(crate) use aead::{AeadKey, AeadNonce};
pub use digest::Digest;
pub(crate) use digest::Mac;
pub(crate) use hpke::{HpkePrivateKey, HpkePublicKey};
pub(crate) use hpke_sealer::LabeledSealer;
pub(crate) use rng::ForkSeed;
pub use secret::Secret;
pub(crate) use secret::MAX_SECRET_LEN;
pub(crate) use sframe_aead::SframeCipher;
pub(crate) use sframe_kdf::SframeAlgorithm;
#[cfg(test)]
pub(crate) use sframe_kdf::{sframe_key_label, sframe_salt_label};
pub(crate) use sha256::sha256;
pub use signature::SignaturePrivateKey;
pub use signature::SignaturePublicKey;
pub(crate) use signature::SIGNATURE_LEN;
pub(crate) use state_seal::{open_state, seal_state};
pub use suite::CipherSuite;
pub(crate) use suite::Suite;

/// A source of cryptographically secure randomness (an input, so tests can be seeded).
pub(crate) use rand_core::CryptoRngCore as Rng;
