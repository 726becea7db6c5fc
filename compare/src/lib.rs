//! The three-library MLS benchmark (`benches/compare.rs`): meetkey against OpenMLS 0.9.2
//! and mls-rs, commit creation and processing in populated and sparse trees, joins, sizes
//! and memory, from 10 to 10 000 members. It writes `BENCHMARKS.md` and `docs/benchmarks.*`.
//!
//! The crate has no code of its own. It is a separate workspace member so that OpenMLS and
//! mls-rs never reach meetkey's users; the interoperability tests are in `interop-openmls/`.
#![forbid(unsafe_code)]
