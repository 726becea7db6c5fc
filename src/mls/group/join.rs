//! Joining a group: from a Welcome (RFC 9420 §12.4.3.1) or by external commit from a
//! published GroupInfo (§12.4.3.2), the usual way into a large meeting.

use std::collections::HashMap;

use crate::codec::Encode;
use crate::crypto::{HpkePublicKey, Mac, Secret, SignaturePublicKey, Suite};
use crate::error::{PeerMisbehaved, Result};
use crate::mls::transcript;
use crate::mls::tree::math::LeafIndex;
use crate::mls::tree::{verify, PathSecret, RatchetTree, TreePrivateKeys};
use crate::mls::validate::{self, LeafContext};
use crate::mls::welcome::{self, VerifiedGroupInfo};
use crate::mls::wire::{ExtensionType, GroupContext, GroupInfo, Node, Welcome};

use super::epoch::{NextEpoch, PastEpochs};
use super::{Group, GroupConfig, KeyPackageBundle};

/// The ratchet tree of a GroupInfo: from its `ratchet_tree` extension, or supplied. The
/// tree is bounded by `config`'s limits and the GroupInfo's signature is verified with the
/// signer's key read from the undecoded node list, before the tree is expanded or hashed
/// (a hostile tree costs at most its own decoding until then).
pub(super) fn tree_of<'a>(
    suite: Suite,
    group_info: &'a GroupInfo,
    supplied: Option<&crate::mls::wire::RatchetTree>,
    config: &GroupConfig,
) -> Result<(VerifiedGroupInfo<'a>, RatchetTree)> {
    let max_nodes = (config.limits.max_leaves as usize)
        .saturating_mul(2)
        .saturating_sub(1);
    let from_extension = group_info
        .extensions
        .iter()
        .find(|e| e.extension_type == ExtensionType::RATCHET_TREE)
        .map(|e| crate::mls::wire::RatchetTree::decode_bounded(&e.extension_data, max_nodes))
        .transpose()?;
    let wire = from_extension
        .as_ref()
        .or(supplied)
        .ok_or(PeerMisbehaved::MissingRatchetTree)?;
    if wire.0.len() > max_nodes {
        return Err(PeerMisbehaved::LimitExceeded.into());
    }
    let signer = usize::try_from(group_info.signer)
        .ok()
        .and_then(|i| i.checked_mul(2))
        .and_then(|i| wire.0.get(i));
    let Some(Some(Node::Leaf(signer))) = signer else {
        return Err(PeerMisbehaved::UnknownSender.into());
    };
    let key = SignaturePublicKey::from_bytes(&signer.signature_key)?;
    let verified = welcome::verify_group_info(&suite, &key, group_info)?;
    Ok((verified, RatchetTree::from_wire(suite, wire)?))
}

/// RFC 9420 §12.4.3.1: verifies a received tree against the GroupInfo (whose signature
/// [`tree_of`] checked): tree hash, tree integrity, every leaf valid.
pub(super) fn check_tree(
    tree: &RatchetTree,
    group_info: &VerifiedGroupInfo<'_>,
    config: &GroupConfig,
) -> Result<()> {
    let group_id = &group_info.group_context.group_id;
    if tree.root_hash().as_bytes() != group_info.group_context.tree_hash.as_slice() {
        return Err(PeerMisbehaved::TreeHashMismatch.into());
    }
    verify::verify_structure(tree)?;
    verify::verify_parent_hashes(tree)?;
    let (required_extensions, required_proposals, required_credentials) =
        validate::required_capabilities(&group_info.group_context.extensions)?;
    let params = validate::GroupParams {
        suite: tree.suite(),
        required_extensions: &required_extensions,
        required_proposals: &required_proposals,
        required_credentials: &required_credentials,
        credentials: &*config.credentials,
        max_key_package_lifetime: config.limits.max_key_package_lifetime,
    };
    // §5.3.1: the credentials of the group's external senders are validated too.
    validate::external_senders(&group_info.group_context.extensions, &*config.credentials)?;
    let leaves: Vec<_> = tree.leaves().collect();
    let checks = crate::parallel::map(config.max_threads, &leaves, |(l, leaf)| {
        let context = match leaf.leaf_node_source {
            crate::mls::wire::LeafNodeSource::KeyPackage(_) => {
                LeafContext::KeyPackage { now: None }
            }
            crate::mls::wire::LeafNodeSource::Update => LeafContext::Update {
                group_id,
                leaf_index: l.0,
            },
            crate::mls::wire::LeafNodeSource::Commit { .. } => LeafContext::Commit {
                group_id,
                leaf_index: l.0,
            },
        };
        validate::validate_leaf_node(leaf, context, &params)
    });
    for c in checks {
        c?;
    }
    // §7.3: credential types supported by every member, each member supporting all in use.
    let types = validate::CredentialTypes::of(leaves.iter().map(|(_, l)| *l));
    for (_, leaf) in &leaves {
        types.check(leaf)?;
    }
    Ok(())
}

/// RFC 9420 §12.4.3 (and §11.1): a joiner supports every non-default extension of the
/// GroupContext, as its own leaf's capabilities say.
pub(super) fn check_own_support(
    own: &crate::mls::wire::LeafNode,
    context: &GroupContext,
) -> Result<()> {
    let caps = &own.capabilities.extensions;
    if context
        .extensions
        .iter()
        .map(|e| e.extension_type)
        .all(|t| validate::is_default_extension(t) || caps.contains(&t))
    {
        Ok(())
    } else {
        Err(PeerMisbehaved::UnsupportedCapability.into())
    }
}

/// `interim_transcript_hash` from a GroupInfo: `Hash(confirmed || confirmation_tag)`.
pub(super) fn interim_of(suite: &Suite, group_info: &GroupInfo) -> Result<(Mac, Vec<u8>)> {
    let tag = Mac::from_slice(&group_info.confirmation_tag)
        .map_err(|_| crate::Error::AuthenticationFailed)?;
    let interim = transcript::interim_transcript_hash(
        suite,
        &group_info.group_context.confirmed_transcript_hash,
        &tag,
    )?;
    Ok((tag, interim.as_bytes().to_vec()))
}

impl Group {
    /// Joins from a Welcome addressed to the KeyPackage of `bundle` (RFC 9420 §12.4.3.1).
    /// The tree comes from the Welcome's `ratchet_tree` extension or from `ratchet_tree`;
    /// PSKs named in the Welcome must be in `external_psks`.
    ///
    /// RFC 9420 §12.4.3.1 also requires the group id to be unique among the client's
    /// groups: only the caller knows its other groups, so it must refuse a Welcome whose
    /// [`Group::group_id`] it already holds (the group is returned before any state is kept).
    ///
    /// # Errors
    /// [`PeerMisbehaved::NotForUs`] when the Welcome has no entry for our KeyPackage;
    /// [`Error::AuthenticationFailed`](crate::Error::AuthenticationFailed) when a decryption,
    /// signature or confirmation tag fails; the tree-validation rule a bad tree breaks.
    pub fn join_welcome(
        config: GroupConfig,
        welcome_message: &Welcome,
        bundle: KeyPackageBundle,
        ratchet_tree: Option<&crate::mls::wire::RatchetTree>,
        external_psks: Vec<(Vec<u8>, Secret)>,
    ) -> Result<Self> {
        let suite = welcome_message.cipher_suite.suite()?;
        if bundle.key_package.cipher_suite != suite.id() {
            return Err(PeerMisbehaved::KeyPackageMismatch.into());
        }
        let kp_ref = welcome::key_package_ref(&suite, &bundle.key_package)?;
        let secrets = welcome::decrypt_group_secrets_with_public(
            &suite,
            &bundle.init_key,
            &HpkePublicKey::from_slice(&bundle.key_package.init_key)?,
            welcome_message,
            &kp_ref,
        )?;
        let KeyPackageBundle {
            key_package,
            leaf_key,
            signer,
            ..
        } = bundle;
        let external_psks: HashMap<Vec<u8>, Secret> = external_psks.into_iter().collect();
        let psk_secret =
            super::process::psk_secret_from(&suite, &secrets.psks, &external_psks, &[], &[])?;
        let next = NextEpoch::from_joiner(&suite, &secrets.joiner_secret, &psk_secret);
        let welcome_secret = next.welcome_secret(&suite)?;
        let group_info = welcome::decrypt_group_info(
            &suite,
            &welcome_secret,
            &welcome_message.encrypted_group_info,
        )?;
        check_suite_and_epoch(&group_info, &suite)?;
        check_own_support(&key_package.leaf_node, &group_info.group_context)?;
        let (group_info, tree) = tree_of(suite, &group_info, ratchet_tree, &config)?;
        check_tree(&tree, &group_info, &config)?;
        let context = group_info.group_context.clone();

        // Our leaf: the one identical to our KeyPackage's.
        let own = tree
            .leaves()
            .find(|(_, l)| **l == key_package.leaf_node)
            .map(|(i, _)| i)
            .ok_or(PeerMisbehaved::NotForUs)?;
        let mut keys = TreePrivateKeys::new(own, leaf_key);
        if let Some(ps) = &secrets.path_secret {
            let signer_leaf = LeafIndex(group_info.signer);
            install_path_secrets(&suite, &tree, own, signer_leaf, &ps.path_secret, &mut keys)?;
        }

        let epoch = next.keys(&suite, &context.to_bytes()?, tree.size(), config.ratchet)?;
        let (tag, interim) = interim_of(&suite, &group_info)?;
        // §12.4.3.1: the confirmation tag proves we derived the epoch the group is in.
        epoch
            .confirmation_key
            .verify(&suite, &context.confirmed_transcript_hash, &tag)?;
        Ok(Self {
            suite,
            config,
            context,
            tree,
            own_leaf: own,
            signer,
            keys,
            epoch,
            interim_transcript_hash: interim,
            confirmation_tag: tag.as_bytes().to_vec(),
            proposals: Vec::new(),
            pending_commit: None,
            past: PastEpochs::default(),
            signature_keys: HashMap::new(),
            external_psks,
            resumption_psks: Vec::new(),
            active: true,
            reinitialized: false,
        })
    }
}

/// The GroupInfo of a Welcome is of the Welcome's suite, in an epoch that can be left.
fn check_suite_and_epoch(group_info: &GroupInfo, suite: &Suite) -> Result<()> {
    if group_info.group_context.cipher_suite != suite.id() {
        return Err(PeerMisbehaved::KeyPackageMismatch.into());
    }
    // An epoch of 2^64 − 1 could never be left.
    if group_info.group_context.epoch == u64::MAX {
        return Err(PeerMisbehaved::EpochExhausted.into());
    }
    Ok(())
}

/// A Welcome's path secret (§12.4.3.1): it is for the lowest common ancestor of our leaf and
/// the committer's; each non-blank ancestor above it gets the next one, and every derived
/// public key must be the one in the tree.
fn install_path_secrets(
    suite: &Suite,
    tree: &RatchetTree,
    own: LeafIndex,
    committer: LeafIndex,
    path_secret: &Secret,
    keys: &mut TreePrivateKeys,
) -> Result<()> {
    let size = tree.size();
    let mut node = size.common_ancestor(own.node(), committer.node())?;
    let mut secret = PathSecret(path_secret.duplicate());
    loop {
        if let Some(Node::Parent(p)) = tree.node(node) {
            let pk = keys.insert_path_secret(suite, node, &secret)?;
            if pk.as_bytes().as_slice() != p.encryption_key.as_slice() {
                return Err(PeerMisbehaved::PathKeyMismatch.into());
            }
            secret = secret.next(suite)?;
        }
        match size.parent(node)? {
            Some(p) => node = p,
            None => return Ok(()),
        }
    }
}
