//! Media keys of a meeting: one SFrame base key per epoch from the MLS exporter (RFC 9605
//! §5.2), kept for the last 2^E - 1 epochs and at most [`MeetingConfig::old_epoch_retention`]
//! seconds after the meeting left them, so frames sent just before a commit still decrypt.
//!
//! ```text
//!  epoch n: base_key_n = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)
//!           KeyStore.add_epoch(n, base_key_n)      (drops epoch n - 2^E + 1 as well)
//!           encryptor[stream] = KID(context(instance, stream), own_leaf, n)
//!  epoch n - 1 retired at `now`; dropped at now + old_epoch_retention
//! ```
//!
//! **One slot stays free.** Holding 2^E - 1 epochs rather than 2^E leaves the KID slot of
//! epoch n+1 empty while the meeting is at epoch n, so a frame of the next epoch that
//! arrives before its commit is told apart from a frame of a retained epoch, and held until
//! the epoch arrives (`early_frames.rs`) instead of failing to authenticate under an old key.
//!
//! [`Media::write`] persists the base keys of the retained epochs (a restored client can no
//! longer compute past epochs' exporter output), when each was retired, and the replay
//! window of every sender KID, so a relay cannot replay to a restarted client what it
//! already accepted.
//!
//! **No (key, nonce) twice across restores.** An SFrame key is a function of the epoch's
//! base key and the KID (RFC 9605 §4.4.2), the nonce a function of that key and the CTR. A
//! fresh state (create, join) sends with instance 0. Every restore draws a fresh random
//! instance of [`RESTORE_CONTEXT_BITS`] bits (never 0, never the saved one) and keeps it for
//! the life of the restored instance, in this epoch and every later one; every stream's
//! KID context holds the instance (`media_stream.rs`). So two instances never share a
//! sending key unless two restores draw the same number: at most one chance in 2^32 per
//! pair of restores of one snapshot, whatever the counters were, even when one snapshot is
//! restored many times or on two devices. The counters themselves need not be saved.

use crate::crypto::{Rng, Secret};
use crate::error::{ApiMisuse, Error, Result, Stale};
use crate::mls::group::Group;
use crate::sframe::{
    BaseKey, Encryptor, Header, KeyStore, KidLayout, PreparedEpoch, SframeSuite, EXPORTER_LABEL,
};

use super::early_frames::{EarlyFrame, HeldFrames};
use super::media_ext::{media_of, MediaParams};
use super::media_stream::{FrameInfo, MediaStream, STREAMS, STREAM_BITS};
use super::MeetingConfig;

mod persist;

/// How many random bits a restored instance number has (fewer when the KID layout leaves
/// fewer than 32 bits for it; a restore refuses layouts with fewer than
/// [`MIN_RESTORE_CONTEXT_BITS`]).
pub(super) const RESTORE_CONTEXT_BITS: u32 = 32;
/// The fewest instance bits a restore accepts: below this, two restores of one snapshot
/// would share a sending key too often.
pub(super) const MIN_RESTORE_CONTEXT_BITS: u32 = 16;

/// How many bits of the KID context are left for the instance number under `layout`.
pub(super) const fn instance_bits(layout: KidLayout) -> u32 {
    64u32
        .saturating_sub(layout.index_bits())
        .saturating_sub(layout.epoch_bits())
        .saturating_sub(STREAM_BITS)
}

/// Whether a meeting can use `layout`: every stream of every restored instance must fit.
pub(super) const fn layout_fits_meetings(layout: KidLayout) -> bool {
    instance_bits(layout) >= MIN_RESTORE_CONTEXT_BITS
}

/// A random instance number for a restored instance: nonzero, not `saved`, fitting `layout`.
fn fresh_instance(layout: KidLayout, saved: u64, rng: &mut impl Rng) -> Result<u64> {
    let bits = instance_bits(layout).min(RESTORE_CONTEXT_BITS);
    if bits < MIN_RESTORE_CONTEXT_BITS {
        return Err(ApiMisuse::InvalidKidLayout.into());
    }
    let mask = (1u64 << bits) - 1;
    // Two draws are refused with probability at most 2^-15 each: 64 failures mean the RNG
    // is broken, and a broken RNG must not hang the restore.
    for _ in 0..64 {
        let c = rng.next_u64() & mask;
        if c != 0 && c != saved {
            return Ok(c);
        }
    }
    Err(Error::Internal("the RNG repeats itself"))
}

/// The media keys of an epoch, staged before the meeting moves to it ([`Media::stage`]):
/// the next epoch under the same parameters, or all new media state when a commit changed
/// the meeting's media parameters.
#[derive(Debug)]
pub(super) enum StagedMedia {
    Next(Box<PreparedEpoch>),
    Replaced(Box<Media>),
}

/// What installing an epoch did with the frames held for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Released {
    /// Held frames that authenticated under the new epoch (now in the released queue).
    pub(super) released: u32,
    /// Held frames that did not (forged, or not of this epoch).
    pub(super) refused: u32,
}

/// The SFrame state of a meeting member.
#[derive(Debug)]
pub(super) struct Media {
    suite: SframeSuite,
    layout: KidLayout,
    keys: KeyStore,
    own_index: u32,
    /// The instance number in our KID contexts: 0, or random after a restore.
    instance: u64,
    /// The epoch we send in (`None` after leaving).
    current: Option<u64>,
    /// Our encryptor per stream in the current epoch, made on the stream's first frame.
    encryptors: Vec<Option<Encryptor>>,
    /// Retained past epochs and when the meeting left them (`None`: not known yet, stamped
    /// by the next call that brings the time).
    retired: Vec<(u64, Option<u64>)>,
    /// Seconds a past epoch is kept.
    retention: u64,
    early: HeldFrames,
}

impl Media {
    /// The media of `group`'s member under the meeting's media parameters (the local
    /// `config`'s for a meeting created before meetings carried them).
    pub(super) fn new(config: &MeetingConfig, group: &Group, instance: u64) -> Result<Self> {
        let params = match media_of(&group.context().extensions)? {
            Some(p) => p,
            None => MediaParams::from_config(config)?,
        };
        let mut media = Self::empty(params, config, group.own_leaf().0, instance)?;
        let staged = media.stage(group.epoch(), |label, len| {
            group.export_secret(label, b"", len)
        })?;
        if let StagedMedia::Next(prepared) = staged {
            media.enter(*prepared);
        }
        Ok(media)
    }

    fn empty(
        params: MediaParams,
        config: &MeetingConfig,
        own_index: u32,
        instance: u64,
    ) -> Result<Self> {
        // Every stream of this instance must fit the layout.
        let last = STREAMS.saturating_sub(1);
        let last = MediaStream::new(u8::try_from(last).unwrap_or(u8::MAX))?;
        params.layout.kid(last.context(instance), own_index, 0)?;
        Ok(Self {
            suite: params.suite,
            layout: params.layout,
            keys: KeyStore::new(params.suite, params.layout, own_index, config.replay)?,
            own_index,
            instance,
            current: None,
            encryptors: (0..STREAMS).map(|_| None).collect(),
            retired: Vec::new(),
            retention: config.old_epoch_retention,
            early: HeldFrames::default(),
        })
    }

    /// The suite and layout in use.
    pub(super) const fn params(&self) -> MediaParams {
        MediaParams {
            suite: self.suite,
            layout: self.layout,
        }
    }

    /// How many epochs are held at most: 2^E - 1, so the next epoch's slot stays free
    /// (one when E = 0).
    fn max_epochs(&self) -> usize {
        let window = usize::try_from(self.layout.epoch_window()).unwrap_or(usize::MAX);
        window.saturating_sub(1).max(1)
    }

    /// As [`Media::stage`] for an epoch whose media parameters are `params`, different from
    /// ours: new media state, the old epochs' keys dropped (frames still in flight under
    /// them are lost, as when they leave the window).
    pub(super) fn stage_replaced(
        &self,
        params: MediaParams,
        config: &MeetingConfig,
        epoch: u64,
        exporter: impl FnOnce(&[u8], usize) -> Result<Secret>,
    ) -> Result<StagedMedia> {
        let mut media = Self::empty(params, config, self.own_index, self.instance)?;
        if let StagedMedia::Next(prepared) = media.stage(epoch, exporter)? {
            media.enter(*prepared);
        }
        Ok(StagedMedia::Replaced(Box::new(media)))
    }

    /// Everything fallible of moving media to `epoch`, whose exporter is `exporter`: its
    /// base key and our audio encryptor, made without changing anything. The meeting stages
    /// this before it merges a commit, so that an error leaves group and media as they were.
    pub(super) fn stage(
        &self,
        epoch: u64,
        exporter: impl FnOnce(&[u8], usize) -> Result<Secret>,
    ) -> Result<StagedMedia> {
        let len = self.keys.base_key_len()?;
        let base_key = BaseKey::from_secret(exporter(EXPORTER_LABEL, len)?);
        Ok(StagedMedia::Next(Box::new(self.keys.prepare(
            epoch,
            base_key,
            MediaStream::AUDIO.context(self.instance),
        )?)))
    }

    /// Moves to a prepared epoch: the current one becomes a past epoch.
    fn enter(&mut self, prepared: PreparedEpoch) -> Option<u64> {
        let left = self.current.replace(prepared.epoch());
        let audio = self.keys.install(prepared);
        for e in &mut self.encryptors {
            *e = None;
        }
        if let Some(slot) = self.encryptors.get_mut(MediaStream::AUDIO.slot()) {
            *slot = Some(audio);
        }
        left
    }

    /// Installs a staged epoch (cannot fail): the epoch the meeting left is kept for the
    /// retention time (its clock starts at the next call that brings the time: a frame
    /// decrypt or a rotation check), the oldest beyond 2^E - 1 go, and the frames held for
    /// the new epoch are decrypted.
    pub(super) fn install(&mut self, staged: StagedMedia) -> Released {
        match staged {
            StagedMedia::Next(prepared) => {
                if let Some(left) = self.enter(*prepared) {
                    self.retired.push((left, None));
                }
            }
            StagedMedia::Replaced(media) => {
                let early = std::mem::take(&mut self.early);
                *self = *media;
                self.early = early;
            }
        }
        while self.keys.epochs().count() > self.max_epochs() {
            let oldest = self.keys.epochs().min();
            if let Some(e) = oldest {
                self.keys.remove_epoch(e);
            }
        }
        let keys = &self.keys;
        self.retired.retain(|(e, _)| keys.epochs().any(|k| k == *e));
        self.release_early()
    }

    /// Drops past epochs retired `retention` seconds or more before `now`, and held frames
    /// that waited as long; stamps past epochs whose retirement time was not known.
    pub(super) fn expire(&mut self, now: u64) {
        let keys = &self.keys;
        self.retired.retain(|(e, _)| keys.epochs().any(|k| k == *e));
        let retention = self.retention;
        let mut expired = Vec::new();
        for (epoch, at) in &mut self.retired {
            let at = *at.get_or_insert(now);
            if at.saturating_add(retention) <= now {
                expired.push(*epoch);
            }
        }
        for e in expired {
            self.keys.remove_epoch(e);
        }
        let keys = &self.keys;
        self.retired.retain(|(e, _)| keys.epochs().any(|k| k == *e));
        self.early.expire(now, retention);
    }

    /// Decrypts the frames held for the current epoch into the released queue.
    fn release_early(&mut self) -> Released {
        let Some(current) = self.current else {
            return Released::default();
        };
        let low = current & self.layout.epoch_window().saturating_sub(1);
        let (frames, dropped) = self.early.take_all(low);
        let mut out = Released {
            released: 0,
            refused: dropped,
        };
        for held in frames {
            let mut plaintext = vec![0u8; held.frame.len()];
            match self.decrypt_now(&held.metadata, &held.frame, &mut plaintext) {
                Ok(info) => {
                    plaintext.truncate(info.len);
                    self.early.push_released(EarlyFrame {
                        info,
                        metadata: held.metadata,
                        plaintext,
                    });
                    out.released = out.released.saturating_add(1);
                }
                Err(_) => out.refused = out.refused.saturating_add(1),
            }
        }
        out
    }

    /// The oldest early frame released and not yet taken.
    pub(super) fn take_early_frame(&mut self) -> Option<EarlyFrame> {
        self.early.take_released()
    }

    /// Puts `epoch` (with a dummy base key) into the key store, for the tests that need a
    /// store the next epoch cannot enter.
    #[cfg(test)]
    pub(super) fn hold_epoch_for_test(&mut self, epoch: u64) -> Result<()> {
        let len = self.keys.base_key_len()?;
        self.keys.add_epoch(
            epoch,
            BaseKey::from_secret(Secret::from_slice(&vec![7; len])?),
        )
    }

    /// The epochs held, oldest first (tests).
    #[cfg(test)]
    pub(super) fn held_epochs(&self) -> Vec<u64> {
        let mut e: Vec<u64> = self.keys.epochs().collect();
        e.sort_unstable();
        e
    }

    /// How many frames wait for their epoch (tests).
    #[cfg(test)]
    pub(super) fn early_len(&self) -> usize {
        self.early.held_len()
    }

    /// Whether any retained base key occurs in `haystack` (audits of relayed bytes).
    pub(super) fn key_occurs_in(&self, haystack: &[u8]) -> bool {
        self.keys
            .base_keys()
            .iter()
            .any(|(_, k)| k.0.occurs_in(haystack))
    }

    /// Forgets every key and held frame (we left the meeting).
    pub(super) fn clear(&mut self) {
        let held: Vec<u64> = self.keys.epochs().collect();
        for e in held {
            self.keys.remove_epoch(e);
        }
        for e in &mut self.encryptors {
            *e = None;
        }
        self.current = None;
        self.retired.clear();
        self.early = HeldFrames::default();
    }

    /// The KID of our `stream` in the current epoch.
    fn own_kid(&self, stream: MediaStream) -> Option<u64> {
        self.layout
            .kid(stream.context(self.instance), self.own_index, self.current?)
            .ok()
    }

    pub(super) fn encrypted_len(&self, stream: MediaStream, plaintext_len: usize) -> Option<usize> {
        if let Some(Some(e)) = self.encryptors.get(stream.slot()) {
            return e.output_len(plaintext_len);
        }
        let header = Header::new(self.own_kid(stream)?, 0).encoded_len();
        header
            .checked_add(plaintext_len)?
            .checked_add(self.suite.tag_len().ok()?)
    }

    pub(super) fn encrypt(
        &mut self,
        stream: MediaStream,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let current = self.current.ok_or(ApiMisuse::NotAMember)?;
        let slot = self
            .encryptors
            .get_mut(stream.slot())
            .ok_or(ApiMisuse::IndexOutOfRange)?;
        if slot.is_none() {
            *slot = Some(
                self.keys
                    .encryptor(current, stream.context(self.instance))?,
            );
        }
        slot.as_mut()
            .ok_or(Error::Internal("no encryptor"))?
            .encrypt(metadata, plaintext, out)
    }

    /// Decrypts a frame of another member at `now`: one of a retained epoch, or one of the
    /// next epoch, which is held ([`Stale::EarlyFrame`]).
    pub(super) fn decrypt(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
        now: u64,
    ) -> Result<FrameInfo> {
        self.expire(now);
        let (header, _) = Header::decode(frame)?;
        let (sender, low) = self.layout.split(header.kid);
        if sender != self.own_index && self.is_next_slot(low) {
            return Err(self.early.hold(low, now, metadata, frame));
        }
        self.decrypt_now(metadata, frame, out)
    }

    /// Whether `low` names the free slot of the next epoch.
    fn is_next_slot(&self, low: u64) -> bool {
        let mask = self.layout.epoch_window().saturating_sub(1);
        mask != 0
            && self
                .current
                .is_some_and(|c| c.wrapping_add(1) & mask == low)
            && !self.keys.epochs().any(|e| e & mask == low)
    }

    fn decrypt_now(&mut self, metadata: &[u8], frame: &[u8], out: &mut [u8]) -> Result<FrameInfo> {
        let d = self.keys.decrypt(metadata, frame, out)?;
        let (sender, low) = self.layout.split(d.header.kid);
        let mask = self.layout.epoch_window().saturating_sub(1);
        let epoch = self
            .keys
            .epochs()
            .find(|e| e & mask == low)
            .ok_or(Stale::UnknownKeyId)?;
        Ok(FrameInfo {
            len: d.len,
            sender,
            stream: MediaStream::of_kid(self.layout, d.header.kid),
            epoch,
            counter: d.header.ctr,
        })
    }
}
