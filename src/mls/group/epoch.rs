//! The secrets of one epoch, and the bounded history of past epochs kept for late
//! application messages.

use std::collections::{HashMap, VecDeque};

use crate::crypto::{Secret, Suite};
use crate::error::{Result, Stale};
use crate::mls::key_schedule::{
    CommitSecret, ConfirmationKey, EpochAuthenticator, EpochSecret, ExporterSecret, ExternalSecret,
    InitSecret, IntermediateSecret, JoinerSecret, MembershipKey, PskSecret, ResumptionPsk,
    SenderDataSecret, WelcomeSecret,
};
use crate::mls::secret_tree::{RatchetConfig, SecretTree};
use crate::mls::tree::math::{LeafIndex, TreeSize};

/// The largest `MLS-Exporter` output meetkey produces, in bytes.
pub(crate) const MAX_EXPORT_LEN: usize = 64;

/// Everything derived from one epoch secret.
#[derive(Debug)]
pub(super) struct EpochKeys {
    pub(super) sender_data: SenderDataSecret,
    pub(super) exporter: ExporterSecret,
    pub(super) external: ExternalSecret,
    pub(super) confirmation_key: ConfirmationKey,
    pub(super) membership_key: MembershipKey,
    pub(super) resumption_psk: ResumptionPsk,
    pub(super) epoch_authenticator: EpochAuthenticator,
    pub(super) secret_tree: SecretTree,
    /// `init_secret` of the next epoch.
    pub(super) init_next: InitSecret,
}

/// The step of the key schedule into a new epoch (RFC 9420 §8): the joiner secret and the
/// PSK secret give the intermediate secret, which gives the `welcome_secret` and, with the
/// new GroupContext, the epoch's secrets. Every way into an epoch (creating a group,
/// committing, staging a received commit, joining from a Welcome, joining by external
/// commit, and dropping the secrets once removed) goes through it, and [`NextEpoch::keys`]
/// is the only caller of `EpochKeys::derive` (`.ci/layering` checks it).
#[derive(Debug)]
pub(super) struct NextEpoch(IntermediateSecret);

impl NextEpoch {
    /// From a joiner secret's bytes (a Welcome's GroupSecrets) and the PSK secret.
    pub(super) fn from_joiner(suite: &Suite, joiner: &Secret, psk: &PskSecret) -> Self {
        Self(IntermediateSecret::of(suite, joiner, psk))
    }

    /// From the previous epoch's `init_secret`, the commit secret, the PSK secret and the
    /// new GroupContext (encoded). Also returns the joiner secret, which a committer's
    /// Welcome carries to new members.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd GroupContext.
    pub(super) fn from_init(
        suite: &Suite,
        init: &InitSecret,
        commit: &CommitSecret,
        psk: &PskSecret,
        context: &[u8],
    ) -> Result<(Self, JoinerSecret)> {
        let joiner = init.joiner_secret(suite, commit, context)?;
        Ok((Self(joiner.intermediate(suite, psk)), joiner))
    }

    /// `welcome_secret` (RFC 9420 §8): the key of the Welcome's GroupInfo.
    ///
    /// # Errors
    /// Never for well-formed secrets.
    pub(super) fn welcome_secret(&self, suite: &Suite) -> Result<WelcomeSecret> {
        self.0.welcome_secret(suite)
    }

    /// The new epoch's secrets under the encoded GroupContext `context`, and its secret
    /// tree for `size` leaves.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd GroupContext.
    pub(super) fn keys(
        self,
        suite: &Suite,
        context: &[u8],
        size: TreeSize,
        ratchet: RatchetConfig,
    ) -> Result<EpochKeys> {
        EpochKeys::derive(suite, self.0.epoch_secret(suite, context)?, size, ratchet)
    }
}

impl EpochKeys {
    /// Derives the epoch's secrets (consuming the epoch secret) and its secret tree. Called
    /// from [`NextEpoch::keys`] only.
    fn derive(
        suite: &Suite,
        epoch_secret: EpochSecret,
        size: TreeSize,
        ratchet: RatchetConfig,
    ) -> Result<Self> {
        let (s, init_next) = epoch_secret.derive(suite)?;
        Ok(Self {
            sender_data: s.sender_data_secret,
            exporter: s.exporter_secret,
            external: s.external_secret,
            confirmation_key: s.confirmation_key,
            membership_key: s.membership_key,
            resumption_psk: s.resumption_psk,
            epoch_authenticator: s.epoch_authenticator,
            secret_tree: SecretTree::new(*suite, s.encryption_secret, size, ratchet),
            init_next,
        })
    }
}

/// What is kept of a past epoch: enough to decrypt and authenticate late application
/// messages, nothing to send with.
#[derive(Debug)]
pub(super) struct PastEpoch {
    pub(super) epoch: u64,
    /// The GroupContext of that epoch (signatures of its messages cover it).
    pub(super) context: crate::mls::wire::GroupContext,
    pub(super) sender_data: SenderDataSecret,
    pub(super) secret_tree: SecretTree,
    /// Signature keys, as of this epoch, of the leaves the next commit changed.
    pub(super) replaced_keys: HashMap<LeafIndex, Vec<u8>>,
}

/// The bounded history of past epochs, newest last.
#[derive(Debug, Default)]
pub(super) struct PastEpochs {
    epochs: VecDeque<PastEpoch>,
}

impl PastEpochs {
    /// Keeps `epoch`, dropping the oldest beyond `max`.
    pub(super) fn push(&mut self, epoch: PastEpoch, max: usize) {
        if max == 0 {
            return;
        }
        while self.epochs.len() >= max {
            self.epochs.pop_front();
        }
        self.epochs.push_back(epoch);
    }

    /// The retained epochs, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &PastEpoch> + '_ {
        self.epochs.iter()
    }

    /// For leaves changed by commits after epoch `epoch` (of epochs later than it), the
    /// signature key each had just before its first change: with the epoch's own
    /// `replaced_keys` first, this gives every leaf's key as of `epoch`; leaves in neither
    /// kept their key, which the current tree has.
    pub(super) fn keys_after(&self, epoch: u64) -> HashMap<LeafIndex, Vec<u8>> {
        let mut out = HashMap::new();
        for e in self.epochs.iter().filter(|e| e.epoch > epoch) {
            for (l, k) in &e.replaced_keys {
                out.entry(*l).or_insert_with(|| k.clone());
            }
        }
        out
    }

    /// The retained epoch `epoch`.
    ///
    /// # Errors
    /// [`Stale::PastEpoch`] when it is not retained.
    pub(super) fn get(&self, epoch: u64) -> Result<&PastEpoch> {
        self.epochs
            .iter()
            .find(|e| e.epoch == epoch)
            .ok_or_else(|| Stale::PastEpoch.into())
    }

    /// The retained epoch `epoch`, to change.
    ///
    /// # Errors
    /// [`Stale::PastEpoch`] when it is not retained.
    pub(super) fn get_mut(&mut self, epoch: u64) -> Result<&mut PastEpoch> {
        self.epochs
            .iter_mut()
            .find(|e| e.epoch == epoch)
            .ok_or_else(|| Stale::PastEpoch.into())
    }
}
