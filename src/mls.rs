//! MLS (RFC 9420): the group key agreement of a meeting.
//!
//! ```text
//!  tree::math ──► secret_tree ──► framing (PublicMessage / PrivateMessage protection)
//!  key_schedule: init_secret ─► joiner_secret ─► epoch_secret ─► epoch secrets ─► init_secret'
//!  transcript: confirmed / interim transcript hashes over each Commit
//!  welcome: GroupSecrets to each joiner's init key, GroupInfo under the welcome key
//! ```

pub mod framing;
pub mod group;
pub mod key_schedule;
#[cfg(test)]
mod musts_tests;
pub mod secret_tree;
pub mod transcript;
pub mod tree;
pub mod validate;
pub mod welcome;
pub mod wire;
