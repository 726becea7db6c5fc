//! Meeting state persistence: everything an app restart must not lose.
//!
//! ```text
//!  "MKMT" ‖ uint16 version (= 2)
//!  opaque group_state<V>            Group::to_bytes (its own magic and version)
//!  media                            see Media::write: SFrame suite, KID layout, send
//!                                   context, and the base keys of the retained epochs
//!  uint8 has_next_rotation; [uint64 next_rotation_at]
//! ```
//!
//! The meeting policy is not stored separately: it is read back from the group's
//! GroupContext. Past epochs' SFrame base keys are stored because the MLS exporter of a past
//! epoch is gone after a restart. A pending commit and the queued UI events are not saved
//! (the commit is discarded; send it again after restoring). The bytes contain secrets:
//! store them encrypted (e.g. under a platform keystore key); the returned buffer zeroizes
//! itself on drop. Receiving replay windows restart empty after a restore.

use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::error::{InvalidMessage, Result};
use crate::mls::group::Group;

use super::{events::Event, events::JoinMethod, media::Media, Meeting, MeetingConfig};

/// The magic bytes in front of a saved meeting.
pub(crate) const MEETING_STATE_MAGIC: &[u8; 4] = b"MKMT";

/// The current version of the saved-meeting format. Version 2 holds a version-2 group state
/// (stored proposals carry whether they were admitted); version 1 is still read.
pub(crate) const MEETING_STATE_VERSION: u16 = 2;

/// Upper bound of a saved group state (a 256-leaf meeting takes well under 1 MiB).
const MAX_GROUP_STATE: usize = 16 << 20;

impl Meeting {
    /// The meeting's whole state, to store (encrypted) and restore with
    /// [`Meeting::from_bytes`]. A pending commit is not included.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd meeting.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let group = self.group.to_bytes()?;
        // Preallocate so no reallocation leaves secret bytes behind in freed memory.
        let mut w = Writer::with_capacity(group.len().saturating_add(1024));
        w.write_raw(MEETING_STATE_MAGIC);
        w.write_u16(MEETING_STATE_VERSION);
        w.write_opaque(&group);
        self.media.write(&mut w)?;
        match self.next_rotation_at {
            Some(t) => {
                w.write_u8(1);
                w.write_u64(t);
            }
            None => w.write_u8(0),
        }
        Ok(Zeroizing::new(w.into_bytes()?))
    }

    /// Restores a meeting saved by [`Meeting::to_bytes`]. `config` supplies what is not
    /// state (the group configuration, replay protection, the rotation interval); the SFrame
    /// suite and KID layout are the saved ones. Queues [`Event::Joined`] with
    /// [`JoinMethod::Restored`].
    ///
    /// # Errors
    /// [`InvalidMessage`] for bytes that are not a valid saved meeting (wrong magic, unknown
    /// version, truncated, trailing bytes, inconsistent keys); the errors of
    /// [`Group::from_bytes`]; [`PeerMisbehaved::MeetingPolicyMissing`] when the group has no
    /// meeting policy.
    ///
    /// [`PeerMisbehaved::MeetingPolicyMissing`]: crate::error::PeerMisbehaved::MeetingPolicyMissing
    pub fn from_bytes(config: MeetingConfig, bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(4)? != MEETING_STATE_MAGIC {
            return Err(InvalidMessage::InvalidValue.into());
        }
        if !matches!(r.read_u16()?, 1 | MEETING_STATE_VERSION) {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let group = Group::from_bytes(
            super::group_config(&config),
            r.read_opaque(MAX_GROUP_STATE)?,
        )?;
        let media = Media::read(&mut r, config.replay, &group)?;
        let next_rotation_at = match r.read_u8()? {
            0 => None,
            1 => Some(r.read_u64()?),
            _ => return Err(InvalidMessage::InvalidValue.into()),
        };
        r.finish()?;
        let policy = super::policy_ext::policy_of(&group.context().extensions)?;
        let mut events = std::collections::VecDeque::new();
        events.push_back(Event::Joined {
            epoch: group.epoch(),
            how: JoinMethod::Restored,
        });
        Ok(Self {
            group,
            config,
            policy,
            media,
            events,
            pending: None,
            next_rotation_at,
        })
    }
}
