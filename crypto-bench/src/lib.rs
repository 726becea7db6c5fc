//! Speed benches of meetkey's SFrame and AEAD backends against other crates (see `benches/`);
//! this library is intentionally empty.
//!
//! `benches/aead_backends.rs` measures the AES-128-GCM seal of the SFrame payload sizes with
//! ring, aws-lc-rs and RustCrypto `aes-gcm` in one run; the fastest one backs
//! meetkey's SFrame AEAD (`src/crypto/sframe_aead.rs`).
