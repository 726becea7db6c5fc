//! Benchmarks of the engine's internals (feature `bench-internals`, never for applications):
//! the bench targets in `benches/` and the `hostile_costs` example call into these, so the
//! internals they measure stay private to the crate.

pub mod framing;
/// Needs the `adversary` feature too: some inputs are forged external commits.
#[cfg(feature = "adversary")]
pub mod hostile;
pub mod tree;
