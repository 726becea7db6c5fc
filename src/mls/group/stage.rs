//! Staging a received commit (RFC 9420 §12.4.2): every validity rule, run without changing
//! the group, and the next epoch derived and confirmed. The committer stages its own commit
//! through the same checks when a saved state is restored.

use std::collections::HashMap;

use crate::codec::Encode;
use crate::crypto::{HpkePrivateKey, Mac, Secret};
use crate::error::{ApiMisuse, Error, PeerMisbehaved, Result};
use crate::mls::framing;
use crate::mls::key_schedule::{CommitSecret, InitSecret, PskInput, PskSecret};
use crate::mls::transcript;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::{treekem, PathSecret, TreeDiff};
use crate::mls::validate::{self, GroupParams, LeafContext};
use crate::mls::wire::{
    Commit, Extension, GroupContext, PreSharedKeyId, Proposal, ProposalOrRef, Psk, Sender,
    UpdatePath,
};

use super::apply::{self, Applied};
use super::epoch::{EpochKeys, NextEpoch};
use super::Group;

use super::staged::StagedCommit;

/// The HPKE export label of an external commit's init secret (RFC 9420 §8.3).
pub(super) const EXTERNAL_INIT_LABEL: &[u8] = b"MLS 1.0 external init secret";

impl Group {
    /// The group parameters leaves are validated against. (The required capabilities are
    /// filled in per use: see [`Group::check_path_leaf`] and `apply_proposals`.)
    pub(super) fn params(&self) -> GroupParams<'_> {
        GroupParams {
            suite: &self.suite,
            required_extensions: &[],
            required_proposals: &[],
            required_credentials: &[],
            credentials: &*self.config.credentials,
            max_key_package_lifetime: self.config.limits.max_key_package_lifetime,
        }
    }

    /// Resolves the proposals of a commit: by value from the committer, by reference from
    /// this epoch's store.
    fn resolve(&self, commit: &Commit, committer: &Sender) -> Result<Vec<(Proposal, Sender)>> {
        commit
            .proposals
            .iter()
            .map(|p| match p {
                ProposalOrRef::Proposal(p) => Ok((p.clone(), *committer)),
                ProposalOrRef::Reference(r) => self
                    .proposals
                    .iter()
                    .find(|pp| &pp.reference == r)
                    .map(|pp| (pp.proposal.0.clone(), pp.sender))
                    .ok_or_else(|| PeerMisbehaved::UnknownProposalRef.into()),
            })
            .collect()
    }

    /// The PSK secret of `psks`, looked up in this group's stores (RFC 9420 §8.4).
    pub(super) fn psk_secret(&self, psks: &[PreSharedKeyId]) -> Result<PskSecret> {
        psk_secret_from(
            &self.suite,
            psks,
            &self.external_psks,
            &self.context.group_id,
            &self.resumption_psks,
        )
    }

    /// Validates a commit and derives the next epoch without changing the group
    /// (RFC 9420 §12.4.2).
    ///
    /// `own_leaf_secret` is given only to stage our own commit again from a saved state: the
    /// `path_secret[0]` of its UpdatePath, from which our new path keys are derived (we
    /// cannot decrypt our own path).
    pub(super) fn stage_commit(
        &self,
        auth: &framing::VerifiedContent,
        commit: &Commit,
        own_leaf_secret: Option<&PathSecret>,
    ) -> Result<StagedCommit> {
        let suite = self.suite;
        let sender = auth.content.sender;
        let next_epoch = self.next_epoch()?;
        let Resolved {
            proposals,
            mut diff,
            applied,
            committer,
            rejoin_of,
        } = self.resolve_and_apply(commit, sender)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        let added: Vec<LeafIndex> = applied.added.iter().map(|(l, _)| *l).collect();
        let removed_us = applied.removed.contains(&self.own_leaf);

        let (commit_secret, new_private_keys) = match &commit.path {
            None => (CommitSecret::zero(&suite)?, Vec::new()),
            Some(path) => {
                let to = PathReceipt {
                    committer,
                    sender: &sender,
                    extensions: &extensions,
                    next_epoch,
                    added: &added,
                    removed_us,
                    own_leaf_secret,
                };
                self.receive_path(&mut diff, path, &to)?
            }
        };
        // The application's rules, exactly as the committer ran them before sending.
        self.config.rules.check_commit(&super::rules::CommitCheck {
            context: &self.context,
            tree: &self.tree,
            sender: &sender,
            committer,
            path_leaf: commit.path.as_ref().map(|p| &p.leaf_node),
            proposals: &proposals,
            new_extensions: &extensions,
            removed: &applied.removed,
            rejoin_of,
        })?;
        let context = self.next_context(auth, next_epoch, &mut diff, extensions)?;
        let tag = confirmation_tag_of(auth)?;
        let (keys, interim) = if removed_us {
            (None, Vec::new())
        } else {
            let secrets = (&commit_secret, &self.psk_secret(&applied.psks)?);
            let (keys, interim) =
                self.derive_and_confirm(&applied, secrets, &context, &diff, &tag)?;
            (Some(keys), interim)
        };
        Ok(StagedCommit {
            base_epoch: self.context.epoch,
            sender,
            committer,
            changes: diff.into_changes(),
            context,
            keys,
            confirmation_tag: tag.as_bytes().to_vec(),
            interim_transcript_hash: interim,
            new_private_keys,
            added,
            removed: applied.removed,
            updated: applied.updated,
            reinit: applied.reinit,
            rejoin_of,
            own_source: None,
        })
    }

    /// The proposals of a received commit resolved (by value or from our store) and applied
    /// to a diff of the tree with every validity rule (RFC 9420 §12.2, §12.4.2): its shape,
    /// the path it must carry, who committed it and, for an external commit, whose old leaf
    /// a rejoin replaces.
    fn resolve_and_apply(&self, commit: &Commit, sender: Sender) -> Result<Resolved<'_>> {
        let external = matches!(sender, Sender::NewMemberCommit);
        self.check_commit_shape(commit, external)?;
        let proposals = self.resolve(commit, &sender)?;
        let mut diff = TreeDiff::new(&self.tree);
        let applied: Applied = apply::apply_proposals(
            &mut diff,
            &self.context,
            Some(&sender),
            &proposals,
            &self.params(),
            &self.config,
        )?;
        if applied.path_required && commit.path.is_none() {
            return Err(PeerMisbehaved::MissingPath.into());
        }
        let committer = committer_of(&sender, commit, &mut diff)?;
        let rejoin_of = if external {
            self.check_rejoin(commit, &applied)?
        } else {
            None
        };
        Ok(Resolved {
            proposals,
            diff,
            applied,
            committer,
            rejoin_of,
        })
    }

    /// The epoch a received commit leads to (RFC 9420 §8): derived from our `init_secret`
    /// (or the external joiner's), the commit secret and the PSK secret, its confirmation
    /// tag checked against the one sent (§12.4.2: it proves the committer derived the same
    /// epoch); returns its keys and interim transcript hash.
    fn derive_and_confirm(
        &self,
        applied: &Applied,
        (commit_secret, psk_secret): (&CommitSecret, &PskSecret),
        context: &GroupContext,
        diff: &TreeDiff<'_>,
        tag: &Mac,
    ) -> Result<(EpochKeys, Vec<u8>)> {
        let suite = self.suite;
        let external_init = self.external_init_secret(applied)?;
        let init = external_init.as_ref().unwrap_or(&self.epoch.init_next);
        let ctx = context.to_bytes()?;
        let (next, _) = NextEpoch::from_init(&suite, init, commit_secret, psk_secret, &ctx)?;
        let keys = next.keys(&suite, &ctx, diff.size(), self.config.ratchet)?;
        keys.confirmation_key
            .verify(&suite, &context.confirmed_transcript_hash, tag)?;
        let interim =
            transcript::interim_transcript_hash(&suite, &context.confirmed_transcript_hash, tag)?;
        Ok((keys, interim.as_bytes().to_vec()))
    }

    /// Bounds and §12.4.3.2 on the list before anything is resolved: at most
    /// `max_commit_proposals`, and no proposal by reference in an external commit (the
    /// joiner cannot know which proposals the group holds).
    fn check_commit_shape(&self, commit: &Commit, external: bool) -> Result<()> {
        if commit.proposals.len() > self.config.limits.max_commit_proposals {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }
        let by_reference = |p: &ProposalOrRef| matches!(p, ProposalOrRef::Reference(_));
        if external && commit.proposals.iter().any(by_reference) {
            return Err(PeerMisbehaved::ProposalByReference.into());
        }
        Ok(())
    }

    /// A received UpdatePath (§12.4.2): its leaf checked as the committer checked it, merged
    /// into `diff`, and decrypted (unless the commit removes us). Returns the commit secret
    /// and our new path keys.
    fn receive_path(
        &self,
        diff: &mut TreeDiff<'_>,
        path: &UpdatePath,
        to: &PathReceipt<'_>,
    ) -> Result<(CommitSecret, Vec<(NodeIndex, HpkePrivateKey)>)> {
        self.check_path_leaf(diff, to.committer, to.sender, path, to.extensions, false)?;
        let fdp = treekem::merge_path(diff, to.committer, path)?;
        let provisional = GroupContext {
            epoch: to.next_epoch,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            extensions: to.extensions.to_vec(),
            ..self.context.clone()
        }
        .to_bytes()?;
        if to.removed_us {
            return Ok((CommitSecret::zero(&self.suite)?, Vec::new()));
        }
        if to.committer == self.own_leaf {
            let leaf_secret = to.own_leaf_secret.ok_or(ApiMisuse::OwnCommit)?;
            return treekem::own_path(&self.suite, to.committer, path, &fdp, leaf_secret);
        }
        let d = treekem::decrypt_path(diff, &self.keys, path, &fdp, &provisional, to.added)?;
        Ok((d.commit_secret, d.keys))
    }

    /// §8.3: the `init_secret` an external commit's ExternalInit carries (decapsulated with
    /// this epoch's `external_priv`), or `None` for a member's commit.
    fn external_init_secret(&self, applied: &Applied) -> Result<Option<InitSecret>> {
        let Some(kem_output) = &applied.external_init else {
            return Ok(None);
        };
        let suite = self.suite;
        let (external_priv, _) = self.epoch.external.key_pair(&suite)?;
        let ctx = crate::crypto::hpke::setup_receiver(
            suite.hpke_aead(),
            crate::crypto::hpke::ReceiverMode::Base,
            kem_output,
            &external_priv,
            &[],
        )?;
        Ok(Some(InitSecret(
            ctx.export(EXTERNAL_INIT_LABEL, suite.hash_len())?,
        )))
    }

    /// RFC 9420 §12.2, §12.4.3.2: the Remove of an external commit removes the joiner's
    /// own previous leaf. The new leaf must meet an Update's criteria for it (§12.1.2: the
    /// same client for the application, a new encryption key) and keep its signature key,
    /// unless the application's validator approves the change. Returns that leaf.
    fn check_rejoin(&self, commit: &Commit, applied: &Applied) -> Result<Option<LeafIndex>> {
        let [old_leaf] = applied.removed.as_slice() else {
            return Ok(None);
        };
        let path = commit
            .path
            .as_ref()
            .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
        let new = &path.leaf_node;
        let old = self
            .tree
            .leaf(*old_leaf)
            .ok_or(PeerMisbehaved::InvalidProposalList)?;
        let credentials = &self.config.credentials;
        if !credentials.same_client(&old.credential, &new.credential)
            || old.encryption_key == new.encryption_key
            || (old.signature_key != new.signature_key
                && !credentials.approve_signature_key_change(old, new))
        {
            return Err(PeerMisbehaved::RejoinMismatch.into());
        }
        Ok(Some(*old_leaf))
    }

    /// RFC 9420 §12.4.2: the path's leaf is a valid `commit` leaf of the committer (§7.3,
    /// including the required capabilities of the new epoch's extensions), with a new
    /// encryption key, the same client as before, and none of the path's keys — nor its
    /// signature key — already in the tree elsewhere. Run by receivers and, on its own
    /// commit, by the committer.
    pub(super) fn check_path_leaf(
        &self,
        diff: &TreeDiff<'_>,
        committer: LeafIndex,
        sender: &Sender,
        path: &UpdatePath,
        new_extensions: &[Extension],
        merged: bool,
    ) -> Result<()> {
        let leaf = &path.leaf_node;
        let (exts, props, creds) = validate::required_capabilities(new_extensions)?;
        let params = GroupParams {
            required_extensions: &exts,
            required_proposals: &props,
            required_credentials: &creds,
            ..self.params()
        };
        validate::validate_leaf_node(
            leaf,
            LeafContext::Commit {
                group_id: &self.context.group_id,
                leaf_index: committer.0,
            },
            &params,
        )?;
        if let (Sender::Member(_), Some(old)) = (sender, self.tree.leaf(committer)) {
            if old.encryption_key == leaf.encryption_key {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
            if !self
                .config
                .credentials
                .same_client(&old.credential, &leaf.credential)
            {
                return Err(PeerMisbehaved::CredentialRejected.into());
            }
        }
        // §7.3: the signature key is unique in the tree (another leaf holding it would be
        // the same client twice).
        if diff
            .find_signature_key(&leaf.signature_key)
            .is_some_and(|l| l != committer)
        {
            return Err(PeerMisbehaved::DuplicateKey.into());
        }
        // §7.3: the leaf's credential type is supported by every (other) member of the
        // epoch, and the leaf supports every credential type they use.
        validate::CredentialTypes::of(
            self.tree
                .leaves()
                .filter(|(l, _)| *l != committer)
                .map(|(_, l)| l),
        )
        .check(leaf)?;
        // §12.4.2: none of the path's keys appears in any node of the new tree (the tree
        // after the proposals, before the path is merged); each is a valid HPKE key. The
        // committer's leaf is exempt (its old key was compared above; an external joiner's
        // new leaf is already in place). The committer checks its own commit after merging
        // its path (`merged`): there its direct path holds these very keys.
        let mut replaced: Vec<NodeIndex> = vec![committer.node()];
        if merged {
            replaced.extend(diff.size().direct_path(committer.node())?);
        }
        let keys = core::iter::once(&leaf.encryption_key)
            .chain(path.nodes.iter().map(|n| &n.encryption_key));
        let mut seen = std::collections::HashSet::new();
        for k in keys {
            crate::crypto::HpkePublicKey::validated(k)?;
            let clash = diff
                .find_encryption_key(k)
                .is_some_and(|n| !replaced.contains(&n));
            if clash || !seen.insert(k.as_slice()) {
                return Err(PeerMisbehaved::DuplicateKey.into());
            }
        }
        Ok(())
    }
}

/// The PSK secret of `psks` (RFC 9420 §8.4), from external PSKs by id and the resumption
/// PSKs of `group_id` by epoch.
///
/// # Errors
/// [`PeerMisbehaved::PskNotFound`] when one is not available.
pub(super) fn psk_secret_from(
    suite: &crate::crypto::Suite,
    psks: &[PreSharedKeyId],
    external: &HashMap<Vec<u8>, Secret>,
    group_id: &[u8],
    resumption: &[(u64, Secret)],
) -> Result<PskSecret> {
    let values: Vec<&Secret> = psks
        .iter()
        .map(|id| match &id.psk {
            Psk::External { psk_id } => external.get(psk_id).ok_or(PeerMisbehaved::PskNotFound),
            Psk::Resumption {
                psk_group_id,
                psk_epoch,
                ..
            } => {
                if psk_group_id != group_id {
                    return Err(PeerMisbehaved::PskNotFound);
                }
                resumption
                    .iter()
                    .find(|(e, _)| e == psk_epoch)
                    .map(|(_, s)| s)
                    .ok_or(PeerMisbehaved::PskNotFound)
            }
        })
        .collect::<core::result::Result<_, _>>()?;
    let inputs: Vec<PskInput<'_>> = psks
        .iter()
        .zip(values)
        .map(|(id, psk)| PskInput { id, psk })
        .collect();
    PskSecret::from_psks(suite, &inputs)
}

/// The committer's leaf: a member's own, or the leaf an external commit's path adds.
fn committer_of(sender: &Sender, commit: &Commit, diff: &mut TreeDiff<'_>) -> Result<LeafIndex> {
    match sender {
        Sender::Member(l) => Ok(LeafIndex(*l)),
        Sender::NewMemberCommit => {
            let path = commit
                .path
                .as_ref()
                .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
            diff.add_leaf(path.leaf_node.clone())
        }
        // §6.1: only members and new members commit (framing already refused others).
        _ => Err(PeerMisbehaved::UnexpectedContentType.into()),
    }
}

/// Who sent a path and what it is checked and decrypted against.
struct PathReceipt<'a> {
    committer: LeafIndex,
    sender: &'a Sender,
    extensions: &'a [Extension],
    next_epoch: u64,
    added: &'a [LeafIndex],
    removed_us: bool,
    /// Our own `path_secret[0]` when we stage our own commit again (a restore).
    own_leaf_secret: Option<&'a PathSecret>,
}

/// A received commit's proposals, applied ([`Group::resolve_and_apply`]).
struct Resolved<'a> {
    proposals: Vec<(Proposal, Sender)>,
    diff: TreeDiff<'a>,
    applied: Applied,
    committer: LeafIndex,
    rejoin_of: Option<LeafIndex>,
}

/// The confirmation tag a commit carries (RFC 9420 §6.1: present on every commit).
fn confirmation_tag_of(auth: &crate::mls::wire::AuthenticatedContent) -> Result<Mac> {
    let tag = auth
        .auth
        .confirmation_tag
        .as_deref()
        .ok_or(PeerMisbehaved::UnexpectedContentType)?;
    Mac::from_slice(tag).map_err(|_| Error::AuthenticationFailed)
}
