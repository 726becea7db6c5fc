//! Interoperability tests of meetkey's MLS (RFC 9420) against OpenMLS.
//!
//! The crate has no code of its own: the tests are in `tests/openmls.rs`. It is a separate
//! workspace member so that OpenMLS and its dependency tree never reach meetkey's users.
#![forbid(unsafe_code)]
