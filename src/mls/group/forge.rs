//! Forgeries for the adversary tests (feature `adversary`, never for applications): messages
//! an honest client never sends, built with the same code so that receivers' checks — not a
//! hand-rolled encoder — are what the tests exercise.

use crate::crypto::Rng;
use crate::error::Result;
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{GroupInfo, MlsMessage, ProposalOrRef};
use crate::mls::Proposal;

use super::external_join::Joiner;
use super::{Group, GroupConfig, KeyPackageBundle};

impl Group {
    /// An external commit from `bundle` into the group of `group_info` that removes
    /// `remove` (any leaf) and also carries the proposals `extra` by value and the
    /// ProposalRefs `extra_refs` by reference, without any of the joiner's checks.
    ///
    /// # Errors
    /// Only what stops the commit from being built at all (a bad GroupInfo or tree).
    pub fn forge_external_commit(
        config: GroupConfig,
        group_info: &GroupInfo,
        bundle: KeyPackageBundle,
        remove: Option<u32>,
        extra: Vec<Proposal>,
        extra_refs: Vec<Vec<u8>>,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        let extra = extra
            .into_iter()
            .map(|p| ProposalOrRef::Proposal(p.0))
            .chain(extra_refs.into_iter().map(ProposalOrRef::Reference))
            .collect();
        let joiner = Joiner::Forged {
            remove: remove.map(LeafIndex),
            extra,
        };
        Self::external_commit(config, group_info, None, bundle, joiner, rng).map(|(_, m)| m)
    }

    /// This member's state without the application's commit rules: a rogue member that
    /// skips them (e.g. a meeting's) when it commits.
    pub fn drop_rules_for_forgery(&mut self) {
        self.config.rules = std::sync::Arc::new(super::NoCommitRules);
    }
}

impl KeyPackageBundle {
    /// This bundle's KeyPackage with one more extension, validly re-signed: a join
    /// request of any size the adversary likes.
    ///
    /// # Errors
    /// Only on an encoding overflow.
    pub fn forge_extension(mut self, extension: crate::mls::wire::Extension) -> Result<Self> {
        self.key_package.extensions.push(extension);
        self.key_package.signature = self
            .signer
            .sign_with_label(b"KeyPackageTBS", &self.key_package.to_be_signed()?)?
            .to_vec();
        Ok(self)
    }
}
