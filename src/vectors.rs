//! The official test vectors (`vectors/`), one `#[cfg(test)]` module per vector file. They
//! exercise the engine's internals directly, so they live inside the crate; each prints how
//! many cases it ran per cipher suite and fails when none ran.

mod crypto_basics;
mod deserialization;
mod hpke;
mod key_schedule;
mod message_protection;
mod messages;
mod passive_client;
mod psk_secret;
mod secret_tree;
mod sframe;
mod transcript_hashes;
mod tree_math;
mod tree_operations;
mod tree_validation;
mod treekem;
mod welcome;
