//! Meeting state persistence: everything an app restart must not lose.
//!
//! ```text
//!  "MKMT" ‖ uint16 version (= 4)
//!  opaque group_state<V>            Group::to_bytes (its own magic and version; holds our
//!                                   pending commit, if any)
//!  uint8 has_pending; [PendingCommit]   our commit in flight: its encoding, its Welcome
//!                                   (held back until it is confirmed) and its intent
//!  uint8 has_welcome; [opaque welcome<V>]  a confirmed Welcome not yet taken
//!  media                            see Media::write: SFrame suite, KID layout, send
//!                                   instance, the base keys of the retained epochs with
//!                                   when each was retired, the replay window of every
//!                                   sender KID
//!  uint8 has_next_rotation; [uint64 next_rotation_at]
//!  opaque digest[32]                SHA-256 of everything before it
//! ```
//!
//! The digest makes corruption and truncation of storage a typed error
//! ([`InvalidMessage::CorruptedState`]) instead of a different meeting; against an attacker
//! who can write the storage, seal the state under an application key ([`Meeting::seal`]):
//!
//! ```text
//!  "MKMS" ‖ uint16 version (= 3) ‖ nonce[24] ‖ XChaCha20-Poly1305(key, nonce,
//!                                      aad = "MKMS" ‖ version, the bytes above)
//! ```
//!
//! The meeting policy is not stored separately: it is read back from the group's
//! GroupContext. Past epochs' SFrame base keys are stored because the MLS exporter of a past
//! epoch is gone after a restart. Queued UI events are not saved. Restoring draws a fresh
//! SFrame KID context, so one snapshot restored any number of times never reuses a (key,
//! nonce) (see `media.rs`). Versions 1 and 2 (no pending commit, no replay windows, no
//! digest) and 3 (no retirement times) are still read. Media frames held for their epoch
//! are not saved.

use zeroize::Zeroizing;

use crate::codec::{Reader, Writer};
use crate::crypto::{open_state, seal_state, sha256, Rng, Secret};
use crate::error::{InvalidMessage, Result};
use crate::mls::group::Group;

use super::pending::PendingCommit;
use super::{events::Event, events::JoinMethod, media::Media, Meeting, MeetingConfig};

/// The magic bytes in front of a saved meeting.
pub(crate) const MEETING_STATE_MAGIC: &[u8; 4] = b"MKMT";
/// The magic bytes in front of a sealed saved meeting.
const SEALED_STATE_MAGIC: &[u8; 4] = b"MKMS";

/// The current version of the saved-meeting format. Version 4 adds when each past epoch's
/// media keys were retired (they are dropped a set time later). Version 3 adds the pending commit, the
/// replay windows and the digest; version 2 holds a version-2 group state (stored proposals
/// carry whether they were admitted); versions 1 and 2 are still read.
pub(crate) const MEETING_STATE_VERSION: u16 = 4;
/// The version of the sealed envelope (independent of the state inside it).
const SEALED_STATE_VERSION: u16 = 3;

/// Upper bound of a saved group state (a 10 000-leaf meeting takes a few MiB).
const MAX_GROUP_STATE: usize = 64 << 20;
/// The length of the trailing digest.
const DIGEST_LEN: usize = 32;

impl Meeting {
    /// The meeting's whole state, to store and restore with [`Meeting::from_bytes`]:
    /// our pending commit included (restore, then the delivery service's echo merges it).
    ///
    /// The bytes hold every secret of the meeting: store them encrypted, or use
    /// [`Meeting::seal`]. The buffer zeroizes itself on drop.
    ///
    /// # Errors
    /// Only on an encoding overflow of an absurd meeting.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let group = self.group.to_bytes()?;
        // Preallocate so no reallocation leaves secret bytes behind in freed memory.
        let mut w = Writer::with_capacity(group.len().saturating_mul(2).saturating_add(64 << 10));
        w.write_raw(MEETING_STATE_MAGIC);
        w.write_u16(MEETING_STATE_VERSION);
        w.write_opaque(&group);
        match &self.pending {
            None => w.write_u8(0),
            Some(p) => {
                w.write_u8(1);
                p.write(&mut w);
            }
        }
        super::pending::write_optional_message(self.released_welcome.as_ref(), &mut w);
        self.media.write(&mut w)?;
        match self.next_rotation_at {
            Some(t) => {
                w.write_u8(1);
                w.write_u64(t);
            }
            None => w.write_u8(0),
        }
        let digest = sha256(w.as_bytes());
        w.write_raw(digest.as_bytes());
        Ok(Zeroizing::new(w.into_bytes()?))
    }

    /// The meeting's state as [`Meeting::to_bytes`] gives it, sealed under the application
    /// key `key` (32 bytes, e.g. from the platform keystore) with XChaCha20-Poly1305 and a
    /// fresh random nonce from `rng`. Restore it with [`Meeting::open`].
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`](crate::error::ApiMisuse::InvalidLength) for a key that
    /// is not 32 bytes; as [`Meeting::to_bytes`].
    pub fn seal(&self, key: &Secret, rng: &mut impl Rng) -> Result<Vec<u8>> {
        let state = self.to_bytes()?;
        let aad = sealed_aad();
        let mut out = aad.to_vec();
        out.extend_from_slice(&seal_state(key, &aad, &state, rng)?);
        Ok(out)
    }

    /// Restores a meeting sealed by [`Meeting::seal`] under `key`; otherwise as
    /// [`Meeting::from_bytes`].
    ///
    /// # Errors
    /// [`Error::AuthenticationFailed`](crate::error::Error::AuthenticationFailed) for a
    /// wrong key or sealed bytes that were altered or truncated; as [`Meeting::from_bytes`].
    pub fn open(
        config: MeetingConfig,
        sealed: &[u8],
        key: &Secret,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let aad = sealed_aad();
        let body = sealed
            .strip_prefix(aad.as_slice())
            .ok_or(crate::error::Error::AuthenticationFailed)?;
        let state = open_state(key, &aad, body)?;
        Self::from_bytes(config, &state, rng)
    }

    /// Restores a meeting saved by [`Meeting::to_bytes`]. `config` supplies what is not
    /// state (the group configuration, replay protection, the rotation interval); the SFrame
    /// suite and KID layout are the saved ones. Our pending commit comes back pending; our
    /// media sender takes a fresh random KID context, so restoring one snapshot many times
    /// never reuses a (key, nonce) (`rng` draws it). Queues [`Event::Joined`] with
    /// [`JoinMethod::Restored`].
    ///
    /// # Errors
    /// [`InvalidMessage::CorruptedState`] when the integrity check fails (corrupted or
    /// truncated bytes); [`InvalidMessage`] for bytes that are not a valid saved meeting
    /// (wrong magic, unknown version, inconsistent keys); the errors of
    /// [`Group::from_bytes`]; [`PeerMisbehaved::MeetingPolicyMissing`] when the group has no
    /// meeting policy.
    ///
    /// [`PeerMisbehaved::MeetingPolicyMissing`]: crate::error::PeerMisbehaved::MeetingPolicyMissing
    pub fn from_bytes(config: MeetingConfig, bytes: &[u8], rng: &mut impl Rng) -> Result<Self> {
        let mut r = Reader::new(bytes);
        if r.take(4)? != MEETING_STATE_MAGIC {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let version = r.read_u16()?;
        let mut r = match version {
            1 | 2 => r,
            3 | MEETING_STATE_VERSION => {
                let body_len = bytes
                    .len()
                    .checked_sub(DIGEST_LEN)
                    .ok_or(InvalidMessage::CorruptedState)?;
                let (body, digest) = bytes.split_at(body_len);
                if sha256(body).as_bytes() != digest {
                    return Err(InvalidMessage::CorruptedState.into());
                }
                let mut r = Reader::new(body);
                r.take(6)?;
                r
            }
            _ => return Err(InvalidMessage::InvalidValue.into()),
        };
        let group = Group::from_bytes(
            super::group_config(&config),
            r.read_opaque(MAX_GROUP_STATE)?,
        )?;
        let (pending, released_welcome) = if version >= 3 {
            let pending = match r.read_u8()? {
                0 => None,
                1 => Some(PendingCommit::read(&mut r)?),
                _ => return Err(InvalidMessage::InvalidValue.into()),
            };
            (pending, super::pending::read_optional_message(&mut r)?)
        } else {
            (None, None)
        };
        if pending.is_some() != group.has_pending_commit() {
            return Err(InvalidMessage::InvalidValue.into());
        }
        let media = Media::read(&mut r, &config, &group, version, rng)?;
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
            pending,
            released_welcome,
            early: super::early::Early::default(),
            next_rotation_at,
        })
    }
}

/// `"MKMS" ‖ version`: the prefix of a sealed state, and its AEAD's associated data.
fn sealed_aad() -> [u8; 6] {
    let v = SEALED_STATE_VERSION.to_be_bytes();
    let m = SEALED_STATE_MAGIC;
    [m[0], m[1], m[2], m[3], v[0], v[1]]
}
