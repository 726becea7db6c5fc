//! The secret tree and its sender ratchets (RFC 9420 §9), with the deletion schedule of §9.2.
//!
//! ```text
//!   encryption_secret (root)
//!        ├─ ExpandWithLabel(., "tree", "left",  Nh) ─► left child     (parent deleted once both
//!        └─ ExpandWithLabel(., "tree", "right", Nh) ─► right child     children are derived)
//!   leaf secret ─► "handshake" ratchet, "application" ratchet           (leaf secret deleted)
//!   ratchet_secret_[j] ─► key_[j], nonce_[j], ratchet_secret_[j+1]      (ratchet_secret_[j] deleted)
//! ```
//!
//! Node secrets are derived lazily, only along the paths of leaves that send, so a tree of
//! 10 000 members costs nothing until someone speaks. A receiver keeps the keys of at most
//! [`RatchetConfig::out_of_order_tolerance`] skipped generations per ratchet, refuses to
//! ratchet more than [`RatchetConfig::maximum_forward_distance`] ahead, and deletes every key
//! once it has opened a message.
//!
//! Receiving is transactional: [`SecretTree::stage_open`] derives keys on a staged copy of
//! the one ratchet involved, reading the tree only; [`SecretTree::commit_open`] applies it
//! once the caller accepted the message, so a forged message leaves the tree exactly as it
//! was.

use std::collections::HashMap;

use crate::crypto::{AeadKey, AeadNonce, Secret, Suite};
use crate::error::{ApiMisuse, Result, Stale};

use super::key_schedule::EncryptionSecret;
use super::tree::math::{LeafIndex, NodeIndex, TreeSize};

mod persist;

/// The key and nonce of one generation of one sender's ratchet, derived on a copy of the
/// ratchet ([`SecretTree::stage_open`]); nothing is deleted until
/// [`SecretTree::commit_open`].
#[derive(Debug)]
pub(crate) struct StagedOpen {
    leaf: LeafIndex,
    kind: RatchetKind,
    ratchet: Ratchet,
    /// The node secrets created and consumed when the leaf's ratchets were first derived,
    /// with its other ratchet.
    derived: Option<(PathUpdate, Ratchet)>,
    key: AeadKey,
    nonce: AeadNonce,
}

impl StagedOpen {
    /// The generation's AEAD key.
    pub(crate) const fn key(&self) -> &AeadKey {
        &self.key
    }

    /// The generation's nonce (before the reuse guard).
    pub(crate) const fn nonce(&self) -> &AeadNonce {
        &self.nonce
    }
}

/// Which of a sender's two ratchets (RFC 9420 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RatchetKind {
    /// Proposals and Commits.
    Handshake,
    /// Application messages.
    Application,
}

/// Bounds on out-of-order delivery (RFC 9420 §9.2: keys may be kept "for some reasonable
/// amount of time to handle out-of-order message delivery").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatchetConfig {
    /// How many skipped generations' keys a ratchet keeps for late messages.
    pub out_of_order_tolerance: u32,
    /// How far ahead of the next expected generation a message may be.
    pub maximum_forward_distance: u32,
}

impl Default for RatchetConfig {
    fn default() -> Self {
        Self {
            out_of_order_tolerance: 32,
            maximum_forward_distance: 1000,
        }
    }
}

/// A key and nonce for one generation.
type GenerationKeys = (u32, AeadKey, AeadNonce);

/// One hash ratchet: the secret of the next generation plus the keys kept for skipped ones.
#[derive(Debug)]
struct Ratchet {
    secret: Secret,
    generation: u32,
    /// Keys of skipped generations below `generation`, oldest first.
    kept: Vec<GenerationKeys>,
}

impl Ratchet {
    const fn new(secret: Secret) -> Self {
        Self {
            secret,
            generation: 0,
            kept: Vec::new(),
        }
    }

    fn duplicate(&self) -> Self {
        Self {
            secret: self.secret.duplicate(),
            generation: self.generation,
            kept: self
                .kept
                .iter()
                .map(|(g, k, n)| (*g, AeadKey(k.0.duplicate()), AeadNonce(n.0.duplicate())))
                .collect(),
        }
    }

    /// Derives the key and nonce of the current generation and moves to the next, deleting
    /// the current ratchet secret.
    fn step(&mut self, suite: &Suite) -> Result<GenerationKeys> {
        let g = self.generation;
        let next_generation = g.checked_add(1).ok_or(ApiMisuse::CounterExhausted)?;
        let key = suite.derive_tree_secret(&self.secret, b"key", g, suite.aead_key_len())?;
        let nonce = suite.derive_tree_secret(&self.secret, b"nonce", g, suite.aead_nonce_len())?;
        self.secret = suite.derive_tree_secret(&self.secret, b"secret", g, suite.hash_len())?;
        self.generation = next_generation;
        Ok((g, AeadKey(key), AeadNonce(nonce)))
    }

    /// The key and nonce of `generation`, consumed: from the kept keys if it was skipped,
    /// otherwise by ratcheting forward (keeping the keys of the generations jumped over).
    fn take(
        &mut self,
        suite: &Suite,
        generation: u32,
        config: &RatchetConfig,
    ) -> Result<(AeadKey, AeadNonce)> {
        if generation < self.generation {
            let pos = self
                .kept
                .iter()
                .position(|(g, _, _)| *g == generation)
                .ok_or(Stale::GenerationConsumed)?;
            let (_, key, nonce) = self.kept.remove(pos);
            return Ok((key, nonce));
        }
        if generation - self.generation > config.maximum_forward_distance {
            return Err(Stale::GenerationTooFarAhead.into());
        }
        let tolerance = usize::try_from(config.out_of_order_tolerance).unwrap_or(usize::MAX);
        while self.generation < generation {
            let skipped = self.step(suite)?;
            if tolerance > 0 {
                if self.kept.len() >= tolerance {
                    self.kept.remove(0);
                }
                self.kept.push(skipped);
            }
        }
        let (_, key, nonce) = self.step(suite)?;
        Ok((key, nonce))
    }
}

/// The two ratchets of one sender.
#[derive(Debug)]
struct LeafRatchets {
    handshake: Ratchet,
    application: Ratchet,
}

impl LeafRatchets {
    fn get_mut(&mut self, kind: RatchetKind) -> &mut Ratchet {
        match kind {
            RatchetKind::Handshake => &mut self.handshake,
            RatchetKind::Application => &mut self.application,
        }
    }
}

/// Node secrets to add and remove when a leaf's ratchets are first derived.
#[derive(Debug, Default)]
struct PathUpdate {
    consumed: Vec<NodeIndex>,
    created: Vec<(NodeIndex, Secret)>,
}

/// The secret tree of one epoch.
#[derive(Debug)]
pub(crate) struct SecretTree {
    suite: Suite,
    size: TreeSize,
    config: RatchetConfig,
    /// Node secrets derived but not yet consumed.
    nodes: HashMap<NodeIndex, Secret>,
    /// Ratchets of the leaves whose secrets were consumed.
    leaves: HashMap<LeafIndex, LeafRatchets>,
}

impl SecretTree {
    /// A secret tree of `size` leaves rooted at `encryption_secret` (which it consumes).
    #[must_use]
    pub(crate) fn new(
        suite: Suite,
        encryption_secret: EncryptionSecret,
        size: TreeSize,
        config: RatchetConfig,
    ) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(size.root(), encryption_secret.0);
        Self {
            suite,
            size,
            config,
            nodes,
            leaves: HashMap::new(),
        }
    }

    /// The next key and nonce for sending as `leaf` (our own leaf), with their generation.
    /// Each is handed out once; the ratchet moves on.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for a leaf outside the tree;
    /// [`ApiMisuse::CounterExhausted`] after 2^32 - 1 messages.
    pub(crate) fn next_sending_key(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
    ) -> Result<(u32, AeadKey, AeadNonce)> {
        if !self.leaves.contains_key(&leaf) {
            let (ratchets, update) = self.derive_leaf(leaf)?;
            self.apply(update);
            self.leaves.insert(leaf, ratchets);
        }
        let ratchets = self
            .leaves
            .get_mut(&leaf)
            .ok_or(crate::error::Error::Internal("leaf ratchets"))?;
        ratchets.get_mut(kind).step(&self.suite)
    }

    /// Derives the key and nonce of `generation` of `leaf`'s ratchet without changing the
    /// tree: the ratchet involved is staged on a copy. [`SecretTree::commit_open`] deletes
    /// the keys and moves the ratchet once the caller accepted the whole message; dropping
    /// the staged open leaves the tree exactly as it was.
    ///
    /// # Errors
    /// [`Stale::GenerationConsumed`] for a generation already used or no longer kept;
    /// [`Stale::GenerationTooFarAhead`] beyond the forward distance;
    /// [`ApiMisuse::IndexOutOfRange`] for a leaf outside the tree.
    pub(crate) fn stage_open(
        &self,
        leaf: LeafIndex,
        kind: RatchetKind,
        generation: u32,
    ) -> Result<StagedOpen> {
        let (mut ratchet, derived) = match self.leaves.get(&leaf) {
            Some(r) => (
                match kind {
                    RatchetKind::Handshake => r.handshake.duplicate(),
                    RatchetKind::Application => r.application.duplicate(),
                },
                None,
            ),
            None => {
                let (
                    LeafRatchets {
                        handshake,
                        application,
                    },
                    update,
                ) = self.derive_leaf(leaf)?;
                let (staged, other) = match kind {
                    RatchetKind::Handshake => (handshake, application),
                    RatchetKind::Application => (application, handshake),
                };
                (staged, Some((update, other)))
            }
        };
        let (key, nonce) = ratchet.take(&self.suite, generation, &self.config)?;
        Ok(StagedOpen {
            leaf,
            kind,
            ratchet,
            derived,
            key,
            nonce,
        })
    }

    /// [`SecretTree::stage_open`], `open` on the key and nonce, then
    /// [`SecretTree::commit_open`] only if `open` succeeded (tests and vectors).
    ///
    /// # Errors
    /// As [`SecretTree::stage_open`]; whatever `open` returns.
    #[cfg(test)]
    pub(crate) fn open_with<T>(
        &mut self,
        leaf: LeafIndex,
        kind: RatchetKind,
        generation: u32,
        open: impl FnOnce(&AeadKey, &AeadNonce) -> Result<T>,
    ) -> Result<T> {
        let staged = self.stage_open(leaf, kind, generation)?;
        let out = open(staged.key(), staged.nonce())?;
        self.commit_open(staged);
        Ok(out)
    }

    /// Commits a [`SecretTree::stage_open`] of this tree: the generation's keys are deleted
    /// and the ratchet moved (RFC 9420 §9.2). Staged opens of one tree are committed at
    /// most one at a time, each right after it was staged.
    pub(crate) fn commit_open(&mut self, staged: StagedOpen) {
        let StagedOpen {
            leaf,
            kind,
            ratchet,
            derived,
            ..
        } = staged;
        if let Some((update, other)) = derived {
            self.apply(update);
            let ratchets = match kind {
                RatchetKind::Handshake => LeafRatchets {
                    handshake: ratchet,
                    application: other,
                },
                RatchetKind::Application => LeafRatchets {
                    handshake: other,
                    application: ratchet,
                },
            };
            self.leaves.insert(leaf, ratchets);
        } else if let Some(r) = self.leaves.get_mut(&leaf) {
            *r.get_mut(kind) = ratchet;
        }
    }

    /// Derives (without changing the tree) the ratchets of `leaf` from its lowest ancestor
    /// whose secret is still held, and the node secrets that derivation creates and consumes.
    fn derive_leaf(&self, leaf: LeafIndex) -> Result<(LeafRatchets, PathUpdate)> {
        if !self.size.contains_leaf(leaf) {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        let target = leaf.node();
        let mut path = vec![target];
        path.extend(self.size.direct_path(target)?);
        // The lowest node on the path whose secret we still hold.
        let top = path
            .iter()
            .position(|n| self.nodes.contains_key(n))
            .ok_or(Stale::GenerationConsumed)?;
        let mut update = PathUpdate::default();
        let mut node = *path
            .get(top)
            .ok_or(crate::error::Error::Internal("secret tree path"))?;
        let mut secret = self
            .nodes
            .get(&node)
            .ok_or(crate::error::Error::Internal("secret tree node"))?
            .duplicate();
        update.consumed.push(node);
        while node != target {
            let (Some(left), Some(right)) = (node.left(), node.right()) else {
                return Err(crate::error::Error::Internal("secret tree descent"));
            };
            let hl = self.suite.hash_len();
            let left_secret = self
                .suite
                .expand_with_label(&secret, b"tree", b"left", hl)?;
            let right_secret = self
                .suite
                .expand_with_label(&secret, b"tree", b"right", hl)?;
            // Descend towards the target; keep the other child for other senders.
            let toward_left = target < node;
            let (next, next_secret, other, other_secret) = if toward_left {
                (left, left_secret, right, right_secret)
            } else {
                (right, right_secret, left, left_secret)
            };
            update.created.push((other, other_secret));
            node = next;
            secret = next_secret;
        }
        let hl = self.suite.hash_len();
        let ratchets = LeafRatchets {
            handshake: Ratchet::new(self.suite.expand_with_label(
                &secret,
                b"handshake",
                &[],
                hl,
            )?),
            application: Ratchet::new(self.suite.expand_with_label(
                &secret,
                b"application",
                &[],
                hl,
            )?),
        };
        Ok((ratchets, update))
    }

    fn apply(&mut self, update: PathUpdate) {
        for n in update.consumed {
            self.nodes.remove(&n);
        }
        for (n, s) in update.created {
            self.nodes.insert(n, s);
        }
    }

    /// The number of leaves of the tree (to check a sender's leaf index against it).
    #[must_use]
    pub(crate) const fn size(&self) -> TreeSize {
        self.size
    }

    /// How many node secrets the tree holds (for tests of the deletion schedule).
    #[must_use]
    #[cfg(test)]
    pub(crate) fn held_node_secrets(&self) -> usize {
        self.nodes.len()
    }
}

#[cfg(test)]
mod tests;
