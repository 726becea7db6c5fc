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
