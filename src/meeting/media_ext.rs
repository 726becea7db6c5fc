//! The meeting's media parameters as a GroupContext extension of ours, so that every member
//! encrypts and decrypts frames the same way: the SFrame suite and the KID layout (E epoch
//! bits, S index bits, RFC 9605 §5.2).
//!
//! ```text
//!  Extension {
//!      extension_type = 0xF0A3            (private use, RFC 9420 §17.3)
//!      extension_data = uint16 sframe_suite; uint8 epoch_bits; uint8 index_bits;
//!  }
//! ```
//!
//! The creator writes it from its [`MeetingConfig`]; joiners take it from the group, not
//! from their own configuration. It changes only by commit, and the meeting's rules refuse a
//! commit that drops it, makes it invalid, or puts a member at a leaf the layout cannot
//! name (every member must be able to send media). Meetings created before it existed use
//! the local configuration, as they always did.

use crate::error::{PeerMisbehaved, Result};
use crate::mls::tree::math::LeafIndex;
use crate::mls::wire::{Extension, ExtensionType};
use crate::sframe::{KidLayout, SframeSuite};

use super::MeetingConfig;

/// `meetkey_media`: the meeting's SFrame suite and KID layout.
pub(crate) const MEDIA_EXTENSION: ExtensionType = ExtensionType(0xF0A3);

/// The media parameters every member of a meeting uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaParams {
    pub(crate) suite: SframeSuite,
    pub(crate) layout: KidLayout,
}

impl MediaParams {
    /// The parameters of `config`, checked.
    pub(crate) fn from_config(config: &MeetingConfig) -> Result<Self> {
        config.media_suite.base_key_len()?;
        let layout = KidLayout::new(config.epoch_bits, config.index_bits)?;
        if !super::media::layout_fits_meetings(layout) {
            return Err(crate::error::ApiMisuse::InvalidKidLayout.into());
        }
        Ok(Self {
            suite: config.media_suite,
            layout,
        })
    }

    /// The extension carrying them.
    pub(crate) fn extension(&self) -> Extension {
        let [s0, s1] = self.suite.0.to_be_bytes();
        // E <= 16 and S <= 32 (KidLayout::new), so both fit in a byte.
        let e = u8::try_from(self.layout.epoch_bits()).unwrap_or(u8::MAX);
        let s = u8::try_from(self.layout.index_bits()).unwrap_or(u8::MAX);
        Extension {
            extension_type: MEDIA_EXTENSION,
            extension_data: vec![s0, s1, e, s],
        }
    }

    fn decode(data: &[u8]) -> Result<Self> {
        let [s0, s1, e, s] =
            <[u8; 4]>::try_from(data).map_err(|_| PeerMisbehaved::MediaParametersInvalid)?;
        let suite = SframeSuite(u16::from_be_bytes([s0, s1]));
        suite
            .base_key_len()
            .map_err(|_| PeerMisbehaved::MediaParametersInvalid)?;
        let layout = KidLayout::new(u32::from(e), u32::from(s))
            .map_err(|_| PeerMisbehaved::MediaParametersInvalid)?;
        if !super::media::layout_fits_meetings(layout) {
            return Err(PeerMisbehaved::MediaParametersInvalid.into());
        }
        Ok(Self { suite, layout })
    }

    /// Whether the member at `leaf` can send media under this layout.
    pub(crate) fn fits(&self, leaf: LeafIndex) -> bool {
        u64::from(leaf.0) >> self.layout.index_bits() == 0
    }
}

/// The media parameters in `extensions`, if the meeting has them.
///
/// # Errors
/// [`PeerMisbehaved::MediaParametersInvalid`] for a malformed extension.
pub(crate) fn media_of(extensions: &[Extension]) -> Result<Option<MediaParams>> {
    extensions
        .iter()
        .find(|e| e.extension_type == MEDIA_EXTENSION)
        .map(|e| MediaParams::decode(&e.extension_data))
        .transpose()
}

/// The meeting's rule for a commit: a meeting with media parameters keeps valid ones, and
/// every member of the new epoch fits their layout. `leaves(staying)` gives the leaves to
/// check: the committer's and the added ones, and with `staying` also the members that
/// stay — needed only when the parameters change (the others fit the unchanged layout
/// already).
///
/// # Errors
/// [`PeerMisbehaved::MediaParametersInvalid`].
pub(crate) fn check_commit(
    old: &[Extension],
    new: &[Extension],
    leaves: impl FnOnce(bool) -> Vec<LeafIndex>,
) -> Result<()> {
    let old = media_of(old)?;
    match media_of(new)? {
        None if old.is_some() => Err(PeerMisbehaved::MediaParametersInvalid.into()),
        None => Ok(()),
        Some(params) => {
            if leaves(old != Some(params))
                .into_iter()
                .all(|l| params.fits(l))
            {
                Ok(())
            } else {
                Err(PeerMisbehaved::MediaParametersInvalid.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trip_and_malformed_parameters_are_refused() {
        let p = MediaParams::from_config(&MeetingConfig::default()).unwrap();
        assert_eq!(media_of(&[p.extension()]).unwrap(), Some(p));
        assert_eq!(media_of(&[]).unwrap(), None);
        let bad = |data: Vec<u8>| {
            media_of(&[Extension {
                extension_type: MEDIA_EXTENSION,
                extension_data: data,
            }])
        };
        let want = Err(PeerMisbehaved::MediaParametersInvalid.into());
        assert_eq!(bad(vec![0, 4, 3]), want); // short
        assert_eq!(bad(vec![0, 4, 3, 14, 0]), want); // long
        assert_eq!(bad(vec![0x12, 0x34, 3, 14]), want); // unknown suite
        assert_eq!(bad(vec![0, 4, 17, 14]), want); // E > 16
        assert_eq!(bad(vec![0, 4, 3, 33]), want); // S > 32

        // Dropping the parameters, or a member beyond the layout, is refused.
        let want = Err(PeerMisbehaved::MediaParametersInvalid.into());
        let e = [p.extension()];
        assert_eq!(check_commit(&e, &[], |_| vec![]), want);
        assert_eq!(check_commit(&[], &[], |_| vec![LeafIndex(1 << 20)]), Ok(()));
        let s = p.layout.index_bits();
        let at = |l: u32| move |_| vec![LeafIndex(l)];
        assert_eq!(check_commit(&e, &e, at((1 << s) - 1)), Ok(()));
        assert_eq!(check_commit(&e, &e, at(1 << s)), want);
        // Staying members are checked only when the parameters change.
        let other = MediaParams {
            layout: KidLayout::new(3, 1).unwrap(),
            ..p
        };
        let staying = |staying: bool| {
            if staying {
                vec![LeafIndex(0), LeafIndex(5)]
            } else {
                vec![LeafIndex(0)]
            }
        };
        assert_eq!(check_commit(&e, &e, staying), Ok(()));
        assert_eq!(check_commit(&e, &[other.extension()], staying), want);
    }
}
