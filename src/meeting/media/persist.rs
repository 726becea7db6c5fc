//! The media part of a saved meeting: suite, layout, instance number, the retained base
//! keys with when each was retired, and the replay windows.

use crate::codec::{Reader, Writer};
use crate::crypto::Rng;
use crate::error::{ApiMisuse, InvalidMessage, Result};
use crate::mls::group::Group;
use crate::sframe::{BaseKey, KidLayout, SframeSuite};

use super::super::media_ext::MediaParams;
use super::super::media_stream::MediaStream;
use super::super::MeetingConfig;
use super::{fresh_instance, Media};

/// A saved `retired_at` that means "not retired" (the current epoch) or "not yet stamped".
const NOT_STAMPED: u64 = u64::MAX;

impl Media {
    /// Persists suite, layout, instance, the retained base keys with their retirement times
    /// and the replay windows.
    ///
    /// ```text
    ///  uint16 sframe_suite; uint8 epoch_bits; uint8 index_bits; uint64 instance;
    ///  uint8 n; { uint64 epoch; opaque base_key<V>; uint64 retired_at; }[n]   (oldest first;
    ///                                   retired_at = 2^64 - 1: current, or not yet stamped)
    ///  uint32 m; { uint64 kid; uint64 top; uint64 seen[16]; }[m]   (bit i: top - i accepted)
    /// ```
    pub(in crate::meeting) fn write(&self, w: &mut Writer) -> Result<()> {
        w.write_u16(self.suite.0);
        w.write_u8(
            u8::try_from(self.layout.epoch_bits()).map_err(|_| ApiMisuse::InvalidKidLayout)?,
        );
        w.write_u8(
            u8::try_from(self.layout.index_bits()).map_err(|_| ApiMisuse::InvalidKidLayout)?,
        );
        w.write_u64(self.instance);
        let base_keys = self.keys.base_keys();
        w.write_u8(u8::try_from(base_keys.len()).map_err(|_| ApiMisuse::EncodingOverflow)?);
        for (epoch, key) in base_keys {
            w.write_u64(epoch);
            key.0.write_opaque_to(w);
            let at = self
                .retired
                .iter()
                .find(|(e, _)| *e == epoch)
                .and_then(|(_, at)| *at);
            w.write_u64(at.unwrap_or(NOT_STAMPED));
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

    /// Restores what [`Media::write`] wrote for `group`'s member from a saved state of
    /// format `version` (3 on: replay windows; 4 on: retirement times); our encryptors take
    /// a fresh random instance number (see the module documentation).
    pub(in crate::meeting) fn read(
        r: &mut Reader<'_>,
        config: &MeetingConfig,
        group: &Group,
        version: u16,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let suite = SframeSuite(r.read_u16()?);
        let layout = KidLayout::new(u32::from(r.read_u8()?), u32::from(r.read_u8()?))
            .map_err(|_| InvalidMessage::InvalidValue)?;
        let saved_instance = r.read_u64()?;
        let instance = fresh_instance(layout, saved_instance, rng)?;
        let own_index = group.own_leaf().0;
        let params = MediaParams { suite, layout };
        let mut media = Self::empty(params, config, own_index, instance)
            .map_err(|_| InvalidMessage::InvalidValue)?;
        let current = group.epoch();
        let n = r.read_u8()?;
        for _ in 0..n {
            let epoch = r.read_u64()?;
            let bytes = r.read_opaque(crate::crypto::MAX_SECRET_LEN)?;
            let key = BaseKey::from_slice(bytes)?;
            let at = if version >= 4 {
                r.read_u64()?
            } else {
                NOT_STAMPED
            };
            media
                .keys
                .add_epoch(epoch, key)
                .map_err(|_| InvalidMessage::InvalidValue)?;
            if epoch != current {
                media
                    .retired
                    .push((epoch, (at != NOT_STAMPED).then_some(at)));
            }
        }
        if version >= 3 {
            let m = r.read_u32()?;
            for _ in 0..m {
                let kid = r.read_u64()?;
                let top = r.read_u64()?;
                let mut seen = [0u64; crate::sframe::REPLAY_WORDS];
                for word in &mut seen {
                    *word = r.read_u64()?;
                }
                media
                    .keys
                    .restore_replay_state(kid, top, seen)
                    .map_err(|_| InvalidMessage::InvalidValue)?;
            }
        }
        if group.is_active() {
            if !media.keys.epochs().any(|e| e == current) {
                return Err(InvalidMessage::InvalidValue.into());
            }
            let audio = media
                .keys
                .encryptor(current, MediaStream::AUDIO.context(instance))?;
            media.current = Some(current);
            if let Some(slot) = media.encryptors.get_mut(MediaStream::AUDIO.slot()) {
                *slot = Some(audio);
            }
        }
        // States saved before one slot was kept free may hold 2^E epochs.
        while media.keys.epochs().count() > media.max_epochs() {
            if let Some(e) = media
                .keys
                .epochs()
                .filter(|e| Some(*e) != media.current)
                .min()
            {
                media.keys.remove_epoch(e);
            } else {
                break;
            }
        }
        let keys = &media.keys;
        media
            .retired
            .retain(|(e, _)| keys.epochs().any(|k| k == *e));
        Ok(media)
    }
}
