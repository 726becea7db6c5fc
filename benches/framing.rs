//! Per-message costs of RFC 9420 §6 framing; the benchmark bodies live in
//! `src/internal_benches/framing.rs` (they measure crate internals).
//!
//! Run: `cargo bench --bench framing`.

use criterion::{criterion_group, criterion_main};
use meetkey::internal_benches::framing::{private, public_and_signature};

criterion_group!(benches, private, public_and_signature);
criterion_main!(benches);
