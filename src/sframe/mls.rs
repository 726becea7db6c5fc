//! SFrame keys from MLS (RFC 9605 §5.2): one `base_key` per epoch from the MLS exporter, one
//! KID per (context, sender, epoch), and a key store that keeps the last 2^E epochs.
//!
//! ```text
//!  base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)     (computed by the caller)
//!  KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
//!
//!   64-S-E bits   S bits   E bits
//!  +-------------+--------+-------+
//!  | Context ID  | Index  | Epoch |
//!  +-------------+--------+-------+
//! ```
//!
//! This module never sees an MLS group: the caller passes the exporter output of each epoch
//! as a [`BaseKey`]. Receiving keys are derived on the first frame that authenticates under
//! them and then cached per KID; our own KIDs are encryption-only (RFC 9605 §4.4.1).

use super::context::{open, Decrypted, Decryptor, Encryptor};
use super::replay::ReplayProtection;
use super::suite::{BaseKey, SframeSuite};
use crate::error::{ApiMisuse, Error, Result, Stale};

/// The exporter label of the SFrame base key (RFC 9605 §5.2).
pub(crate) const EXPORTER_LABEL: &[u8] = b"SFrame 1.0 Base Key";

/// The largest number of epoch bits `E` a [`KidLayout`] takes (65 536 live epochs).
pub(crate) const MAX_EPOCH_BITS: u32 = 16;

/// How a 64-bit KID is split into context, sender index and epoch (RFC 9605 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KidLayout {
    epoch_bits: u32,
    index_bits: u32,
}

impl KidLayout {
    /// `E` epoch bits and `S` index bits; the remaining `64 - S - E` bits hold the context.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidKidLayout`] when `E > 16`, `S > 32` (an MLS leaf index is 32 bits).
    pub const fn new(epoch_bits: u32, index_bits: u32) -> Result<Self> {
        if epoch_bits > MAX_EPOCH_BITS || index_bits > 32 {
            return Err(Error::ApiMisuse(ApiMisuse::InvalidKidLayout));
        }
        Ok(Self {
            epoch_bits,
            index_bits,
        })
    }

    /// `E` epoch bits and the smallest `S` with `group_size <= 1 << S`.
    ///
    /// # Errors
    /// As [`KidLayout::new`].
    #[cfg(test)]
    pub(crate) const fn for_group_size(epoch_bits: u32, group_size: u32) -> Result<Self> {
        let index_bits = match group_size.checked_next_power_of_two() {
            Some(p) => p.trailing_zeros(),
            None => 32,
        };
        Self::new(epoch_bits, index_bits)
    }

    /// `E`.
    #[must_use]
    pub(crate) const fn epoch_bits(&self) -> u32 {
        self.epoch_bits
    }

    /// `S`.
    #[must_use]
    pub(crate) const fn index_bits(&self) -> u32 {
        self.index_bits
    }

    /// How many epochs can be live at once: 2^E.
    #[must_use]
    pub(crate) const fn epoch_window(&self) -> u64 {
        1 << self.epoch_bits
    }

    const fn epoch_mask(&self) -> u64 {
        self.epoch_window() - 1
    }

    /// `KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))`.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] when `sender_index >= 2^S`;
    /// [`ApiMisuse::InvalidKidLayout`] when `context` does not fit in `64 - S - E` bits.
    pub(crate) fn kid(&self, context: u64, sender_index: u32, epoch: u64) -> Result<u64> {
        let low_bits = self.index_bits + self.epoch_bits;
        if u64::from(sender_index) >> self.index_bits != 0 {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        let context_part = match context.checked_shl(low_bits) {
            Some(c) if c >> low_bits == context => c,
            _ => return Err(ApiMisuse::InvalidKidLayout.into()),
        };
        Ok(context_part | u64::from(sender_index) << self.epoch_bits | epoch & self.epoch_mask())
    }

    /// The sender index and epoch low bits carried in `kid`.
    #[must_use]
    pub fn split(&self, kid: u64) -> (u32, u64) {
        let index = (kid >> self.epoch_bits) & ((1u64 << self.index_bits) - 1);
        // index < 2^S <= 2^32.
        (
            u32::try_from(index).unwrap_or(u32::MAX),
            kid & self.epoch_mask(),
        )
    }
}

/// One epoch's base key and the contexts already handed to an encryptor.
#[derive(Debug)]
struct Epoch {
    epoch: u64,
    base_key: BaseKey,
    issued_contexts: Vec<u64>,
}

/// An epoch [`KeyStore::prepare`]d for [`KeyStore::install`]: checked, its encryptor made.
#[derive(Debug)]
pub(crate) struct PreparedEpoch {
    epoch: u64,
    base_key: BaseKey,
    context: u64,
    encryptor: Encryptor,
}

/// The SFrame keys of one member of an MLS group, across epochs (RFC 9605 §5.2).
///
/// Keeps at most 2^E epochs: adding epoch `n` removes the epoch that held `n mod 2^E` (the RFC
/// MUST), and with it every cached receiving key of that epoch.
#[derive(Debug)]
pub struct KeyStore {
    suite: SframeSuite,
    layout: KidLayout,
    own_index: u32,
    epochs: Vec<Epoch>,
    newest: Option<u64>,
    decryptor: Decryptor,
}

impl PreparedEpoch {
    /// The epoch.
    pub(crate) const fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl KeyStore {
    /// A store for the member at leaf `own_index`, with `replay` protection per KID.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite);
    /// [`ApiMisuse::IndexOutOfRange`] when `own_index` does not fit in `S` bits;
    /// [`ApiMisuse::InvalidLength`] for a bad replay window.
    pub fn new(
        suite: SframeSuite,
        layout: KidLayout,
        own_index: u32,
        replay: ReplayProtection,
    ) -> Result<Self> {
        layout.kid(0, own_index, 0)?;
        Ok(Self {
            suite,
            layout,
            own_index,
            epochs: Vec::new(),
            newest: None,
            decryptor: Decryptor::with_replay_protection(suite, replay)?,
        })
    }

    /// The length of the exporter output to request: `AEAD.Nk` of the suite.
    ///
    /// # Errors
    /// Never for a constructed store.
    pub fn base_key_len(&self) -> Result<usize> {
        self.suite.base_key_len()
    }

    /// The epochs whose keys are held, in no particular order.
    pub fn epochs(&self) -> impl Iterator<Item = u64> + '_ {
        self.epochs.iter().map(|e| e.epoch)
    }

    /// Installs the base key of `epoch` (the exporter output, `AEAD.Nk` bytes).
    ///
    /// Removes the epoch that held the same low `E` bits, with all its keys, and any epoch
    /// 2^E or more older than the newest one (after a jump), so at most the last 2^E epochs
    /// are held.
    ///
    /// # Errors
    /// [`Stale::EpochRetired`] when `epoch` is not newer than the epoch holding its low bits,
    /// or at least 2^E older than the newest epoch; [`ApiMisuse::InvalidLength`] when the
    /// base key is not `AEAD.Nk` bytes. The store is unchanged on error.
    pub fn add_epoch(&mut self, epoch: u64, base_key: BaseKey) -> Result<()> {
        self.check_add(epoch, &base_key)?;
        self.insert(epoch, base_key, Vec::new());
        Ok(())
    }

    /// Checks that [`KeyStore::add_epoch`] would accept `epoch` with `base_key`.
    fn check_add(&self, epoch: u64, base_key: &BaseKey) -> Result<()> {
        if base_key.len() != self.base_key_len()? {
            return Err(ApiMisuse::InvalidLength.into());
        }
        if let Some(newest) = self.newest {
            if epoch.saturating_add(self.layout.epoch_window()) <= newest {
                return Err(Stale::EpochRetired.into());
            }
        }
        let low = epoch & self.layout.epoch_mask();
        if let Some(i) = self.slot(low) {
            if self.epochs.get(i).is_some_and(|e| e.epoch >= epoch) {
                return Err(Stale::EpochRetired.into());
            }
        }
        Ok(())
    }

    /// Everything fallible of adding `epoch` and taking our encryptor for `context` in it,
    /// done without changing the store: [`KeyStore::install`] then cannot fail, so a caller
    /// can stage the media keys of an epoch before it commits to that epoch.
    ///
    /// # Errors
    /// As [`KeyStore::add_epoch`] and [`KeyStore::encryptor`].
    pub(crate) fn prepare(
        &self,
        epoch: u64,
        base_key: BaseKey,
        context: u64,
    ) -> Result<PreparedEpoch> {
        self.check_add(epoch, &base_key)?;
        let kid = self.layout.kid(context, self.own_index, epoch)?;
        let encryptor = Encryptor::new(self.suite, kid, &base_key)?;
        Ok(PreparedEpoch {
            epoch,
            base_key,
            context,
            encryptor,
        })
    }

    /// Adds a prepared epoch (nothing can fail any more) and returns its encryptor.
    pub(crate) fn install(&mut self, prepared: PreparedEpoch) -> Encryptor {
        let PreparedEpoch {
            epoch,
            base_key,
            context,
            encryptor,
        } = prepared;
        self.insert(epoch, base_key, vec![context]);
        encryptor
    }

    /// The epochs held with their base keys, oldest first.
    pub(crate) fn base_keys(&self) -> Vec<(u64, &BaseKey)> {
        let mut keys: Vec<(u64, &BaseKey)> =
            self.epochs.iter().map(|e| (e.epoch, &e.base_key)).collect();
        keys.sort_unstable_by_key(|(e, _)| *e);
        keys
    }

    /// Inserts a checked epoch, replacing the one with the same low bits and dropping those
    /// that fell out of the window.
    fn insert(&mut self, epoch: u64, base_key: BaseKey, issued_contexts: Vec<u64>) {
        let low = epoch & self.layout.epoch_mask();
        if let Some(i) = self.slot(low) {
            self.drop_slot(i, low);
        }
        self.epochs.push(Epoch {
            epoch,
            base_key,
            issued_contexts,
        });
        let newest = self.newest.map_or(epoch, |n| n.max(epoch));
        self.newest = Some(newest);
        // After a jump of more than one epoch, epochs that fell out of the window go too.
        while let Some(i) = self
            .epochs
            .iter()
            .position(|e| e.epoch.saturating_add(self.layout.epoch_window()) <= newest)
        {
            let low = self
                .epochs
                .get(i)
                .map_or(0, |e| e.epoch & self.layout.epoch_mask());
            self.drop_slot(i, low);
        }
    }

    /// Deletes `epoch` and its keys (e.g. once no frame of it can be in flight); returns
    /// whether it was held.
    pub fn remove_epoch(&mut self, epoch: u64) -> bool {
        let low = epoch & self.layout.epoch_mask();
        match self.slot(low) {
            Some(i) if self.epochs.get(i).is_some_and(|e| e.epoch == epoch) => {
                self.drop_slot(i, low);
                true
            }
            _ => false,
        }
    }

    /// The encryptor of our own sender KID in `epoch` for `context` (0 gives the shortest KID).
    ///
    /// Each (epoch, context) is handed out once, since a second encryptor would restart at
    /// CTR 0 and reuse nonces.
    ///
    /// # Errors
    /// [`Stale::UnknownKeyId`] when the epoch is not held;
    /// [`ApiMisuse::EncryptionKeyInUse`] when this (epoch, context) was already issued;
    /// [`ApiMisuse::InvalidKidLayout`] when `context` does not fit.
    pub fn encryptor(&mut self, epoch: u64, context: u64) -> Result<Encryptor> {
        let kid = self.layout.kid(context, self.own_index, epoch)?;
        let i = self
            .slot(epoch & self.layout.epoch_mask())
            .filter(|&i| self.epochs.get(i).is_some_and(|e| e.epoch == epoch))
            .ok_or(Stale::UnknownKeyId)?;
        let entry = self.epochs.get_mut(i).ok_or(Stale::UnknownKeyId)?;
        if entry.issued_contexts.contains(&context) {
            return Err(ApiMisuse::EncryptionKeyInUse.into());
        }
        let encryptor = Encryptor::new(self.suite, kid, &entry.base_key)?;
        entry.issued_contexts.push(context);
        Ok(encryptor)
    }

    /// Decrypts a frame of another member (see [`Decryptor::decrypt`] for the buffer contract).
    ///
    /// The first frame of a KID derives its key from the epoch's base key; the key is kept
    /// only if that frame authenticates, so forged frames leave the store unchanged.
    ///
    /// # Errors
    /// As [`Decryptor::decrypt`]; [`Stale::UnknownKeyId`] also when the KID names our own
    /// index (our keys are encryption-only) or an epoch that is not held.
    pub fn decrypt(&mut self, metadata: &[u8], frame: &[u8], out: &mut [u8]) -> Result<Decrypted> {
        let parsed = self.decryptor.parse(frame)?;
        let kid = parsed.header.kid;
        if let Some(state) = self.decryptor.key_mut(kid) {
            return open(state, &parsed, metadata, out);
        }
        let mut state = self
            .decryptor
            .key_state(kid, self.receiving_base_key(kid)?)?;
        let decrypted = open(&mut state, &parsed, metadata, out)?;
        self.decryptor.insert(kid, state);
        Ok(decrypted)
    }

    /// The replay state of every sender KID that accepted a frame: `(kid, top, seen)`, for
    /// a saved state (a restarted client must not accept a replay of what it accepted).
    pub(crate) fn replay_states(&self) -> Vec<(u64, u64, super::replay::ReplayBitmap)> {
        self.decryptor.replay_states()
    }

    /// Restores the replay state of `kid` (its key derived again from its epoch's base key).
    ///
    /// # Errors
    /// [`Stale::UnknownKeyId`] when the KID names our own index or an epoch not held.
    pub(crate) fn restore_replay_state(
        &mut self,
        kid: u64,
        top: u64,
        seen: super::replay::ReplayBitmap,
    ) -> Result<()> {
        let state = self
            .decryptor
            .key_state(kid, self.receiving_base_key(kid)?)?;
        let state = self.decryptor.with_window(state, top, seen);
        self.decryptor.insert(kid, state);
        Ok(())
    }

    /// The base key another member's `kid` derives its key from.
    ///
    /// # Errors
    /// [`Stale::UnknownKeyId`] when the KID names our own index (our keys are
    /// encryption-only) or an epoch that is not held.
    fn receiving_base_key(&self, kid: u64) -> Result<&BaseKey> {
        let (index, low) = self.layout.split(kid);
        if index == self.own_index {
            return Err(Stale::UnknownKeyId.into());
        }
        self.slot(low)
            .and_then(|i| self.epochs.get(i))
            .map(|e| &e.base_key)
            .ok_or_else(|| Stale::UnknownKeyId.into())
    }

    fn slot(&self, low: u64) -> Option<usize> {
        let mask = self.layout.epoch_mask();
        self.epochs.iter().position(|e| e.epoch & mask == low)
    }

    fn drop_slot(&mut self, i: usize, low: u64) {
        if i < self.epochs.len() {
            self.epochs.swap_remove(i);
        }
        let mask = self.layout.epoch_mask();
        self.decryptor.retain(|kid| kid & mask != low);
    }
}
