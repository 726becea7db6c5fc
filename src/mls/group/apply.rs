//! Validating a committed proposal list (RFC 9420 §12.2) and applying it to a staged tree
//! (§12.3): GroupContextExtensions, then Updates, Removes, Adds, PSKs, ExternalInit.

use std::collections::HashSet;

use crate::error::{PeerMisbehaved, Result};
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::TreeDiff;
use crate::mls::validate::{self, GroupParams, LeafContext};
use crate::mls::wire::{
    Extension, GroupContext, KeyPackage, PreSharedKeyId, Proposal, Psk, ReInit, ResumptionPskUsage,
    Sender,
};

/// What applying a proposal list did, for the key schedule, the Welcome and the caller.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// Members added, with their KeyPackages (a Welcome goes to each).
    pub(super) added: Vec<(LeafIndex, KeyPackage)>,
    /// Members removed.
    pub(super) removed: Vec<LeafIndex>,
    /// Members whose leaf an Update replaced.
    pub(super) updated: Vec<LeafIndex>,
    /// PSKs to inject, in order.
    pub(super) psks: Vec<PreSharedKeyId>,
    /// The `kem_output` of an ExternalInit.
    pub(super) external_init: Option<Vec<u8>>,
    /// New GroupContext extensions.
    pub(super) extensions: Option<Vec<Extension>>,
    /// A ReInit's parameters.
    pub(super) reinit: Option<ReInit>,
    /// Whether the commit must carry an UpdatePath (§12.4).
    pub(super) path_required: bool,
}

/// Validates `proposals` (each with the sender that proposed it) for a commit from
/// `committer`, and applies them to `diff`. With no committer, checks a proposal list on
/// its own (a proposal on receipt): the rules that depend on who commits are skipped.
///
/// # Errors
/// [`PeerMisbehaved::InvalidProposalList`] for a list §12.2 forbids; the details of
/// [`validate::validate_leaf_node`] and [`validate::validate_key_package`] for invalid
/// proposals.
pub(super) fn apply_proposals(
    diff: &mut TreeDiff<'_>,
    context: &GroupContext,
    committer: Option<&Sender>,
    proposals: &[(Proposal, Sender)],
    params: &GroupParams<'_>,
    config: &super::GroupConfig,
) -> Result<Applied> {
    let mut pass = Pass {
        external: matches!(committer, Some(Sender::NewMemberCommit)),
        committer_leaf: match committer {
            Some(Sender::Member(l)) => Some(LeafIndex(*l)),
            _ => None,
        },
        touched: HashSet::new(),
        counts: Counts::default(),
        applied: Applied {
            path_required: proposals.is_empty(),
            ..Applied::default()
        },
    };
    // GroupContextExtensions first: the new extensions govern the other proposals.
    let required = pass.extensions(diff, context, proposals, params)?;
    let params = GroupParams {
        required_extensions: &required.0,
        required_proposals: &required.1,
        required_credentials: &required.2,
        ..*params
    };
    pass.updates(diff, context, proposals, &params)?;
    pass.removes(diff, proposals)?;
    pass.adds(diff, proposals, &params, config)?;
    pass.others(proposals, &params)?;
    pass.finish(diff)
}

fn invalid() -> crate::Error {
    PeerMisbehaved::InvalidProposalList.into()
}

/// How many proposals of each class a commit carries (§12.2's rules for external commits).
#[derive(Debug, Default)]
struct Counts {
    external_init: usize,
    remove: usize,
    other: usize,
}

/// One pass over a commit's proposals, in the order §12.2 applies them.
#[derive(Debug)]
struct Pass {
    external: bool,
    committer_leaf: Option<LeafIndex>,
    /// Leaves an Update or Remove already touched (§12.2: one per leaf).
    touched: HashSet<LeafIndex>,
    counts: Counts,
    applied: Applied,
}

impl Pass {
    /// The GroupContextExtensions proposal, if any: every member supports the new
    /// extensions and required capabilities. Returns the required capabilities in force
    /// for the other proposals.
    fn extensions(
        &mut self,
        diff: &TreeDiff<'_>,
        context: &GroupContext,
        proposals: &[(Proposal, Sender)],
        params: &GroupParams<'_>,
    ) -> Result<validate::RequiredCapabilities> {
        let mut required = validate::required_capabilities(&context.extensions)?;
        for (p, _) in proposals {
            let Proposal::GroupContextExtensions(gce) = p else {
                continue;
            };
            if self.applied.extensions.is_some() {
                return Err(invalid());
            }
            // Every member must support every non-default extension.
            for e in gce
                .extensions
                .iter()
                .map(|e| e.extension_type)
                .filter(|t| !validate::is_default_extension(*t))
            {
                if !diff
                    .leaves()
                    .all(|(_, l)| l.capabilities.extensions.contains(&e))
                {
                    return Err(PeerMisbehaved::UnsupportedCapability.into());
                }
            }
            required = validate::required_capabilities(&gce.extensions)?;
            // §5.3.1, §12.1.8.1: an added or updated `external_senders` extension is
            // well-formed and each of its credentials acceptable to the application.
            validate::external_senders(&gce.extensions, params.credentials)?;
            // §11.1: the new required capabilities are supported by every current member
            // (default extension and proposal types always are).
            let (exts, props, creds) = &required;
            if !diff.leaves().all(|(_, l)| {
                let caps = &l.capabilities;
                exts.iter()
                    .all(|&e| validate::is_default_extension(e) || caps.extensions.contains(&e))
                    && props
                        .iter()
                        .all(|&p| validate::is_default_proposal(p) || caps.proposals.contains(&p))
                    && creds.iter().all(|c| caps.credentials.contains(c))
            }) {
                return Err(PeerMisbehaved::UnsupportedCapability.into());
            }
            self.applied.extensions = Some(gce.extensions.clone());
            self.applied.path_required = true;
            self.counts.other += 1;
        }
        Ok(required)
    }

    /// Updates (§12.1.2): from a member other than the committer, a valid leaf with a new
    /// encryption key, the same client.
    fn updates(
        &mut self,
        diff: &mut TreeDiff<'_>,
        context: &GroupContext,
        proposals: &[(Proposal, Sender)],
        params: &GroupParams<'_>,
    ) -> Result<()> {
        for (p, sender) in proposals {
            let Proposal::Update(update) = p else {
                continue;
            };
            let Sender::Member(from) = sender else {
                return Err(invalid());
            };
            let from = LeafIndex(*from);
            // §12.2: no Update from the committer; one Update/Remove per leaf.
            if Some(from) == self.committer_leaf || !self.touched.insert(from) || self.external {
                return Err(invalid());
            }
            let old = diff.leaf(from).ok_or(PeerMisbehaved::UnknownSender)?;
            let leaf = &update.leaf_node;
            validate::validate_leaf_node(
                leaf,
                LeafContext::Update {
                    group_id: &context.group_id,
                    leaf_index: from.0,
                },
                params,
            )?;
            // §12.1.2: a different encryption key; the same client.
            if leaf.encryption_key == old.encryption_key {
                return Err(invalid());
            }
            if !params
                .credentials
                .same_client(&old.credential, &leaf.credential)
            {
                return Err(PeerMisbehaved::CredentialRejected.into());
            }
            validate::CredentialTypes::of(
                diff.leaves().filter(|(l, _)| *l != from).map(|(_, l)| l),
            )
            .check(leaf)?;
            diff.update_leaf(from, leaf.clone())?;
            self.applied.updated.push(from);
            self.applied.path_required = true;
            self.counts.other += 1;
        }
        Ok(())
    }

    /// Removes (§12.1.3): of an occupied leaf, not the committer's, not touched twice.
    fn removes(&mut self, diff: &mut TreeDiff<'_>, proposals: &[(Proposal, Sender)]) -> Result<()> {
        for (p, _) in proposals {
            let Proposal::Remove(remove) = p else {
                continue;
            };
            let leaf = LeafIndex(remove.removed);
            if diff.leaf(leaf).is_none()
                || Some(leaf) == self.committer_leaf
                || !self.touched.insert(leaf)
            {
                return Err(invalid());
            }
            diff.remove_leaf(leaf)?;
            self.applied.removed.push(leaf);
            self.applied.path_required = true;
            self.counts.remove += 1;
        }
        Ok(())
    }

    /// Adds (§12.1.1): every KeyPackage validated first (in parallel: two signatures
    /// each), then applied in order.
    fn adds(
        &mut self,
        diff: &mut TreeDiff<'_>,
        proposals: &[(Proposal, Sender)],
        params: &GroupParams<'_>,
        config: &super::GroupConfig,
    ) -> Result<()> {
        let adds: Vec<&KeyPackage> = proposals
            .iter()
            .filter_map(|(p, _)| match p {
                Proposal::Add(add) => Some(&add.key_package),
                _ => None,
            })
            .collect();
        if adds.is_empty() {
            return Ok(());
        }
        if self.external {
            return Err(invalid());
        }
        // Only validated KeyPackages go on: the rest of this function sees nothing else.
        let adds: Vec<validate::ValidKeyPackage<'_>> =
            crate::parallel::map(config.max_threads, &adds, |kp| {
                validate::validate_key_package(kp, params, None)
            })
            .into_iter()
            .collect::<Result<_>>()?;
        // §12.2: no two Adds of the same client, none of a client already in the group
        // (identical signature keys), unless it is being removed (and so blank by now).
        let mut new_keys: HashSet<&[u8]> = HashSet::new();
        for kp in &adds {
            let key = kp.leaf_node.signature_key.as_slice();
            if !new_keys.insert(key) || diff.find_signature_key(key).is_some() {
                return Err(invalid());
            }
        }
        // The tree stays within the configured width (blank leaves are reused first).
        let max_leaves = config.limits.max_leaves as usize;
        let blank = diff.size().leaves() as usize - diff.leaves().count();
        let needed = adds.len().saturating_sub(blank);
        if needed > 0 && (diff.size().leaves() as usize).saturating_add(needed) > max_leaves {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }
        // §7.3: credential types supported both ways with the members (and earlier Adds).
        let mut types = validate::CredentialTypes::of(diff.leaves().map(|(_, l)| l));
        for kp in &adds {
            types.check(&kp.leaf_node)?;
            types.add(&kp.leaf_node);
        }
        for kp in adds {
            let leaf = diff.add_leaf(kp.leaf_node.clone())?;
            self.applied.added.push((leaf, KeyPackage::clone(&kp)));
            self.counts.other += 1;
        }
        Ok(())
    }

    /// PreSharedKey, ExternalInit and ReInit proposals.
    fn others(&mut self, proposals: &[(Proposal, Sender)], params: &GroupParams<'_>) -> Result<()> {
        // A set: an external commit may carry thousands of PSKs, all checked before
        // anything authenticates it.
        let mut psk_ids: HashSet<&PreSharedKeyId> = HashSet::new();
        for (p, _) in proposals {
            match p {
                Proposal::PreSharedKey(psk) => {
                    let id = &psk.psk;
                    // §8.4: a fresh nonce of KDF.Nh bytes; §12.1.4: no reinit/branch
                    // resumption PSK outside those protocols; §12.2: no PSK twice.
                    if id.psk_nonce.len() != params.suite.hash_len() || !psk_ids.insert(id) {
                        return Err(invalid());
                    }
                    if let Psk::Resumption { usage, .. } = &id.psk {
                        if *usage != ResumptionPskUsage::Application {
                            return Err(invalid());
                        }
                    }
                    self.applied.psks.push(id.clone());
                }
                Proposal::ExternalInit(init) => {
                    if !self.external {
                        return Err(invalid());
                    }
                    self.applied.external_init = Some(init.kem_output.clone());
                    self.applied.path_required = true;
                    self.counts.external_init += 1;
                }
                Proposal::ReInit(reinit) => {
                    if proposals.len() != 1 || self.external {
                        return Err(invalid());
                    }
                    self.applied.reinit = Some((**reinit).clone());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The rules over the whole list: §12.2 for external commits, §7.3 unique keys.
    fn finish(self, diff: &TreeDiff<'_>) -> Result<Applied> {
        // §12.2, external commits: exactly one ExternalInit, at most one Remove, PSKs,
        // nothing else.
        let c = &self.counts;
        if self.external && (c.external_init != 1 || c.remove > 1 || c.other > 0) {
            return Err(invalid());
        }
        // §7.3: keys of new and updated leaves are unique in the tree.
        let applied = self.applied;
        let changed = applied
            .added
            .iter()
            .map(|(l, _)| *l)
            .chain(applied.updated.iter().copied());
        for l in changed {
            let leaf = diff.leaf(l).ok_or(crate::Error::Internal("changed leaf"))?;
            if diff.find_encryption_key(&leaf.encryption_key) != Some(l.node())
                || diff.find_signature_key(&leaf.signature_key) != Some(l)
            {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
        }
        Ok(applied)
    }
}
