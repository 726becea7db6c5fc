//! Joining by external commit (RFC 9420 §12.4.3.2): from a published GroupInfo, the usual
//! way into a large meeting, and the way back in for a device that lost its state (a rejoin
//! replaces its old leaf).
//!
//! ```text
//!  GroupInfo ─ tree_of (signature) ─ check_tree ─► VerifiedGroupInfo, tree
//!  external_pub ─ HPKE export ─► init_secret, ExternalInit{kem_output}   [+ Remove(old leaf)]
//!  proposals applied to a diff ─► our leaf added ─► UpdatePath ─► the members' checks
//!  sign ─► confirmed transcript ─► NextEpoch ─► confirmation tag ─► PublicMessage
//! ```

use std::collections::HashMap;

use crate::codec::{Encode, Reader};
use crate::crypto::hpke::SenderMode;
use crate::crypto::{HpkePublicKey, Mac, Rng, SignaturePrivateKey, Suite};
use crate::error::{PeerMisbehaved, Result};
use crate::mls::framing;
use crate::mls::key_schedule::{CommitSecret, InitSecret, PskSecret};
use crate::mls::transcript;
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::treekem::PreparedPath;
use crate::mls::tree::{treekem, LeafTemplate, RatchetTree, TreeDiff, TreePrivateKeys};
use crate::mls::validate::{self, LeafContext};
use crate::mls::welcome::VerifiedGroupInfo;
use crate::mls::wire::{
    Commit, ExtensionType, ExternalInit, FramedContent, FramedContentBody, GroupContext, GroupInfo,
    LeafNode, MlsMessage, MlsMessageBody, Proposal, ProposalOrRef, ProtocolVersion, Sender,
    UpdatePath, WireFormat,
};

use super::epoch::{EpochKeys, NextEpoch, PastEpochs};
use super::join::{check_own_support, check_tree, interim_of, tree_of};
use super::process::EXTERNAL_INIT_LABEL;
use super::{Group, GroupConfig, KeyPackageBundle};

/// Who makes an external commit.
#[derive(Debug)]
pub(super) enum Joiner {
    /// A new member.
    New,
    /// A member replacing its own previous leaf (found by its signature key).
    Rejoin,
    /// A forgery for the adversary tests: removes `remove` (anyone's leaf) and appends
    /// `extra` to the commit's proposals, skipping every check of the joiner's own.
    #[cfg(feature = "adversary")]
    Forged {
        remove: Option<LeafIndex>,
        extra: Vec<ProposalOrRef>,
    },
}

impl Group {
    /// Joins by external commit (RFC 9420 §12.4.3.2): from a published GroupInfo (with
    /// `external_pub`), adds ourselves with an UpdatePath and an ExternalInit. Returns the
    /// group in the new epoch and the commit to send; if the delivery service rejects the
    /// commit, drop the group and try again from a newer GroupInfo.
    ///
    /// # Errors
    /// [`PeerMisbehaved::InvalidExternalCommit`] when the GroupInfo lacks `external_pub`; the
    /// tree-validation rule a bad tree breaks; `AuthenticationFailed` for a bad signature;
    /// what the meeting's commit rules refuse.
    pub fn join_external(
        config: GroupConfig,
        group_info: &GroupInfo,
        bundle: KeyPackageBundle,
        ratchet_tree: Option<&crate::mls::wire::RatchetTree>,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        Self::external_commit(config, group_info, ratchet_tree, bundle, Joiner::New, rng)
    }

    /// Rejoins by external commit (a "resync", RFC 9420 §12.4.3.2): as
    /// [`Group::join_external`], and the commit removes our own previous leaf — the leaf
    /// with `bundle`'s signature key (a device that lost its state, or is stuck in an old
    /// epoch). Members see the same participant at a new leaf.
    ///
    /// # Errors
    /// [`ApiMisuse::NotAMember`](crate::error::ApiMisuse::NotAMember) when no leaf of the
    /// tree has our signature key; as [`Group::join_external`].
    pub fn rejoin_external(
        config: GroupConfig,
        group_info: &GroupInfo,
        bundle: KeyPackageBundle,
        ratchet_tree: Option<&crate::mls::wire::RatchetTree>,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        Self::external_commit(
            config,
            group_info,
            ratchet_tree,
            bundle,
            Joiner::Rejoin,
            rng,
        )
    }

    pub(super) fn external_commit(
        config: GroupConfig,
        group_info: &GroupInfo,
        ratchet_tree: Option<&crate::mls::wire::RatchetTree>,
        bundle: KeyPackageBundle,
        joiner: Joiner,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        let suite = group_info.group_context.cipher_suite.suite()?;
        let KeyPackageBundle {
            key_package,
            signer,
            ..
        } = bundle;
        if group_info.group_context.epoch == u64::MAX {
            return Err(PeerMisbehaved::EpochExhausted.into());
        }
        check_own_support(&key_package.leaf_node, &group_info.group_context)?;
        let (group_info, mut tree) = tree_of(suite, group_info, ratchet_tree, &config)?;
        check_tree(&tree, &group_info, &config)?;
        let (kem_output, init_secret) = external_init(&suite, &group_info, rng)?;
        let (proposals, old_leaf, forged) =
            external_proposals(kem_output, joiner, &tree, &key_package.leaf_node)?;
        let join = ExternalJoin {
            suite,
            config: &config,
            group_info,
            signer: &signer,
        };
        let list: Vec<(Proposal, Sender)> = proposals
            .iter()
            .map(|p| (p.clone(), Sender::NewMemberCommit))
            .collect();
        let params = join.params();
        let mut diff = TreeDiff::new(&tree);
        let applied = super::apply::apply_proposals(
            &mut diff,
            &group_info.group_context,
            Some(&Sender::NewMemberCommit),
            &list,
            &params,
            &config,
        )?;
        let (own, path, prepared) = join.path(&mut diff, key_package.leaf_node, rng)?;
        let mut committed: Vec<ProposalOrRef> =
            proposals.into_iter().map(ProposalOrRef::Proposal).collect();
        if let Some(extra) = forged {
            // A forgery for the adversary tests: none of the joiner's own checks.
            committed.extend(extra);
        } else {
            OwnExternalCommit {
                context: &group_info.group_context,
                tree: &tree,
                own,
                path_leaf: &path.leaf_node,
                list: &list,
                removed: &applied.removed,
                old_leaf,
            }
            .check(&config, &params)?;
        }
        let (commit_secret, new_keys) = prepared.into_keys();
        let signed =
            join.sign_and_confirm(&mut diff, committed, path, &init_secret, &commit_secret)?;
        let changes = diff.into_changes();
        let keys = TreePrivateKeys::from_path(own, &changes, new_keys)?;
        tree.merge(changes)?;
        Ok(Self::joined_by(config, tree, own, signer, keys, signed))
    }

    /// The group an external commit of ours leads to, and the commit to send.
    fn joined_by(
        config: GroupConfig,
        tree: RatchetTree,
        own_leaf: LeafIndex,
        signer: SignaturePrivateKey,
        keys: TreePrivateKeys,
        signed: SignedExternalCommit,
    ) -> (Self, MlsMessage) {
        let group = Self {
            suite: *tree.suite(),
            config,
            context: signed.context,
            tree,
            own_leaf,
            signer,
            keys,
            epoch: signed.keys,
            interim_transcript_hash: signed.interim,
            confirmation_tag: signed.tag.as_bytes().to_vec(),
            proposals: Vec::new(),
            pending_commit: None,
            past: PastEpochs::default(),
            signature_keys: HashMap::new(),
            external_psks: HashMap::new(),
            resumption_psks: Vec::new(),
            active: true,
            reinitialized: false,
        };
        (group, signed.message)
    }
}

/// The proposals of an external commit: the ExternalInit, and for a rejoin the Remove of our
/// own previous leaf (the one with our signature key). Returns them with that leaf and, for
/// a forgery of the adversary tests, the extra proposals to append unchecked.
#[allow(clippy::type_complexity)]
fn external_proposals(
    kem_output: Vec<u8>,
    joiner: Joiner,
    tree: &RatchetTree,
    own: &LeafNode,
) -> Result<(Vec<Proposal>, Option<LeafIndex>, Option<Vec<ProposalOrRef>>)> {
    let mut proposals = vec![Proposal::ExternalInit(ExternalInit { kem_output })];
    let (old_leaf, forged) = match joiner {
        Joiner::New => (None, None),
        Joiner::Rejoin => {
            let (old, _) = tree
                .leaves()
                .find(|(_, l)| l.signature_key == own.signature_key)
                .ok_or(crate::error::ApiMisuse::NotAMember)?;
            (Some(old), None)
        }
        #[cfg(feature = "adversary")]
        Joiner::Forged { remove, extra } => (remove, Some(extra)),
    };
    if let Some(old) = old_leaf {
        proposals.push(Proposal::Remove(crate::mls::wire::Remove {
            removed: old.0,
        }));
    }
    Ok((proposals, old_leaf, forged))
}

/// What an external commit is made from: the verified GroupInfo and its tree, our signer.
struct ExternalJoin<'a> {
    suite: Suite,
    config: &'a GroupConfig,
    group_info: VerifiedGroupInfo<'a>,
    signer: &'a SignaturePrivateKey,
}

/// A signed external commit and the epoch it leads to.
struct SignedExternalCommit {
    message: MlsMessage,
    context: GroupContext,
    keys: EpochKeys,
    tag: Mac,
    interim: Vec<u8>,
}

impl ExternalJoin<'_> {
    fn context(&self) -> &GroupContext {
        &self.group_info.group_context
    }

    /// The parameters our leaf is validated against (the group's required capabilities are
    /// added by [`OwnExternalCommit::check`]).
    fn params(&self) -> validate::GroupParams<'_> {
        validate::GroupParams {
            suite: &self.suite,
            required_extensions: &[],
            required_proposals: &[],
            required_credentials: &[],
            credentials: &*self.config.credentials,
            max_key_package_lifetime: self.config.limits.max_key_package_lifetime,
        }
    }

    /// Adds our leaf (from our KeyPackage, now of source `update`) to `diff` and makes our
    /// UpdatePath, encrypted under the provisional GroupContext of the next epoch.
    fn path(
        &self,
        diff: &mut TreeDiff<'_>,
        mut leaf: LeafNode,
        rng: &mut impl Rng,
    ) -> Result<(LeafIndex, UpdatePath, PreparedPath)> {
        leaf.leaf_node_source = crate::mls::wire::LeafNodeSource::Update;
        let own = diff.add_leaf(leaf.clone())?;
        let template = LeafTemplate {
            leaf: &leaf,
            signer: self.signer,
            group_id: &self.context().group_id,
        };
        let prepared = treekem::prepare_path(diff, own, template, rng)?;
        let provisional = GroupContext {
            epoch: self.context().epoch + 1,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            ..self.context().clone()
        }
        .to_bytes()?;
        let path = prepared.encrypt(diff, &provisional, &[], self.config.max_threads, rng)?;
        Ok((own, path, prepared))
    }

    /// Signs the commit as a `new_member_commit`, derives the next epoch from the
    /// ExternalInit's `init_secret` (no PSKs) and confirms it (RFC 9420 §8, §12.4.3.2).
    fn sign_and_confirm(
        &self,
        diff: &mut TreeDiff<'_>,
        proposals: Vec<ProposalOrRef>,
        path: UpdatePath,
        init_secret: &InitSecret,
        commit_secret: &CommitSecret,
    ) -> Result<SignedExternalCommit> {
        let suite = self.suite;
        let context = self.context();
        let content = FramedContent {
            group_id: context.group_id.clone(),
            epoch: context.epoch,
            sender: Sender::NewMemberCommit,
            authenticated_data: Vec::new(),
            body: FramedContentBody::Commit(Box::new(Commit {
                proposals,
                path: Some(path),
            })),
        };
        let mut auth = framing::sign_content(
            &suite,
            self.signer,
            WireFormat::MLS_PUBLIC_MESSAGE,
            content,
            context,
        )?;
        let (_, interim_before) = interim_of(&suite, &self.group_info)?;
        let confirmed_input = auth.confirmed_transcript_hash_input()?.to_bytes()?;
        let confirmed =
            transcript::confirmed_transcript_hash(&suite, &interim_before, &confirmed_input);
        let new_context = GroupContext {
            epoch: context.epoch + 1,
            tree_hash: diff.root_hash()?.as_bytes().to_vec(),
            confirmed_transcript_hash: confirmed.as_bytes().to_vec(),
            ..context.clone()
        };
        let ctx = new_context.to_bytes()?;
        let psk = PskSecret::zero(&suite)?;
        let (next, _) = NextEpoch::from_init(&suite, init_secret, commit_secret, &psk, &ctx)?;
        let keys = next.keys(&suite, &ctx, diff.size(), self.config.ratchet)?;
        let tag = keys
            .confirmation_key
            .confirmation_tag(&suite, &new_context.confirmed_transcript_hash);
        auth.auth.confirmation_tag = Some(tag.as_bytes().to_vec());
        let interim = transcript::interim_transcript_hash(
            &suite,
            &new_context.confirmed_transcript_hash,
            &tag,
        )?;
        let message = MlsMessage {
            version: ProtocolVersion::MLS10,
            body: MlsMessageBody::PublicMessage(Box::new(framing::protect_public(
                &suite, auth, None, context,
            )?)),
        };
        Ok(SignedExternalCommit {
            message,
            context: new_context,
            keys,
            tag,
            interim: interim.as_bytes().to_vec(),
        })
    }
}

/// §12.4.3.2: `external_pub` from the GroupInfo, and an ExternalInit to it: the
/// `kem_output` for the proposal and the `init_secret` it exports.
fn external_init(
    suite: &Suite,
    group_info: &GroupInfo,
    rng: &mut impl Rng,
) -> Result<(Vec<u8>, InitSecret)> {
    let ext = group_info
        .extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::EXTERNAL_PUB)
        .ok_or(PeerMisbehaved::InvalidExternalCommit)?;
    let mut r = Reader::new(&ext.extension_data);
    let external_pub = HpkePublicKey::validated(r.read_opaque(64)?)?;
    r.finish()?;
    let (kem_output, ctx) = crate::crypto::hpke::setup_sender(
        suite.hpke_aead(),
        SenderMode::Base,
        &external_pub,
        &[],
        rng,
    )?;
    let init_secret = InitSecret(ctx.export(EXTERNAL_INIT_LABEL, suite.hash_len())?);
    Ok((kem_output, init_secret))
}

/// Our own external commit, as the members will see it.
struct OwnExternalCommit<'a> {
    context: &'a GroupContext,
    tree: &'a RatchetTree,
    own: LeafIndex,
    path_leaf: &'a LeafNode,
    list: &'a [(Proposal, Sender)],
    removed: &'a [LeafIndex],
    old_leaf: Option<LeafIndex>,
}

impl OwnExternalCommit<'_> {
    /// The members' checks, before anything is sent: the new leaf against the tree and the
    /// group's required capabilities, the rejoin's criteria, and the application's rules.
    fn check(&self, config: &GroupConfig, params: &validate::GroupParams<'_>) -> Result<()> {
        let (exts, props, creds) = validate::required_capabilities(&self.context.extensions)?;
        validate::validate_leaf_node(
            self.path_leaf,
            LeafContext::Commit {
                group_id: &self.context.group_id,
                leaf_index: self.own.0,
            },
            &validate::GroupParams {
                required_extensions: &exts,
                required_proposals: &props,
                required_credentials: &creds,
                ..*params
            },
        )?;
        if let Some(old) = self.old_leaf.and_then(|l| self.tree.leaf(l)) {
            if !config
                .credentials
                .same_client(&old.credential, &self.path_leaf.credential)
            {
                return Err(PeerMisbehaved::RejoinMismatch.into());
            }
        }
        config.rules.check_commit(&super::rules::CommitCheck {
            context: self.context,
            tree: self.tree,
            sender: &Sender::NewMemberCommit,
            committer: self.own,
            path_leaf: Some(self.path_leaf),
            proposals: self.list,
            new_extensions: &self.context.extensions,
            removed: self.removed,
            rejoin_of: self.old_leaf,
        })
    }
}
