#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links, rustdoc::private_intra_doc_links)]

mod codec;
mod crypto;
pub mod error;
#[cfg(any(fuzzing, test))]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod internal_benches;
pub mod meeting;
pub mod mls;
mod parallel;
pub mod routing;
pub mod sframe;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod vectors;

pub use crypto::{CipherSuite, Secret, SignaturePrivateKey, SignaturePublicKey};
pub use error::{Error, Result};

/// The RNG traits meetkey's functions take (`RngCore + CryptoRng`), re-exported so that a
/// custom or seeded generator is written against the same version meetkey uses.
pub use rand_core;
/// The operating system's CSPRNG: what an application passes wherever meetkey takes an RNG,
/// with no RNG crate of its own. Randomness is always an input: tests pass a seeded
/// generator instead (any [`rand_core`] 0.6 `RngCore + CryptoRng`).
pub use rand_core::OsRng as SystemRng;
