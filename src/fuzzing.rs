//! Fuzzing harnesses, one per decoder or state-machine entry point: each takes arbitrary
//! bytes, must never panic on them, and asserts that whatever parses survives a round trip.
//!
//! Compiled under `cfg(fuzzing)` (cargo-fuzz, whose targets in `fuzz/` are one line each)
//! and in tests, which replay every harness over the vectors, mutations and the checked-in
//! corpus so CI covers them without nightly.

mod framing;
mod meeting;
mod mls;
mod routing;
mod sframe;

pub use framing::private_message_unprotect;
pub use meeting::meeting_state;
pub use mls::mls_message;
pub use routing::{routing_directory, routing_policy};
pub use sframe::{sframe_decrypt, sframe_decrypt_seed, sframe_header};
