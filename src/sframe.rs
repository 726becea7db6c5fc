//! SFrame (RFC 9605): end-to-end encryption of media frames, keyed from MLS epochs.
//!
//! ```text
//!  MLS exporter output ─► BaseKey ─► KeyStore (§5.2: KID = context | sender index | epoch bits)
//!                                        ├─► Encryptor (own KID, CTR) ─► header ‖ ciphertext ‖ tag
//!                                        └─► Decryptor (KID ─► key + replay window) ─► plaintext
//!  header (§4.3) ◄─► Header::{encode, decode}      suites (§4.5) ─► crypto::SframeCipher
//! ```
//!
//! This module uses only `crypto`, `codec` and `error`; it takes the MLS exporter output as a
//! secret and never sees a group. Every AEAD key is expanded once per KID, and encrypting or
//! decrypting a frame writes into caller buffers without heap allocation.
//!
//! ```
//! use meetkey::sframe::{BaseKey, SframeSuite, Decryptor, Encryptor};
//!
//! let base_key = BaseKey::from_bytes(&[7; 16])?;
//! let suite = SframeSuite::AES_128_GCM_SHA256_128;
//! let mut sender = Encryptor::new(suite, 0x42, &base_key)?;
//! let mut receiver = Decryptor::new(suite)?;
//! receiver.add_key(0x42, &base_key)?;
//!
//! let mut frame = [0u8; 64];
//! let n = sender.encrypt(b"rtp-meta", b"audio frame", &mut frame)?;
//! let mut plain = [0u8; 64];
//! let got = receiver.decrypt(b"rtp-meta", &frame[..n], &mut plain)?;
//! assert_eq!(&plain[..got.len], b"audio frame");
//! # Ok::<(), meetkey::Error>(())
//! ```

mod context;
mod header;
mod mls;
mod replay;
mod suite;
#[cfg(test)]
mod tests;

pub use context::{Decrypted, Decryptor, Encryptor};
pub use header::Header;
pub(crate) use mls::PreparedEpoch;
pub(crate) use mls::EXPORTER_LABEL;
pub use mls::{KeyStore, KidLayout};
pub use replay::ReplayProtection;
pub(crate) use replay::WINDOW_WORDS as REPLAY_WORDS;
#[cfg(test)]
pub(crate) use suite::DerivedKeys;
pub use suite::{BaseKey, SframeSuite};
