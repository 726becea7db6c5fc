//! TreeKEM (RFC 9420 §7.4–§7.6): creating and applying UpdatePaths.
//!
//! ```text
//!  sender:   leaf_secret ─► path_secret[0] ─► path_secret[1] ─► … ─► path_secret[n-1] ─► commit_secret
//!                 │               │                 │                      │
//!             leaf key        node key[0]       node key[1]            node key[n-1]   (DeriveKeyPair(DeriveSecret(ps, "node")))
//!  path_secret[i] is encrypted to every node in the resolution of the copath child of the
//!  i-th node of the sender's filtered direct path, under the provisional GroupContext.
//!
//!  receiver: merge_path (public keys, parent hashes) ─► provisional GroupContext ─►
//!            decrypt_path (one HPKE open, then derivations up to the root) ─► commit_secret
//! ```
//!
//! Both sides work on a [`TreeDiff`], so nothing touches the group's tree until the whole
//! commit has been checked.

use crate::crypto::{
    ForkSeed, HpkePrivateKey, HpkePublicKey, Rng, Secret, SignaturePrivateKey, Suite,
};
use crate::error::{Error, PeerMisbehaved, Result};
use crate::mls::key_schedule::CommitSecret;
use crate::mls::wire::{
    HpkeCiphertext, LeafNode, LeafNodeSource, Node, ParentNode, UpdatePath, UpdatePathNode,
};

use super::hashes;
use super::math::{LeafIndex, NodeIndex};
use super::ratchet_tree::TreeDiff;
use super::verify::{in_subtree, LEAF_NODE_LABEL};

mod private_keys;
pub(crate) use private_keys::TreePrivateKeys;

/// The HPKE label of path-secret encryption (RFC 9420 §7.6).
const UPDATE_PATH_NODE_LABEL: &[u8] = b"UpdatePathNode";

crate::secret_role! {
    /// `path_secret[i]`: the secret of one node of a filtered direct path.
    pub(crate) struct PathSecret;
}

impl PathSecret {
    /// `path_secret[i+1] = DeriveSecret(path_secret[i], "path")`.
    pub(crate) fn next(&self, suite: &Suite) -> Result<Self> {
        suite.derive_secret(&self.0, b"path").map(Self)
    }

    /// The node key pair: `DeriveKeyPair(DeriveSecret(path_secret, "node"))`.
    ///
    /// # Errors
    /// Never for the implemented suites.
    pub(crate) fn key_pair(&self, suite: &Suite) -> Result<(HpkePrivateKey, HpkePublicKey)> {
        suite.derive_key_pair(&suite.derive_secret(&self.0, b"node")?)
    }
}

/// One node of a prepared path: where it is, its copath child, its secret and keys.
#[derive(Debug)]
struct PathNode {
    node: NodeIndex,
    copath: NodeIndex,
    secret: PathSecret,
    public: HpkePublicKey,
    private: HpkePrivateKey,
}

/// What the sender of an UpdatePath keeps: the new private keys, the path secrets (a Welcome
/// sends one of them to each new member) and the commit secret.
#[derive(Debug)]
pub(crate) struct PreparedPath {
    suite: Suite,
    sender: LeafIndex,
    leaf_node: LeafNode,
    leaf_key: HpkePrivateKey,
    /// `path_secret[0]`, kept so that a saved pending commit can be staged again
    /// ([`own_path`]).
    leaf_secret: PathSecret,
    nodes: Vec<PathNode>,
    commit_secret: CommitSecret,
}

/// Everything the owner of a new leaf chooses (credential, capabilities, extensions,
/// signature key) as a template; the encryption key, source and signature are replaced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LeafTemplate<'a> {
    /// The leaf whose credential, capabilities, extensions and signature key are kept.
    pub leaf: &'a LeafNode,
    /// The key that signs the new leaf (matching `leaf.signature_key`).
    pub signer: &'a SignaturePrivateKey,
    /// The group, bound into the leaf signature.
    pub group_id: &'a [u8],
}

/// Replaces the sender's direct path in `diff` with fresh keys (RFC 9420 §7.4, §7.5 steps
/// 1–4): blanks the direct path, derives path secrets and key pairs for the filtered direct
/// path, computes parent hashes, and installs a re-signed leaf. Encrypt the path secrets
/// with [`PreparedPath::encrypt`] once the provisional GroupContext is known.
///
/// # Errors
/// `ApiMisuse::IndexOutOfRange` if `sender` is outside the tree; encoding overflows.
pub(crate) fn prepare_path(
    diff: &mut TreeDiff<'_>,
    sender: LeafIndex,
    template: LeafTemplate<'_>,
    rng: &mut impl Rng,
) -> Result<PreparedPath> {
    let suite = *diff.suite();
    let fdp = diff.filtered_direct_path(sender)?;
    diff.blank_direct_path(sender)?;

    let leaf_secret = PathSecret(Secret::random(suite.hash_len(), rng)?);
    let (leaf_key, leaf_pub) = leaf_secret.key_pair(&suite)?;
    let leaf_secret_kept = leaf_secret;
    let leaf_secret = &leaf_secret_kept;
    let mut secret = leaf_secret.next(&suite)?;
    let mut nodes = Vec::with_capacity(fdp.len());
    for &(node, copath) in &fdp {
        let (private, public) = secret.key_pair(&suite)?;
        let next = secret.next(&suite)?;
        nodes.push(PathNode {
            node,
            copath,
            secret,
            public,
            private,
        });
        secret = next;
    }
    // One step past the root: path_secret[n] is the commit secret.
    let commit_secret = CommitSecret(secret.0);
    let public: Vec<&[u8]> = nodes
        .iter()
        .map(|n| n.public.as_bytes().as_slice())
        .collect();
    let leaf_parent_hash = set_path(diff, &fdp, &public)?;

    let mut leaf = template.leaf.clone();
    leaf.encryption_key = leaf_pub.as_bytes().to_vec();
    leaf.leaf_node_source = LeafNodeSource::Commit {
        parent_hash: leaf_parent_hash,
    };
    let tbs = leaf.to_be_signed(template.group_id, sender.0)?;
    leaf.signature = template
        .signer
        .sign_with_label(LEAF_NODE_LABEL, &tbs)?
        .to_vec();
    diff.set(sender.node(), Some(Node::Leaf(Box::new(leaf.clone()))))?;

    Ok(PreparedPath {
        suite,
        sender,
        leaf_node: leaf,
        leaf_key,
        leaf_secret: leaf_secret_kept,
        nodes,
        commit_secret,
    })
}

/// Writes the filtered-direct-path nodes with the given public keys (no unmerged leaves) and
/// their parent hashes, top-down, and returns the parent hash the leaf must carry.
fn set_path(
    diff: &mut TreeDiff<'_>,
    fdp: &[(NodeIndex, NodeIndex)],
    public: &[&[u8]],
) -> Result<Vec<u8>> {
    let suite = *diff.suite();
    let mut parent_hash = Vec::new();
    for (&(node, copath), key) in fdp.iter().zip(public).rev() {
        // The copath child's subtree is off the path, so its hash is final.
        let sibling = diff.tree_hash(copath)?;
        let next = hashes::parent_hash(&suite, key, &parent_hash, sibling.as_bytes())?;
        let p = ParentNode {
            encryption_key: key.to_vec(),
            parent_hash: core::mem::replace(&mut parent_hash, next.as_bytes().to_vec()),
            unmerged_leaves: Vec::new(),
        };
        diff.set(node, Some(Node::Parent(Box::new(p))))?;
    }
    Ok(parent_hash)
}

/// The resolution of `n` without the leaves in `exclude`.
fn resolution_excluding(
    diff: &TreeDiff<'_>,
    n: NodeIndex,
    exclude: &[LeafIndex],
) -> Result<Vec<NodeIndex>> {
    let mut r = diff.resolution(n)?;
    r.retain(|x| !exclude.iter().any(|l| l.node() == *x));
    Ok(r)
}

/// The HPKE public key of a non-blank node.
fn node_public_key(diff: &TreeDiff<'_>, n: NodeIndex) -> Result<HpkePublicKey> {
    let bytes = match diff.node(n) {
        Some(Node::Leaf(l)) => &l.encryption_key,
        Some(Node::Parent(p)) => &p.encryption_key,
        None => return Err(Error::Internal("blank node in a resolution")),
    };
    HpkePublicKey::from_slice(bytes)
}

impl PreparedPath {
    /// Encrypts each path secret to the resolution of its copath child, leaving out the
    /// leaves in `exclude` (members added by the same Commit), under the provisional
    /// GroupContext `group_context` (RFC 9420 §7.5, §7.6).
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidKey`](crate::error::InvalidMessage::InvalidKey) for a
    /// malformed key in the tree.
    pub(crate) fn encrypt(
        &self,
        diff: &TreeDiff<'_>,
        group_context: &[u8],
        exclude: &[LeafIndex],
        threads: usize,
        rng: &mut impl Rng,
    ) -> Result<UpdatePath> {
        // One HPKE seal per resolution node, spread over the cores: each gets its own RNG
        // stream forked (in order) from the caller's.
        let mut tasks = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            for r in resolution_excluding(diff, n.copath, exclude)? {
                tasks.push((i, node_public_key(diff, r)?, ForkSeed::draw(rng)));
            }
        }
        // EncryptWithLabel(key, "UpdatePathNode", group_context, path_secret): one label and
        // context for every node, so the HPKE info is hashed once.
        let sealer = self
            .suite
            .labeled_sealer(UPDATE_PATH_NODE_LABEL, group_context)?;
        let sealed = crate::parallel::map(threads, &tasks, |(i, key, seed)| {
            let mut fork = seed.start();
            let secret = self.nodes.get(*i).map(|n| &n.secret.0);
            secret.map(|s| sealer.seal_secret(key, s, &mut fork))
        });
        let mut out: Vec<UpdatePathNode> = self
            .nodes
            .iter()
            .map(|n| UpdatePathNode {
                encryption_key: n.public.as_bytes().to_vec(),
                encrypted_path_secret: Vec::new(),
            })
            .collect();
        for ((i, ..), ct) in tasks.iter().zip(sealed) {
            let ct = ct.ok_or(Error::Internal("path node index"))??;
            if let Some(node) = out.get_mut(*i) {
                node.encrypted_path_secret.push(HpkeCiphertext {
                    kem_output: ct.kem_output,
                    ciphertext: ct.ciphertext,
                });
            }
        }
        Ok(UpdatePath {
            leaf_node: self.leaf_node.clone(),
            nodes: out,
        })
    }

    /// The commit secret, `path_secret[n]` one step past the root.
    #[must_use]
    #[cfg(test)]
    pub(crate) const fn commit_secret(&self) -> &CommitSecret {
        &self.commit_secret
    }

    /// The path secret of `node`, for a Welcome to a member whose lowest common ancestor
    /// with the sender is `node`.
    #[must_use]
    pub(crate) fn path_secret(&self, node: NodeIndex) -> Option<&PathSecret> {
        self.nodes
            .iter()
            .find(|n| n.node == node)
            .map(|n| &n.secret)
    }

    /// The commit secret and the new private keys: the leaf and every node of the filtered
    /// direct path (the path secrets are dropped, hence zeroized).
    #[must_use]
    pub(crate) fn into_keys(self) -> (CommitSecret, Vec<(NodeIndex, HpkePrivateKey)>) {
        let (commit_secret, keys, _) = self.into_keys_and_leaf_secret();
        (commit_secret, keys)
    }

    /// As [`PreparedPath::into_keys`], also giving `path_secret[0]`, from which
    /// [`own_path`] derives everything again (a saved pending commit).
    #[must_use]
    pub(crate) fn into_keys_and_leaf_secret(
        self,
    ) -> (CommitSecret, Vec<(NodeIndex, HpkePrivateKey)>, PathSecret) {
        let mut keys = Vec::with_capacity(self.nodes.len() + 1);
        keys.push((self.sender.node(), self.leaf_key));
        keys.extend(self.nodes.into_iter().map(|n| (n.node, n.private)));
        (self.commit_secret, keys, self.leaf_secret)
    }
}

/// The committer's own keys of an UpdatePath it sent, derived again from its
/// `path_secret[0]` (RFC 9420 §7.4) and checked against every public key of the path: the
/// commit secret and the private keys of its leaf and filtered direct path, as
/// [`PreparedPath::into_keys`] gave them when the commit was made. `fdp` is what
/// [`merge_path`] returned.
///
/// # Errors
/// [`PeerMisbehaved::PathKeyMismatch`] when a derived key differs from the path's (the
/// secret is not this path's); [`PeerMisbehaved::UpdatePathLength`] for a path of the
/// wrong length.
pub(crate) fn own_path(
    suite: &Suite,
    sender: LeafIndex,
    path: &UpdatePath,
    fdp: &[(NodeIndex, NodeIndex)],
    leaf_secret: &PathSecret,
) -> Result<(CommitSecret, Vec<(NodeIndex, HpkePrivateKey)>)> {
    if fdp.len() != path.nodes.len() {
        return Err(PeerMisbehaved::UpdatePathLength.into());
    }
    let (leaf_key, leaf_pub) = leaf_secret.key_pair(suite)?;
    if leaf_pub.as_bytes().as_slice() != path.leaf_node.encryption_key.as_slice() {
        return Err(PeerMisbehaved::PathKeyMismatch.into());
    }
    let mut keys = Vec::with_capacity(fdp.len() + 1);
    keys.push((sender.node(), leaf_key));
    let mut secret = leaf_secret.next(suite)?;
    for (&(node, _), wire_node) in fdp.iter().zip(&path.nodes) {
        let (private, public) = secret.key_pair(suite)?;
        if public.as_bytes().as_slice() != wire_node.encryption_key.as_slice() {
            return Err(PeerMisbehaved::PathKeyMismatch.into());
        }
        keys.push((node, private));
        secret = secret.next(suite)?;
    }
    Ok((CommitSecret(secret.0), keys))
}

/// Merges a received UpdatePath into `diff` (RFC 9420 §7.5, "merges UpdatePath into the
/// tree"): blanks the sender's direct path, sets the public keys of its filtered direct path,
/// recomputes the parent hashes and checks the one the new leaf signed. Returns the filtered
/// direct path (node, copath child) for [`decrypt_path`].
///
/// The leaf's signature and other LeafNode rules are the caller's (`mls::validate`).
///
/// # Errors
/// [`PeerMisbehaved::UpdatePathLength`] when the path has the wrong number of nodes;
/// [`PeerMisbehaved::ParentHashInvalid`] when the leaf's parent hash does not match;
/// [`PeerMisbehaved::UnexpectedLeafSource`] unless the leaf's source is `commit`.
pub(crate) fn merge_path(
    diff: &mut TreeDiff<'_>,
    sender: LeafIndex,
    path: &UpdatePath,
) -> Result<Vec<(NodeIndex, NodeIndex)>> {
    let LeafNodeSource::Commit { parent_hash } = &path.leaf_node.leaf_node_source else {
        return Err(PeerMisbehaved::UnexpectedLeafSource.into());
    };
    if diff.leaf(sender).is_none() {
        return Err(PeerMisbehaved::UnknownSender.into());
    }
    let fdp = diff.filtered_direct_path(sender)?;
    if fdp.len() != path.nodes.len() {
        return Err(PeerMisbehaved::UpdatePathLength.into());
    }
    diff.blank_direct_path(sender)?;
    let public: Vec<&[u8]> = path
        .nodes
        .iter()
        .map(|n| n.encryption_key.as_slice())
        .collect();
    let expected = set_path(diff, &fdp, &public)?;
    if expected != *parent_hash {
        return Err(PeerMisbehaved::ParentHashInvalid.into());
    }
    diff.set(
        sender.node(),
        Some(Node::Leaf(Box::new(path.leaf_node.clone()))),
    )?;
    Ok(fdp)
}

/// The secrets a receiver gets from an UpdatePath.
#[derive(Debug)]
pub(crate) struct DecryptedPath {
    /// The path secret decrypted (for the lowest node of the path above the receiver).
    #[cfg_attr(not(test), allow(dead_code))] // read by the TreeKEM vector tests
    pub path_secret: PathSecret,
    /// The commit secret.
    pub commit_secret: CommitSecret,
    /// The private keys of the path nodes from the decrypted one to the root.
    pub keys: Vec<(NodeIndex, HpkePrivateKey)>,
}

/// Decrypts the one path secret addressed to the receiver and derives the rest up to the
/// commit secret, checking every derived public key against the path (RFC 9420 §7.5,
/// "decrypts the path secrets"). `fdp` is what [`merge_path`] returned; `diff` is the tree
/// after the merge; `group_context` the provisional GroupContext.
///
/// # Errors
/// [`PeerMisbehaved::UpdatePathLength`] when the ciphertexts do not match the resolution;
/// [`PeerMisbehaved::NoPathSecretForUs`] when none is addressed to a key we hold;
/// [`Error::AuthenticationFailed`] when the ciphertext does not open;
/// [`PeerMisbehaved::PathKeyMismatch`] when a derived key differs from the path's.
pub(crate) fn decrypt_path(
    diff: &TreeDiff<'_>,
    keys: &TreePrivateKeys,
    path: &UpdatePath,
    fdp: &[(NodeIndex, NodeIndex)],
    group_context: &[u8],
    exclude: &[LeafIndex],
) -> Result<DecryptedPath> {
    let suite = *diff.suite();
    let me = keys.own_leaf().node();
    let start = fdp
        .iter()
        .position(|&(_, copath)| in_subtree(copath, me))
        .ok_or(PeerMisbehaved::NoPathSecretForUs)?;
    let (_, copath) = fdp
        .get(start)
        .copied()
        .ok_or(Error::Internal("path index"))?;
    let node = path
        .nodes
        .get(start)
        .ok_or(PeerMisbehaved::UpdatePathLength)?;
    let resolution = resolution_excluding(diff, copath, exclude)?;
    if resolution.len() != node.encrypted_path_secret.len() {
        return Err(PeerMisbehaved::UpdatePathLength.into());
    }
    let (r, sk, ct) = resolution
        .iter()
        .zip(&node.encrypted_path_secret)
        .find_map(|(r, ct)| keys.key_for(diff, *r).map(|sk| (*r, sk, ct)))
        .ok_or(PeerMisbehaved::NoPathSecretForUs)?;
    let secret = suite.decrypt_secret_with_label_known_public(
        sk,
        &node_public_key(diff, r)?,
        UPDATE_PATH_NODE_LABEL,
        group_context,
        &ct.kem_output,
        &ct.ciphertext,
    )?;
    if secret.len() != suite.hash_len() {
        return Err(PeerMisbehaved::PathKeyMismatch.into());
    }
    let path_secret = PathSecret(secret);
    let mut secret = PathSecret(path_secret.0.duplicate());
    let mut new_keys = Vec::with_capacity(fdp.len() - start);
    for (&(n, _), sent) in fdp.iter().zip(&path.nodes).skip(start) {
        let (sk, pk) = secret.key_pair(&suite)?;
        if pk.as_bytes().as_slice() != sent.encryption_key.as_slice() {
            return Err(PeerMisbehaved::PathKeyMismatch.into());
        }
        new_keys.push((n, sk));
        secret = secret.next(&suite)?;
    }
    Ok(DecryptedPath {
        path_secret,
        commit_secret: CommitSecret(secret.0),
        keys: new_keys,
    })
}

#[cfg(test)]
mod tests;
