//! Comparison benches for meetkey (see `benches/`); this library is intentionally empty.
//!
//! `benches/aead_backends.rs` measures the AES-128-GCM seal of the SFrame payload sizes with
//! ring, aws-lc-rs and RustCrypto `aes-gcm` in one run; the fastest one backs
//! `meetkey::crypto::SframeCipher`.
