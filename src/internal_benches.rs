//! Benchmarks of the engine's internals (feature `bench-internals`, never for applications):
//! the bench targets in `benches/` and the `hostile_costs` example call into these, so the
//! internals they measure stay private to the crate.

pub mod framing;
pub mod hostile;
pub mod tree;
