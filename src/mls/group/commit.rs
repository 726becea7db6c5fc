//! Creating commits (RFC 9420 §12.4.1), the Welcome for members they add (§12.4.3.1) and
//! the GroupInfo that lets others join by external commit (§12.4.3.2).

use crate::codec::Encode;
use crate::crypto::{HpkePrivateKey, Mac, Rng};
use crate::error::{ApiMisuse, PeerMisbehaved, Result};
use crate::mls::framing;
use crate::mls::key_schedule::CommitSecret;
use crate::mls::transcript;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::treekem::PreparedPath;
use crate::mls::tree::{treekem, LeafTemplate, PathSecret, TreeDiff};
use crate::mls::wire::{
    AuthenticatedContent, Commit, Extension, FramedContent, FramedContentBody, GroupContext,
    LeafNodeSource, MlsMessage, MlsMessageBody, PathSecret as WirePathSecret, Proposal,
    ProtocolVersion, Sender, UpdatePath, WireFormat,
};

use super::apply;
use super::epoch::{EpochKeys, NextEpoch};
use super::invite::Joiners;
use super::process::{OwnCommitSource, StagedCommit};
use super::Group;

/// How to build a commit.
#[derive(Debug, Clone)]
pub struct CommitOptions {
    /// The current time (seconds since the Unix epoch): RFC 9420 §7.3 requires a sender to
    /// check that every KeyPackage it adds is within its lifetime.
    pub now: u64,
    /// Include an UpdatePath even when the proposals do not require one (a full commit
    /// refreshes our keys: post-compromise security). Default: true.
    pub force_path: bool,
    /// Include the admitted proposals stored this epoch by reference (see
    /// [`Group::admit_proposal`]); those that are no longer valid together are left out.
    /// Default: true.
    pub include_received: bool,
    /// `authenticated_data` of the commit message.
    pub authenticated_data: Vec<u8>,
}

impl CommitOptions {
    /// The default options at time `now`: a full commit that includes admitted proposals.
    #[must_use]
    pub const fn at(now: u64) -> Self {
        Self {
            now,
            force_path: true,
            include_received: true,
            authenticated_data: Vec::new(),
        }
    }
}

/// What a commit produces: the message for the delivery service and a Welcome for added
/// members. (The new epoch's GroupInfo comes from [`Group::group_info`] after the merge.)
#[derive(Debug)]
#[non_exhaustive]
pub struct CommitOutput {
    /// The commit, to send to the group.
    pub commit: MlsMessage,
    /// The Welcome, if the commit adds members.
    pub welcome: Option<MlsMessage>,
}

impl Group {
    /// Creates a commit of `proposals` (by value) and, if enabled, of the proposals received
    /// this epoch (by reference). The group does not change until the delivery service
    /// confirms the commit and [`Group::merge_pending_commit`] is called.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`] after being removed; the [`PeerMisbehaved`] rule an invalid
    /// proposal list breaks.
    ///
    /// [`PeerMisbehaved`]: crate::error::PeerMisbehaved
    pub fn commit(
        &mut self,
        proposals: Vec<crate::mls::Proposal>,
        options: &CommitOptions,
        rng: &mut impl Rng,
    ) -> Result<CommitOutput> {
        let suite = self.suite;
        let Draft {
            refs,
            mut diff,
            applied,
            extensions,
            added,
            path,
            prepared,
            next_epoch,
        } = self.draft(proposals, options, rng)?;
        let body = FramedContentBody::Commit(Box::new(Commit {
            proposals: refs,
            path,
        }));
        let mut auth = self.sign(body, &options.authenticated_data)?;
        let context = self.next_context(&auth, next_epoch, &mut diff, extensions)?;
        let ctx = context.to_bytes()?;
        let psk_secret = self.psk_secret(&applied.psks)?;
        let (commit_secret, new_private_keys, path_secrets, leaf_secret) =
            self.split_path(prepared, &diff, &added)?;
        let init = &self.epoch.init_next;
        let (next, joiner) = NextEpoch::from_init(&suite, init, &commit_secret, &psk_secret, &ctx)?;
        let welcome_secret = next.welcome_secret(&suite)?;
        let keys = next.keys(&suite, &ctx, diff.size(), self.config.ratchet)?;
        let (tag, interim) = self.confirm(&keys, &context)?;
        auth.auth.confirmation_tag = Some(tag.as_bytes().to_vec());

        let welcome = if applied.added.is_empty() {
            None
        } else {
            let tree = self.config.ratchet_tree_extension.then(|| diff.to_wire());
            let group_info = self.sign_group_info(&context, &tag, &keys, tree)?;
            let joiners = Joiners {
                added: &applied.added,
                path_secrets,
                joiner_secret: &joiner,
                psks: &applied.psks,
            };
            Some(self.welcome(&welcome_secret, &group_info, joiners, rng)?)
        };
        let own_source = OwnCommitSource {
            auth: auth.to_bytes()?,
            leaf_secret,
        };
        let changes = diff.into_changes();
        let commit = self.protect(auth, rng)?;
        self.pending_commit = Some(StagedCommit {
            base_epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf.0),
            committer: self.own_leaf,
            changes,
            context,
            keys: Some(keys),
            confirmation_tag: tag.as_bytes().to_vec(),
            interim_transcript_hash: interim,
            new_private_keys,
            added,
            removed: applied.removed,
            updated: applied.updated,
            reinit: applied.reinit,
            rejoin_of: None,
            own_source: Some(own_source),
        });
        Ok(CommitOutput { commit, welcome })
    }

    /// Everything of a commit before it is signed: the proposal list resolved and applied to
    /// a diff of the tree (every rule a receiver checks), the KeyPackages' lifetimes checked
    /// at `options.now`, our UpdatePath when needed, and the receivers' checks run on it.
    fn draft(
        &self,
        proposals: Vec<crate::mls::Proposal>,
        options: &CommitOptions,
        rng: &mut impl Rng,
    ) -> Result<Draft<'_>> {
        self.check_usable()?;
        let proposals: Vec<Proposal> = proposals.into_iter().map(|p| p.0).collect();
        let next_epoch = self.next_epoch()?;
        let (list, refs) = self.commit_list(proposals, options.include_received)?;
        if list.len() > self.config.limits.max_commit_proposals {
            return Err(PeerMisbehaved::LimitExceeded.into());
        }
        let mut diff = TreeDiff::new(&self.tree);
        let me = Sender::Member(self.own_leaf.0);
        let applied = apply::apply_proposals(
            &mut diff,
            &self.context,
            Some(&me),
            &list,
            &self.params(),
            &self.config,
        )?;
        check_lifetimes(&applied, options.now)?;
        let extensions = applied
            .extensions
            .clone()
            .unwrap_or_else(|| self.context.extensions.clone());
        let added: Vec<_> = applied.added.iter().map(|(l, _)| *l).collect();
        let (path, prepared) = if applied.path_required || options.force_path {
            let (path, prepared) =
                self.commit_path(&mut diff, next_epoch, &extensions, &added, rng)?;
            (Some(path), Some(prepared))
        } else {
            (None, None)
        };
        self.check_own_commit(&diff, path.as_ref(), &list, &extensions, &applied.removed)?;
        Ok(Draft {
            refs,
            diff,
            applied,
            extensions,
            added,
            path,
            prepared,
            next_epoch,
        })
    }

    /// Our handshake content `body`, framed for this epoch and signed (RFC 9420 §6.1).
    fn sign(
        &self,
        body: FramedContentBody,
        authenticated_data: &[u8],
    ) -> Result<AuthenticatedContent> {
        let content = FramedContent {
            group_id: self.context.group_id.clone(),
            epoch: self.context.epoch,
            sender: Sender::Member(self.own_leaf.0),
            authenticated_data: authenticated_data.to_vec(),
            body,
        };
        let wire_format = self.handshake_wire_format();
        framing::sign_content(
            &self.suite,
            &self.signer,
            wire_format,
            content,
            &self.context,
        )
    }

    /// The GroupContext of the epoch a signed commit `auth` leads to (§8.2: its confirmed
    /// transcript hash covers the commit).
    pub(super) fn next_context(
        &self,
        auth: &AuthenticatedContent,
        next_epoch: u64,
        diff: &mut TreeDiff<'_>,
        extensions: Vec<Extension>,
    ) -> Result<GroupContext> {
        let confirmed_input = auth.confirmed_transcript_hash_input()?.to_bytes()?;
        let confirmed = transcript::confirmed_transcript_hash(
            &self.suite,
            &self.interim_transcript_hash,
            &confirmed_input,
        );
        Ok(GroupContext {
            epoch: next_epoch,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            confirmed_transcript_hash: confirmed.as_bytes().to_vec(),
            extensions,
            ..self.context.clone()
        })
    }

    /// The confirmation tag of the new epoch and the interim transcript hash after it.
    fn confirm(&self, keys: &EpochKeys, context: &GroupContext) -> Result<(Mac, Vec<u8>)> {
        let tag: Mac = keys
            .confirmation_key
            .confirmation_tag(&self.suite, &context.confirmed_transcript_hash);
        let interim = transcript::interim_transcript_hash(
            &self.suite,
            &context.confirmed_transcript_hash,
            &tag,
        )?;
        Ok((tag, interim.as_bytes().to_vec()))
    }

    /// Our UpdatePath (§7.6): a fresh leaf and path, encrypted under the provisional
    /// GroupContext (new epoch, new tree hash and extensions) to all but the `added` leaves.
    fn commit_path(
        &self,
        diff: &mut TreeDiff<'_>,
        next_epoch: u64,
        extensions: &[Extension],
        added: &[LeafIndex],
        rng: &mut impl Rng,
    ) -> Result<(UpdatePath, PreparedPath)> {
        let own = self
            .tree
            .leaf(self.own_leaf)
            .ok_or(ApiMisuse::NotAMember)?
            .clone();
        let template = LeafTemplate {
            leaf: &own,
            signer: &self.signer,
            group_id: &self.context.group_id,
        };
        let prepared = treekem::prepare_path(diff, self.own_leaf, template, rng)?;
        let provisional = GroupContext {
            epoch: next_epoch,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            extensions: extensions.to_vec(),
            ..self.context.clone()
        }
        .to_bytes()?;
        let path = prepared.encrypt(diff, &provisional, added, self.config.max_threads, rng)?;
        Ok((path, prepared))
    }

    /// The receivers' checks, on our own commit: the path's leaf (§12.4.2) and the
    /// application's rules. What they would refuse is never sent.
    fn check_own_commit(
        &self,
        diff: &TreeDiff<'_>,
        path: Option<&UpdatePath>,
        list: &[(Proposal, Sender)],
        extensions: &[Extension],
        removed: &[LeafIndex],
    ) -> Result<()> {
        let me = Sender::Member(self.own_leaf.0);
        if let Some(path) = path {
            self.check_path_leaf(diff, self.own_leaf, &me, path, extensions, true)?;
        }
        self.config.rules.check_commit(&super::rules::CommitCheck {
            context: &self.context,
            tree: &self.tree,
            sender: &me,
            committer: self.own_leaf,
            path_leaf: path.map(|p| &p.leaf_node),
            proposals: list,
            new_extensions: extensions,
            removed,
            rejoin_of: None,
        })
    }

    /// The commit secret and our new path keys, for each added member the path secret of
    /// its lowest common ancestor with us (its Welcome carries it), and our `path_secret[0]`
    /// (a saved state stages the commit again from it).
    #[allow(clippy::type_complexity)]
    fn split_path(
        &self,
        prepared: Option<PreparedPath>,
        diff: &TreeDiff<'_>,
        added: &[LeafIndex],
    ) -> Result<(
        CommitSecret,
        Vec<(NodeIndex, HpkePrivateKey)>,
        Vec<Option<WirePathSecret>>,
        Option<PathSecret>,
    )> {
        let Some(p) = prepared else {
            let none = added.iter().map(|_| None).collect();
            return Ok((CommitSecret::zero(&self.suite)?, Vec::new(), none, None));
        };
        let path_secrets = added
            .iter()
            .map(|l| {
                let lca = diff
                    .size()
                    .common_ancestor(l.node(), self.own_leaf.node())?;
                Ok(p.path_secret(lca).map(|s| WirePathSecret {
                    path_secret: s.0.duplicate(),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        let (commit_secret, keys, leaf_secret) = p.into_keys_and_leaf_secret();
        Ok((commit_secret, keys, path_secrets, Some(leaf_secret)))
    }

    /// The wire format handshake messages are sent in.
    pub(super) fn handshake_wire_format(&self) -> WireFormat {
        if self.config.encrypt_handshake {
            WireFormat::MLS_PRIVATE_MESSAGE
        } else {
            WireFormat::MLS_PUBLIC_MESSAGE
        }
    }

    /// Wraps signed content of ours as a PublicMessage or PrivateMessage of this epoch.
    pub(super) fn protect(
        &mut self,
        auth: AuthenticatedContent,
        rng: &mut impl Rng,
    ) -> Result<MlsMessage> {
        let body = if auth.wire_format == WireFormat::MLS_PRIVATE_MESSAGE {
            let padding = self.padding_for(&auth)?;
            MlsMessageBody::PrivateMessage(framing::protect_private(
                &self.suite,
                &auth,
                &mut self.epoch.secret_tree,
                &self.epoch.sender_data,
                self.own_leaf,
                padding,
                rng,
            )?)
        } else {
            MlsMessageBody::PublicMessage(Box::new(framing::protect_public(
                &self.suite,
                auth,
                Some(&self.epoch.membership_key),
                &self.context,
            )?))
        };
        Ok(MlsMessage {
            version: ProtocolVersion::MLS10,
            body,
        })
    }

    /// Padding that rounds the content up to a multiple of the configured block (§6.3.1).
    fn padding_for(&self, auth: &AuthenticatedContent) -> Result<usize> {
        let block = self.config.padding_block;
        if block == 0 {
            return Ok(0);
        }
        let mut w = crate::codec::Writer::new();
        auth.content.body.encode_body(&mut w);
        auth.auth.encode(&mut w);
        let len = w.as_bytes().len();
        Ok((block - len % block) % block)
    }
}

/// §7.3: a sender checks the lifetime of every KeyPackage it adds against the current time
/// (receivers need not: it may have expired in transit).
fn check_lifetimes(applied: &apply::Applied, now: u64) -> Result<()> {
    for (_, kp) in &applied.added {
        if let LeafNodeSource::KeyPackage(l) = &kp.leaf_node.leaf_node_source {
            if now < l.not_before || now > l.not_after {
                return Err(ApiMisuse::KeyPackageExpired.into());
            }
        }
    }
    Ok(())
}

/// Who a Welcome is for, and what their GroupSecrets carry.
/// A commit of ours before it is signed ([`Group::draft`]).
struct Draft<'a> {
    refs: Vec<crate::mls::wire::ProposalOrRef>,
    diff: TreeDiff<'a>,
    applied: apply::Applied,
    extensions: Vec<Extension>,
    added: Vec<LeafIndex>,
    path: Option<UpdatePath>,
    prepared: Option<PreparedPath>,
    next_epoch: u64,
}
