//! Media keys of a meeting: one SFrame base key per epoch from the MLS exporter (RFC 9605
//! §5.2), kept for the last 2^E epochs so frames sent just before a commit still decrypt.
//!
//! ```text
//!  epoch n: base_key_n = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)
//!           KeyStore.add_epoch(n, base_key_n)        (drops epoch n - 2^E)
//!           encryptor = KID(context, own_leaf, n)    (context: 0; random after a restore)
//! ```
//!
//! [`Media::write`] persists the base keys of the retained epochs (a restored client can no
//! longer compute past epochs' exporter output) and the replay window of every sender KID,
//! so a relay cannot replay to a restarted client what it already accepted.
//!
//! **No (key, nonce) twice across restores.** An SFrame key is a function of the epoch's
//! base key and the KID (RFC 9605 §4.4.2), the nonce a function of that key and the CTR. A
//! fresh state (create, join) sends with KID context 0. Every restore draws a fresh random
//! context of [`RESTORE_CONTEXT_BITS`] bits (never 0, never the saved one) and keeps it for
//! the life of the restored instance, in this epoch and every later one. So two instances
//! never share a sending key unless two restores draw the same context: at most one chance
//! in 2^32 per pair of restores of one snapshot, whatever the counters were, even when one
//! snapshot is restored many times or on two devices. The counter itself need not be saved.

use crate::codec::{Reader, Writer};
use crate::crypto::{Rng, Secret};
use crate::error::{ApiMisuse, InvalidMessage, Result, Stale};
use crate::mls::group::Group;
use crate::sframe::{
    BaseKey, Encryptor, KeyStore, KidLayout, ReplayProtection, SframeSuite, EXPORTER_LABEL,
};

use super::media_ext::{media_of, MediaParams};
use super::MeetingConfig;

/// How many random bits a restored instance's KID context has (fewer when the KID layout
/// leaves fewer than 32 bits for the context; a restore refuses layouts with fewer than
/// [`MIN_RESTORE_CONTEXT_BITS`]).
pub(super) const RESTORE_CONTEXT_BITS: u32 = 32;
/// The fewest context bits a restore accepts: below this, two restores of one snapshot
/// would share a sending key too often.
pub(super) const MIN_RESTORE_CONTEXT_BITS: u32 = 16;

/// A random KID context for a restored instance: nonzero, not `saved`, fitting `layout`.
fn fresh_context(layout: KidLayout, saved: u64, rng: &mut impl Rng) -> Result<u64> {
    let free = 64u32
        .saturating_sub(layout.index_bits())
        .saturating_sub(layout.epoch_bits());
    let bits = free.min(RESTORE_CONTEXT_BITS);
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
    Err(crate::error::Error::Internal("the RNG repeats itself"))
}

/// What a decrypted frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// The plaintext is `out[..len]`.
    pub len: usize,
    /// The sender's leaf index.
    pub sender: u32,
    /// The epoch whose key decrypted it.
    pub epoch: u64,
    /// The SFrame counter of the frame.
    pub counter: u64,
}

/// The media keys of an epoch, staged before the meeting moves to it ([`Media::stage`]):
/// the next epoch under the same parameters, or all new media state when a commit changed
/// the meeting's media parameters.
#[derive(Debug)]
pub(super) enum StagedMedia {
    Next(Box<crate::sframe::PreparedEpoch>),
    Replaced(Box<Media>),
}

/// The SFrame state of a meeting member.
#[derive(Debug)]
pub(super) struct Media {
    suite: SframeSuite,
    layout: KidLayout,
    keys: KeyStore,
    /// KID context of our encryptors (bumped on every restore).
    send_context: u64,
    encryptor: Option<Encryptor>,
}

impl Media {
    /// The media of `group`'s member under the meeting's media parameters (the local
    /// `config`'s for a meeting created before meetings carried them).
    pub(super) fn new(config: &MeetingConfig, group: &Group, send_context: u64) -> Result<Self> {
        let params = match media_of(&group.context().extensions)? {
            Some(p) => p,
            None => MediaParams::from_config(config)?,
        };
        let mut media = Self::empty(params, config.replay, group.own_leaf().0, send_context)?;
        let staged = media.stage(group.epoch(), |label, len| {
            group.export_secret(label, b"", len)
        })?;
        media.install(staged);
        Ok(media)
    }

    fn empty(
        params: MediaParams,
        replay: ReplayProtection,
        own_index: u32,
        send_context: u64,
    ) -> Result<Self> {
        Ok(Self {
            suite: params.suite,
            layout: params.layout,
            keys: KeyStore::new(params.suite, params.layout, own_index, replay)?,
            send_context,
            encryptor: None,
        })
    }

    /// The suite and layout in use.
    pub(super) const fn params(&self) -> MediaParams {
        MediaParams {
            suite: self.suite,
            layout: self.layout,
        }
    }

    /// As [`Media::stage`] for an epoch whose media parameters are `params`, different from
    /// ours: new media state, the old epochs' keys dropped (frames still in flight under
    /// them are lost, as when they leave the 2^E window).
    pub(super) fn stage_replaced(
        &self,
        params: MediaParams,
        replay: ReplayProtection,
        own_index: u32,
        epoch: u64,
        exporter: impl FnOnce(&[u8], usize) -> Result<Secret>,
    ) -> Result<StagedMedia> {
        let mut media = Self::empty(params, replay, own_index, self.send_context)?;
        let staged = media.stage(epoch, exporter)?;
        media.install(staged);
        Ok(StagedMedia::Replaced(Box::new(media)))
    }

    /// Everything fallible of moving media to `epoch`, whose exporter is `exporter`: its
    /// base key and our encryptor, made without changing anything. The meeting stages this
    /// before it merges a commit, so that an error leaves group and media as they were.
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
            self.send_context,
        )?)))
    }

    /// Installs a staged epoch; cannot fail.
    pub(super) fn install(&mut self, staged: StagedMedia) {
        match staged {
            StagedMedia::Next(prepared) => self.encryptor = Some(self.keys.install(*prepared)),
            StagedMedia::Replaced(media) => *self = *media,
        }
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

    /// Whether any retained base key occurs in `haystack` (audits of relayed bytes).
    pub(super) fn key_occurs_in(&self, haystack: &[u8]) -> bool {
        self.keys
            .base_keys()
            .iter()
            .any(|(_, k)| k.0.occurs_in(haystack))
    }

    /// Forgets every key (we left the meeting).
    pub(super) fn clear(&mut self) {
        let held: Vec<u64> = self.keys.epochs().collect();
        for e in held {
            self.keys.remove_epoch(e);
        }
        self.encryptor = None;
    }

    pub(super) fn encrypted_len(&self, plaintext_len: usize) -> Option<usize> {
        self.encryptor.as_ref()?.output_len(plaintext_len)
    }

    pub(super) fn encrypt(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        self.encryptor
            .as_mut()
            .ok_or(ApiMisuse::NotAMember)?
            .encrypt(metadata, plaintext, out)
    }

    pub(super) fn decrypt(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
    ) -> Result<FrameInfo> {
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
            epoch,
            counter: d.header.ctr,
        })
    }

    /// Persists suite, layout, send context, the retained base keys and the replay windows.
    ///
    /// ```text
    ///  uint16 sframe_suite; uint8 epoch_bits; uint8 index_bits; uint64 send_context;
    ///  uint8 n; { uint64 epoch; opaque base_key<V>; }[n]     (oldest first)
    ///  uint32 m; { uint64 kid; uint64 top; uint64 seen[16]; }[m]   (bit i: top - i accepted)
    /// ```
    pub(super) fn write(&self, w: &mut Writer) -> Result<()> {
        w.write_u16(self.suite.0);
        w.write_u8(
            u8::try_from(self.layout.epoch_bits()).map_err(|_| ApiMisuse::InvalidKidLayout)?,
        );
        w.write_u8(
            u8::try_from(self.layout.index_bits()).map_err(|_| ApiMisuse::InvalidKidLayout)?,
        );
        w.write_u64(self.send_context);
        let base_keys = self.keys.base_keys();
        w.write_u8(u8::try_from(base_keys.len()).map_err(|_| ApiMisuse::EncodingOverflow)?);
        for (epoch, key) in base_keys {
            w.write_u64(epoch);
            key.0.write_opaque_to(w);
        }
        let windows = self.keys.replay_states();
        w.write_u32(u32::try_from(windows.len()).map_err(|_| ApiMisuse::EncodingOverflow)?);
        for (kid, top, seen) in windows {
            w.write_u64(kid);
            w.write_u64(top);
            for word in seen {
                w.write_u64(word);
            }
        }
        Ok(())
    }

    /// Restores what [`Media::write`] wrote for `group`'s member (`with_windows`: the saved
    /// state has replay windows, format version 3 on); our encryptor takes a fresh random
    /// KID context (see the module documentation).
    pub(super) fn read(
        r: &mut Reader<'_>,
        replay: ReplayProtection,
        group: &Group,
        with_windows: bool,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let suite = SframeSuite(r.read_u16()?);
        let layout = KidLayout::new(u32::from(r.read_u8()?), u32::from(r.read_u8()?))
            .map_err(|_| InvalidMessage::InvalidValue)?;
        let saved_context = r.read_u64()?;
        let send_context = fresh_context(layout, saved_context, rng)?;
        let own_index = group.own_leaf().0;
        let mut keys = KeyStore::new(suite, layout, own_index, replay)?;
        let n = r.read_u8()?;
        for _ in 0..n {
            let epoch = r.read_u64()?;
            let bytes = r.read_opaque(crate::crypto::MAX_SECRET_LEN)?;
            let key = BaseKey::from_slice(bytes)?;
            keys.add_epoch(epoch, key)
                .map_err(|_| InvalidMessage::InvalidValue)?;
        }
        if with_windows {
            let m = r.read_u32()?;
            for _ in 0..m {
                let kid = r.read_u64()?;
                let top = r.read_u64()?;
                let mut seen = [0u64; crate::sframe::REPLAY_WORDS];
                for word in &mut seen {
                    *word = r.read_u64()?;
                }
                keys.restore_replay_state(kid, top, seen)
                    .map_err(|_| InvalidMessage::InvalidValue)?;
            }
        }
        let current = group.epoch();
        if group.is_active() && !keys.epochs().any(|e| e == current) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        // The KID context must still fit the layout.
        layout
            .kid(send_context, own_index, current)
            .map_err(|_| InvalidMessage::InvalidValue)?;
        let encryptor = if group.is_active() {
            Some(keys.encryptor(current, send_context)?)
        } else {
            None
        };
        Ok(Self {
            suite,
            layout,
            keys,
            send_context,
            encryptor,
        })
    }
}
