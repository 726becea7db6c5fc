//! Fuzzing harnesses, one per decoder or state-machine entry point: each takes arbitrary
//! bytes, must never panic on them, and asserts that whatever parses survives a round trip
//! and that whatever a state machine accepts leaves it consistent.
//!
//! Compiled under `cfg(fuzzing)` (cargo-fuzz, whose targets in `fuzz/` are one line each)
//! and in tests, which replay every harness over the checked-in corpus
//! (`fuzz/corpus/<target>/`), every crash input ever found (`fuzz/regressions/<target>/`),
//! and their truncations and bit flips, so CI covers them without nightly.
//!
//! State harnesses rebuild their state on every call from a constant seed (`SeedRng`, which
//! has NO SECURITY and exists only here), so runs are reproducible.

mod framing;
mod group;
mod meeting;
mod meeting_frames;
mod meeting_process;
mod mls;
mod rng;
mod routing;
mod sframe;
mod tree;

#[cfg(test)]
mod replay;
#[cfg(test)]
mod seeds;

pub use framing::private_message_unprotect;
pub use group::{commit_process, external_join, key_package_validate, welcome_join};
pub use meeting::meeting_state;
pub use meeting_frames::meeting_frames;
pub use meeting_process::{governance_decode, meeting_process};
pub use mls::mls_message;
pub use routing::{routing_directory, routing_directory_verify, routing_policy};
pub use sframe::{sframe_decrypt, sframe_decrypt_seed, sframe_header};
pub use tree::ratchet_tree_validate;
