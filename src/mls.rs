//! MLS (RFC 9420): the group key agreement of a meeting.
//!
//! ```text
//!  tree::math ──► secret_tree ──► framing (PublicMessage / PrivateMessage protection)
//!  key_schedule: init_secret ─► joiner_secret ─► epoch_secret ─► epoch secrets ─► init_secret'
//!  transcript: confirmed / interim transcript hashes over each Commit
//!  welcome: GroupSecrets to each joiner's init key, GroupInfo under the welcome key
//! ```

#[cfg(all(test, feature = "bench-internals"))]
mod bench_support_tests;
#[cfg(test)]
mod external_tests;
pub(crate) mod framing;
pub(crate) mod group;
#[cfg(test)]
mod group_api_tests;
#[cfg(test)]
mod group_histories_tests;
pub(crate) mod key_schedule;
#[cfg(test)]
mod musts_tests;
mod proposal;
pub(crate) mod secret_tree;
pub(crate) mod transcript;
pub(crate) mod tree;
pub(crate) mod validate;
pub(crate) mod welcome;
pub(crate) mod wire;

#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub use group::bench_support;
pub use group::{
    CommitOptions, CommitOutput, ExternalProposer, Group, GroupConfig, KeyPackageBundle, Limits,
    ProcessedMessage, ProposalInfo, StagedCommit,
};
pub use proposal::Proposal;
pub use secret_tree::RatchetConfig;
pub use tree::math::LeafIndex;
pub use validate::CredentialValidator;
pub use wire::{
    Credential, CredentialType, Extension, ExtensionType, ExternalSender, GroupInfo, KeyPackage,
    Lifetime, MessageKind, MlsMessage, RatchetTree, Sender, Welcome,
};
