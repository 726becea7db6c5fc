//! TreeKEM costs in populated trees of 10 to 10 000 leaves; the benchmark bodies live in
//! `src/internal_benches/tree.rs` (they measure crate internals).
//!
//! Run: `cargo bench --bench tree`.

use criterion::{criterion_group, criterion_main, Criterion};

criterion_group! {
    name = tree;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = meetkey::internal_benches::tree::benches
}
criterion_main!(tree);
