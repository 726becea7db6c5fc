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
    let max_leaves = config.limits.max_leaves;
    let external = matches!(committer, Some(Sender::NewMemberCommit));
    let committer_leaf = match committer {
        Some(Sender::Member(l)) => Some(LeafIndex(*l)),
        _ => None,
    };
    let invalid = || crate::Error::from(PeerMisbehaved::InvalidProposalList);
    let mut applied = Applied {
        path_required: proposals.is_empty(),
        ..Applied::default()
    };
    let mut touched: HashSet<LeafIndex> = HashSet::new();
    let mut psk_ids: HashSet<&PreSharedKeyId> = HashSet::new();
    let (mut n_external_init, mut n_remove, mut n_other) = (0usize, 0usize, 0usize);

    // GroupContextExtensions first: the new extensions govern the other proposals.
    let mut required = validate::required_capabilities(&context.extensions)?;
    for (p, _) in proposals {
        if let Proposal::GroupContextExtensions(gce) = p {
            if applied.extensions.is_some() {
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
            applied.extensions = Some(gce.extensions.clone());
            applied.path_required = true;
            n_other += 1;
        }
    }
    let params = GroupParams {
        required_extensions: &required.0,
        required_proposals: &required.1,
        required_credentials: &required.2,
        ..*params
    };

    for (p, sender) in proposals {
        if let Proposal::Update(update) = p {
            let Sender::Member(from) = sender else {
                return Err(invalid());
            };
            let from = LeafIndex(*from);
            // §12.2: no Update from the committer; one Update/Remove per leaf.
            if Some(from) == committer_leaf || !touched.insert(from) || external {
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
                &params,
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
            applied.updated.push(from);
            applied.path_required = true;
            n_other += 1;
        }
    }

    for (p, _) in proposals {
        if let Proposal::Remove(remove) = p {
            let leaf = LeafIndex(remove.removed);
            // §12.1.3: the leaf is occupied; §12.2: not the committer, not touched twice.
            if diff.leaf(leaf).is_none() || Some(leaf) == committer_leaf || !touched.insert(leaf) {
                return Err(invalid());
            }
            diff.remove_leaf(leaf)?;
            applied.removed.push(leaf);
            applied.path_required = true;
            n_remove += 1;
        }
    }

    // Adds: every KeyPackage validated first (in parallel: two signatures each), then
    // applied in order.
    let adds: Vec<&KeyPackage> = proposals
        .iter()
        .filter_map(|(p, _)| match p {
            Proposal::Add(add) => Some(&add.key_package),
            _ => None,
        })
        .collect();
    if !adds.is_empty() {
        if external {
            return Err(invalid());
        }
        for r in crate::parallel::map(config.max_threads, &adds, |kp| {
            validate::validate_key_package(kp, &params, None)
        }) {
            r?;
        }
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
        let blank = diff.size().leaves() as usize - diff.leaves().count();
        let needed = adds.len().saturating_sub(blank);
        if needed > 0
            && (diff.size().leaves() as usize).saturating_add(needed) > max_leaves as usize
        {
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
            applied.added.push((leaf, kp.clone()));
            n_other += 1;
        }
    }

    for (p, _) in proposals {
        match p {
            Proposal::PreSharedKey(psk) => {
                let id = &psk.psk;
                // §8.4: a fresh nonce of KDF.Nh bytes; §12.1.4: no reinit/branch resumption
                // PSK outside those protocols; §12.2: no PSK twice.
                // (A set: an external commit may carry thousands of PSKs, all checked
                // before anything authenticates it.)
                if id.psk_nonce.len() != params.suite.hash_len() || !psk_ids.insert(id) {
                    return Err(invalid());
                }
                if let Psk::Resumption { usage, .. } = &id.psk {
                    if *usage != ResumptionPskUsage::Application {
                        return Err(invalid());
                    }
                }
                applied.psks.push(id.clone());
            }
            Proposal::ExternalInit(init) => {
                if !external {
                    return Err(invalid());
                }
                applied.external_init = Some(init.kem_output.clone());
                applied.path_required = true;
                n_external_init += 1;
            }
            Proposal::ReInit(reinit) => {
                if proposals.len() != 1 || external {
                    return Err(invalid());
                }
                applied.reinit = Some((**reinit).clone());
            }
            _ => {}
        }
    }

    // §12.2, external commits: exactly one ExternalInit, at most one Remove, PSKs, nothing else.
    if external && (n_external_init != 1 || n_remove > 1 || n_other > 0) {
        return Err(invalid());
    }

    // §7.3: keys of new and updated leaves are unique in the tree.
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
