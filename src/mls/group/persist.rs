//! Saving and restoring a group, so a client restart loses nothing.
//!
//! ```text
//!  "MKGS" | u16 version=2 | GroupContext | RatchetTree | u32 own_leaf | u8 active
//!  | signer seed | tree private keys | epoch secrets + secret tree | interim hash | tag
//!  | proposals (ref, proposal, sender, u8 admitted) | past epochs | external PSKs
//!  | resumption PSKs | u8 reinitialized
//!  | u8 has_pending [ opaque auth<V> | u8 has_path [ opaque leaf_secret<V> ] ]     (v3)
//! ```
//!
//! Version 1 (no `admitted` flag, no `reinitialized`) is still read: a stored proposal of
//! version 1 is admitted as it would be on receipt (our own, a member's leave or Update).
//! Version 2 has no pending commit.
//!
//! Our pending commit is saved as its signed content and the `path_secret[0]` of its
//! UpdatePath; restoring stages it again exactly as a receiver stages a commit (every check
//! runs), with our own path keys derived from that secret, so the delivery service's echo
//! after a restart merges it.
//!
//! The state holds every secret of the group: it comes back in a buffer that zeroizes
//! itself on drop, and must be stored encrypted (e.g. in the platform keystore). A pending
//! commit is saved with it (see above). Restoring checks the format and
//! bounds everything, like any decoder; it does not trust the bytes more than the network's.

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::codec::{Decode, Encode, Reader, Writer};
use crate::crypto::{HpkePrivateKey, Secret, SignaturePrivateKey, Suite, MAX_SECRET_LEN};
use crate::error::{InvalidMessage, Result};
use crate::mls::key_schedule::{
    ConfirmationKey, EpochAuthenticator, ExporterSecret, ExternalSecret, InitSecret, MembershipKey,
    ResumptionPsk, SenderDataSecret,
};
use crate::mls::secret_tree::SecretTree;
use crate::mls::tree::math::{LeafIndex, NodeIndex};
use crate::mls::tree::PathSecret;
use crate::mls::tree::{RatchetTree, TreePrivateKeys};
use crate::mls::wire::{
    self, AuthenticatedContent, FramedContentBody, GroupContext, Proposal, Sender, MAX_VEC_LEN,
};

use super::epoch::{EpochKeys, PastEpoch, PastEpochs};
use super::process::{OwnCommitSource, StagedCommit};
use super::{Group, GroupConfig, PendingProposal};

const MAGIC: &[u8; 4] = b"MKGS";
/// The current version of the saved-state format.
pub(crate) const STATE_VERSION: u16 = 3;

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn read_flag(r: &mut Reader<'_>) -> Result<bool> {
    match r.read_u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(InvalidMessage::InvalidValue.into()),
    }
}

fn read_secret(r: &mut Reader<'_>) -> Result<Secret> {
    Secret::from_slice(r.read_opaque(MAX_SECRET_LEN)?)
        .map_err(|_| InvalidMessage::InvalidValue.into())
}

impl Group {
    /// The group's whole state, to persist (encrypted) and restore with
    /// [`Group::from_bytes`], our pending commit included.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd group.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let mut w = Writer::with_capacity(4096 + self.tree.size().width() as usize * 256);
        w.write_raw(MAGIC);
        w.write_u16(STATE_VERSION);
        self.context.encode(&mut w);
        self.tree.to_wire().encode(&mut w);
        w.write_u32(self.own_leaf.0);
        w.write_u8(u8::from(self.active));
        self.signer.write_seed_to(&mut w);
        let keys = self.keys.nodes();
        w.write_u32(count(keys.len()));
        for (n, sk) in keys {
            w.write_u32(n.0);
            sk.write_to(&mut w);
        }
        let pending = self.keys.pending();
        w.write_u32(count(pending.len()));
        for (pk, sk) in pending {
            w.write_opaque(pk);
            sk.write_to(&mut w);
        }
        write_epoch(&self.epoch, &mut w);
        w.write_opaque(&self.interim_transcript_hash);
        w.write_opaque(&self.confirmation_tag);
        w.write_u32(count(self.proposals.len()));
        for p in &self.proposals {
            w.write_opaque(&p.reference);
            p.proposal.0.encode(&mut w);
            p.sender.encode(&mut w);
            w.write_u8(u8::from(p.admitted));
        }
        self.write_past_and_psks(&mut w);
        w.write_u8(u8::from(self.reinitialized));
        match self
            .pending_commit
            .as_ref()
            .and_then(|p| p.own_source.as_ref())
        {
            None => w.write_u8(0),
            Some(source) => {
                w.write_u8(1);
                w.write_opaque(&source.auth);
                match &source.leaf_secret {
                    None => w.write_u8(0),
                    Some(s) => {
                        w.write_u8(1);
                        s.0.write_opaque_to(&mut w);
                    }
                }
            }
        }
        let overflow = w.overflowed();
        let bytes = Zeroizing::new(w.into_bytes().unwrap_or_default());
        if overflow {
            return Err(crate::error::ApiMisuse::EncodingOverflow.into());
        }
        Ok(bytes)
    }

    /// The retained past epochs (context, sender-data secret, secret tree, leaves whose
    /// signature key a later commit replaced) and the PSKs, in a canonical order.
    fn write_past_and_psks(&self, w: &mut Writer) {
        let past = self.past.iter().collect::<Vec<_>>();
        w.write_u32(count(past.len()));
        for e in past {
            w.write_u64(e.epoch);
            e.context.encode(w);
            e.sender_data.0.write_opaque_to(w);
            e.secret_tree.write_state(w);
            let mut replaced: Vec<_> = e.replaced_keys.iter().collect();
            replaced.sort_by_key(|(l, _)| **l);
            w.write_u32(count(replaced.len()));
            for (l, k) in replaced {
                w.write_u32(l.0);
                w.write_opaque(k);
            }
        }
        let mut psks: Vec<_> = self.external_psks.iter().collect();
        psks.sort_by(|a, b| a.0.cmp(b.0));
        w.write_u32(count(psks.len()));
        for (id, s) in psks {
            w.write_opaque(id);
            s.write_opaque_to(w);
        }
        w.write_u32(count(self.resumption_psks.len()));
        for (e, s) in &self.resumption_psks {
            w.write_u64(*e);
            s.write_opaque_to(w);
        }
    }

    /// Restores a group saved by [`Group::to_bytes`], with the application's `config`.
    ///
    /// # Errors
    /// [`InvalidMessage`] for bytes that are not a valid saved state (wrong magic, unknown
    /// version, truncated, out of range); [`Unsupported`](crate::error::Unsupported) for an
    /// unknown cipher suite.
    pub fn from_bytes(config: GroupConfig, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(4)? != MAGIC {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let version = r.read_u16()?;
        if !matches!(version, 1 | 2 | STATE_VERSION) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let context = GroupContext::decode(&mut r)?;
        let suite = context.cipher_suite.suite()?;
        let tree = RatchetTree::from_wire(suite, &wire::RatchetTree::decode(&mut r)?)?;
        if tree.root_hash().as_bytes() != context.tree_hash.as_slice() {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let own_leaf = LeafIndex(r.read_u32()?);
        let active = read_flag(&mut r)?;
        if active && tree.leaf(own_leaf).is_none() {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let signer = SignaturePrivateKey::from_seed(r.read_opaque(MAX_SECRET_LEN)?)?;
        let keys = read_private_keys(&mut r, &tree, own_leaf)?;
        let epoch = read_epoch(suite, &config, &mut r)?;
        if epoch.secret_tree.size() != tree.size() {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let interim_transcript_hash = r.read_opaque(MAX_SECRET_LEN)?.to_vec();
        let confirmation_tag = r.read_opaque(MAX_SECRET_LEN)?.to_vec();
        let proposals = read_proposals(&mut r, version, own_leaf)?;
        let past = read_past_epochs(&mut r, suite, &config)?;
        let n_psks = r.read_u32()?;
        let mut external_psks = HashMap::new();
        for _ in 0..n_psks {
            let id = r.read_opaque(MAX_VEC_LEN)?.to_vec();
            external_psks.insert(id, read_secret(&mut r)?);
        }
        let n_resumption = r.read_u32()?;
        let mut resumption_psks = Vec::new();
        for _ in 0..n_resumption {
            resumption_psks.push((r.read_u64()?, read_secret(&mut r)?));
        }
        let reinitialized = version != 1 && read_flag(&mut r)?;
        let pending = if version >= 3 && read_flag(&mut r)? {
            let auth = r.read_opaque(MAX_VEC_LEN)?.to_vec();
            let leaf_secret = if read_flag(&mut r)? {
                Some(PathSecret(read_secret(&mut r)?))
            } else {
                None
            };
            Some(OwnCommitSource { auth, leaf_secret })
        } else {
            None
        };
        r.finish()?;
        let mut group = Self {
            suite,
            config,
            context,
            tree,
            own_leaf,
            signer,
            keys,
            epoch,
            interim_transcript_hash,
            confirmation_tag,
            proposals,
            pending_commit: None,
            past,
            signature_keys: HashMap::new(),
            external_psks,
            resumption_psks,
            active,
            reinitialized,
        };
        if let Some(source) = pending {
            group.pending_commit = Some(group.restage_own_commit(source)?);
        }
        Ok(group)
    }

    /// Our pending commit staged again from what a saved state kept of it: every check a
    /// receiver runs, with our path keys derived from its `path_secret[0]`.
    ///
    /// # Errors
    /// [`InvalidMessage::InvalidValue`] when the saved content is not a commit of ours in
    /// this epoch; what staging it finds wrong.
    fn restage_own_commit(&self, source: OwnCommitSource) -> Result<StagedCommit> {
        let auth = AuthenticatedContent::decode_exact(&source.auth)?;
        let FramedContentBody::Commit(commit) = &auth.content.body else {
            return Err(InvalidMessage::InvalidValue.into());
        };
        if auth.content.sender != Sender::Member(self.own_leaf.0)
            || auth.content.epoch != self.context.epoch
            || auth.content.group_id != self.context.group_id
        {
            return Err(InvalidMessage::InvalidValue.into());
        }
        // Our own signature, checked as a receiver checks it: only verified content stages.
        let own_key = crate::crypto::SignaturePublicKey::from_bytes(
            &self
                .tree
                .leaf(self.own_leaf)
                .ok_or(InvalidMessage::InvalidValue)?
                .signature_key,
        )?;
        let commit = commit.clone();
        let auth = crate::mls::framing::verify_content(&self.suite, &own_key, auth, &self.context)?;
        let mut staged = self.stage_commit(&auth, &commit, source.leaf_secret.as_ref())?;
        staged.own_source = Some(source);
        Ok(staged)
    }
}

/// Our private keys: the node keys (each of a node of `tree`) and the pending leaf keys.
fn read_private_keys(
    r: &mut Reader<'_>,
    tree: &RatchetTree,
    own_leaf: LeafIndex,
) -> Result<TreePrivateKeys> {
    let n_keys = r.read_u32()?;
    let mut keys = Vec::new();
    for _ in 0..n_keys {
        let n = NodeIndex(r.read_u32()?);
        if !tree.size().contains(n) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        keys.push((
            n,
            HpkePrivateKey::from_slice(r.read_opaque(MAX_SECRET_LEN)?)?,
        ));
    }
    let n_pending = r.read_u32()?;
    let mut pending = Vec::new();
    for _ in 0..n_pending {
        let pk = r.read_opaque(MAX_SECRET_LEN)?.to_vec();
        pending.push((
            pk,
            HpkePrivateKey::from_slice(r.read_opaque(MAX_SECRET_LEN)?)?,
        ));
    }
    Ok(TreePrivateKeys::from_nodes(own_leaf, keys, pending))
}

/// The stored proposals; version 1 states had no admission flag, so it is recomputed.
fn read_proposals(
    r: &mut Reader<'_>,
    version: u16,
    own_leaf: LeafIndex,
) -> Result<Vec<PendingProposal>> {
    let n_proposals = r.read_u32()?;
    let mut proposals = Vec::new();
    for _ in 0..n_proposals {
        let reference = r.read_opaque(MAX_SECRET_LEN)?.to_vec();
        let proposal = Proposal::decode(r)?;
        let sender = Sender::decode(r)?;
        let admitted = if version == 1 {
            sender == Sender::Member(own_leaf.0)
                || super::proposals::admitted_on_receipt(&proposal, sender)
        } else {
            read_flag(r)?
        };
        proposals.push(PendingProposal {
            reference,
            proposal: crate::mls::Proposal(proposal),
            sender,
            admitted,
        });
    }
    Ok(proposals)
}

/// The retained past epochs, oldest first.
fn read_past_epochs(r: &mut Reader<'_>, suite: Suite, config: &GroupConfig) -> Result<PastEpochs> {
    let n_past = r.read_u32()?;
    let mut past = PastEpochs::default();
    for _ in 0..n_past {
        let e = u64::decode(r)?;
        let context = GroupContext::decode(r)?;
        let sender_data = SenderDataSecret(read_secret(r)?);
        let secret_tree = SecretTree::read_state(suite, config.ratchet, r)?;
        let n_replaced = r.read_u32()?;
        let mut replaced_keys = HashMap::new();
        for _ in 0..n_replaced {
            let l = LeafIndex(r.read_u32()?);
            replaced_keys.insert(l, r.read_opaque(MAX_VEC_LEN)?.to_vec());
        }
        past.push(
            PastEpoch {
                epoch: e,
                context,
                sender_data,
                secret_tree,
                replaced_keys,
            },
            usize::MAX,
        );
    }
    Ok(past)
}

fn write_epoch(e: &EpochKeys, w: &mut Writer) {
    for s in [
        &e.sender_data.0,
        &e.exporter.0,
        &e.external.0,
        &e.confirmation_key.0,
        &e.membership_key.0,
        &e.resumption_psk.0,
        &e.epoch_authenticator.0,
        &e.init_next.0,
    ] {
        s.write_opaque_to(w);
    }
    e.secret_tree.write_state(w);
}

fn read_epoch(suite: Suite, config: &GroupConfig, r: &mut Reader<'_>) -> Result<EpochKeys> {
    Ok(EpochKeys {
        sender_data: SenderDataSecret(read_secret(r)?),
        exporter: ExporterSecret(read_secret(r)?),
        external: ExternalSecret(read_secret(r)?),
        confirmation_key: ConfirmationKey(read_secret(r)?),
        membership_key: MembershipKey(read_secret(r)?),
        resumption_psk: ResumptionPsk(read_secret(r)?),
        epoch_authenticator: EpochAuthenticator(read_secret(r)?),
        init_next: InitSecret(read_secret(r)?),
        secret_tree: SecretTree::read_state(suite, config.ratchet, r)?,
    })
}
