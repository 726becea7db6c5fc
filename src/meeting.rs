//! The meeting: what a conferencing client links against. One MLS group, its geofence policy,
//! and the SFrame keys of its media, kept consistent with each other.
//!
//! ```text
//!  Meeting::create / join_welcome / join_external
//!        │
//!        ▼
//!  Group (MLS epoch n) ── GroupContext extension 0xF0A1 "meetkey_geofence" = Policy (canonical)
//!        │                    └─► policy()  ─► route(own ∩ meeting policy, directory, health, now)
//!        ├─► export_secret("SFrame 1.0 Base Key", "", Nk) ─► KeyStore (last 2^E - 1 epochs,
//!        │                                                    │    past ones for a set time)
//!        │                                                    ├─► encrypt_frame (own KID per stream)
//!        │                                                    └─► decrypt_frame (any retained epoch;
//!        │                                                         the next one's frames held)
//!        ├─► epoch_authenticator ─► security_code() "12345 67890 ..." (8 × 5 digits)
//!        └─► events(): Joined, ParticipantJoined/Left, Rotated, EpochChanged, PolicyChanged, Left
//!
//!  add / remove / rotate / set_policy ─► Outgoing { commit, welcome } (pending)
//!        server echoes our commit ─► process() merges it   (or confirm_pending())
//!        another commit wins      ─► process() discards ours, merges theirs
//! ```
//!
//! Every change of the group goes through one path ([`Meeting::process`] or
//! [`Meeting::confirm_pending`]), which installs the new epoch's SFrame key, checks the
//! policy extension is still there and queues the UI events. A rejected message leaves the
//! meeting as it was.

mod changes;
mod early;
mod early_frames;
mod events;
mod governance;
mod joining;
mod key_packages;
#[cfg(test)]
mod lifecycle_tests;
mod media;
mod media_ext;
mod media_stream;
#[cfg(test)]
mod media_tests;
#[cfg(test)]
mod media_timing_tests;
mod pending;
mod persist;
#[cfg(test)]
mod persist_tests;
mod policy_ext;
mod receive;
mod security_code;
#[cfg(test)]
mod tampered_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::crypto::Secret;
use crate::error::{ApiMisuse, Result};
use crate::mls::group::{Group, GroupConfig};
use crate::mls::wire::{Credential, MlsMessage};
use crate::routing::{select, Decision, Directory, Health, Policy};
use crate::sframe::{self, ReplayProtection};
use governance::GOVERNANCE_EXTENSION;
use media_ext::MEDIA_EXTENSION;
use policy_ext::GEOFENCE_EXTENSION;

pub use early_frames::EarlyFrame;
pub use events::{Event, JoinMethod, ProposalSummary};
pub use governance::{ExternalJoins, Governance};
pub use key_packages::KeyPackageStore;
pub use media_stream::{FrameInfo, MediaStream};
pub use pending::CommitIntent;
use pending::PendingCommit;
use policy_ext::policy_extensions;
pub use security_code::SecurityCode;

/// How a meeting behaves: the MLS group configuration and the media keying.
#[derive(Debug, Clone)]
pub struct MeetingConfig {
    /// The MLS group configuration.
    pub group: GroupConfig,
    /// The SFrame cipher suite of media frames (RFC 9605 §4.5) of meetings this client
    /// creates. Members use the meeting's: the creator writes its suite and KID layout into
    /// the group (extension `meetkey_media`), where they change only by commit.
    pub media_suite: sframe::SframeSuite,
    /// `E` of the SFrame KID layout (RFC 9605 §5.2) of meetings this client creates: the
    /// current epoch and up to 2^E - 2 past ones stay decryptable; the slot left free lets
    /// frames of the next epoch that arrive before its commit be told apart and held.
    pub epoch_bits: u32,
    /// `S` of the SFrame KID layout of meetings this client creates: leaf indices up to
    /// 2^S - 1 can send media, and the meeting refuses commits that would place a member
    /// beyond.
    pub index_bits: u32,
    /// Replay protection per SFrame KID (each sender's stream has its own).
    pub replay: ReplayProtection,
    /// Seconds a past epoch's media keys are kept after the meeting left it (frames sent
    /// just before a commit are still in flight); also how long a frame of the next epoch
    /// waits for its commit. The clock of a past epoch starts at the first call after the
    /// change that brings the time ([`Meeting::decrypt_frame`], [`Meeting::rotate_if_due`]).
    pub old_epoch_retention: u64,
    /// Rotate our keys at least this often (seconds) when the client calls
    /// [`Meeting::rotate_if_due`]; `None` disables the schedule.
    pub rotation_interval: Option<u64>,
}

impl Default for MeetingConfig {
    fn default() -> Self {
        Self {
            group: GroupConfig::default(),
            media_suite: sframe::SframeSuite::AES_128_GCM_SHA256_128,
            // E = 3: 8 epochs decryptable; S = 14: up to 16 384 leaves can send media (a
            // 10 000-member meeting fits). A KID with context 0 takes two bytes of header
            // for leaves below 8 192, three above.
            epoch_bits: 3,
            index_bits: 14,
            replay: ReplayProtection::default(),
            // Long enough for frames in flight and a slow member's commit processing; short
            // enough that a key leaked later does not open much past media.
            old_epoch_retention: 10,
            rotation_interval: Some(600),
        }
    }
}

/// What a change of ours produced: the commit to send to the delivery service. The meeting
/// changes when the commit is confirmed (its echo, or [`Meeting::confirm_pending`]); only
/// then does [`Meeting::take_welcome`] give the Welcome of added participants.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outgoing {
    /// The commit, for every member (through the delivery service).
    pub commit: MlsMessage,
}

/// A participant as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The MLS leaf index (also the SFrame sender index).
    pub leaf: u32,
    /// The identity from the participant's credential (empty for non-basic credentials).
    pub identity: Vec<u8>,
}

/// A new epoch as the meeting stages it before the group merges it.
#[derive(Debug)]
struct StagedEpoch {
    policy: Policy,
    media: media::StagedMedia,
}

/// One client's view of one meeting.
#[derive(Debug)]
pub struct Meeting {
    group: Group,
    config: MeetingConfig,
    policy: Policy,
    media: media::Media,
    events: VecDeque<Event>,
    /// Our commit in flight: its encoding (to recognise the echo), Welcome and intent.
    pending: Option<PendingCommit>,
    /// The Welcome of our last confirmed commit, until [`Meeting::take_welcome`].
    released_welcome: Option<MlsMessage>,
    /// Handshakes of later epochs, until the meeting gets there.
    early: early::Early,
    /// When the next scheduled rotation is due (Unix seconds), once the schedule started.
    next_rotation_at: Option<u64>,
}

/// The identity carried by a credential (basic credentials only).
fn identity_of(credential: &Credential) -> Vec<u8> {
    match credential {
        Credential::Basic { identity } => identity.clone(),
        Credential::X509 { .. } => Vec::new(),
    }
}

/// The group configuration of a meeting: the application's, with the meeting's commit
/// rules installed (they are what keeps every member's view of the fence the same).
fn group_config(config: &MeetingConfig) -> GroupConfig {
    GroupConfig {
        rules: Arc::new(governance::MeetingRules),
        ..config.group.clone()
    }
}

impl Meeting {
    /// The meeting identifier (the MLS group id).
    #[must_use]
    pub fn meeting_id(&self) -> &[u8] {
        self.group.group_id()
    }

    /// The current epoch.
    #[must_use]
    pub const fn epoch(&self) -> u64 {
        self.group.epoch()
    }

    /// Our leaf index (our SFrame sender index).
    #[must_use]
    pub const fn own_leaf(&self) -> u32 {
        self.group.own_leaf().0
    }

    /// Whether we are still a participant.
    #[must_use]
    pub const fn is_active(&self) -> bool {
        self.group.is_active()
    }

    /// The participants, by leaf index.
    #[must_use]
    pub fn participants(&self) -> Vec<Participant> {
        self.group
            .members()
            .map(|(leaf, c)| Participant {
                leaf: leaf.0,
                identity: identity_of(c),
            })
            .collect()
    }

    /// The meeting's geofence policy, as every member agreed on it in this epoch.
    #[must_use]
    pub const fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The meeting's governance (policy admins, external joins); `None` for a meeting
    /// created without one (its fence can only narrow, anyone may join by external commit).
    #[must_use]
    pub fn governance(&self) -> Option<Governance> {
        governance::governance_of(&self.group.context().extensions)
            .ok()
            .flatten()
    }

    /// The underlying MLS group, for the adversary tests only (feature `adversary`): they
    /// reload it as a rogue member. Never API.
    #[cfg(any(feature = "adversary", fuzzing))]
    #[doc(hidden)]
    #[must_use]
    pub const fn group(&self) -> &Group {
        &self.group
    }

    /// `MLS-Exporter(label, context, length)` of the current epoch (RFC 9420 §8.5), for an
    /// application that derives keys of its own (chat, a native SFrame stack). Use a label
    /// of your own: "SFrame 1.0 Base Key" is taken by the meeting's media.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] above 64 bytes; [`ApiMisuse::NotAMember`] once a
    /// commit removed us.
    pub fn export_secret(&self, label: &[u8], context: &[u8], length: usize) -> Result<Secret> {
        self.group.export_secret(label, context, length)
    }

    /// The `epoch_authenticator` of the current epoch (RFC 9420 §8.7), as bytes: equal at
    /// every member that is not being impersonated. [`Meeting::security_code`] is derived
    /// from it.
    #[must_use]
    pub fn epoch_authenticator(&self) -> &[u8] {
        self.group.epoch_authenticator()
    }

    /// Whether a commit of ours waits for the delivery service's confirmation.
    #[must_use]
    pub const fn has_pending_commit(&self) -> bool {
        self.pending.is_some()
    }

    /// The next UI event, oldest first.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// All queued UI events, oldest first.
    pub fn drain_events(&mut self) -> Vec<Event> {
        self.events.drain(..).collect()
    }

    /// The routing decision for this client: `select(own ∩ meeting policy, ...)`, so the
    /// route is inside both the account's fence and the meeting's. An expired directory
    /// gives a denial ([`Denial::DirectoryExpired`](crate::routing::Denial::DirectoryExpired)).
    #[must_use]
    pub fn route<'d>(
        &self,
        own: &Policy,
        directory: &'d Directory,
        health: &Health,
        now: u64,
    ) -> Decision<'d> {
        select(&own.intersect(&self.policy), directory, health, now)
    }

    /// Encrypts one frame of our media `stream` with the current epoch's SFrame key into
    /// `out`; returns the frame length. `metadata` is authenticated, not encrypted (RFC 9605
    /// §4.4.3). Each stream has its own key and counter.
    ///
    /// # Errors
    /// [`ApiMisuse::BufferTooSmall`] when `out` is shorter than
    /// [`Meeting::encrypted_len`]; [`ApiMisuse::NotAMember`] after leaving; SFrame errors.
    pub fn encrypt_frame(
        &mut self,
        stream: MediaStream,
        metadata: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        if !self.group.is_active() {
            return Err(ApiMisuse::NotAMember.into());
        }
        self.media.encrypt(stream, metadata, plaintext, out)
    }

    /// The length of the next encrypted frame of `stream` for a `plaintext_len`-byte
    /// payload (`None` after leaving).
    #[must_use]
    pub fn encrypted_len(&self, stream: MediaStream, plaintext_len: usize) -> Option<usize> {
        self.media.encrypted_len(stream, plaintext_len)
    }

    /// Decrypts a media frame of another participant, received at `now` (Unix seconds),
    /// into `out` (at least as long as the frame). Frames of the current epoch and of past
    /// epochs still retained (the last 2^E - 2, for [`MeetingConfig::old_epoch_retention`]
    /// seconds) decrypt; a frame of the next epoch, sent by a member that already processed
    /// a commit this client has not, is held and comes back through
    /// [`Meeting::take_early_frame`] once the commit arrives.
    ///
    /// # Errors
    /// [`Stale::EarlyFrame`](crate::error::Stale::EarlyFrame): held for the next epoch (not
    /// a failure); [`AuthenticationFailed`](crate::Error::AuthenticationFailed) for a forged
    /// or corrupted frame; [`Stale`](crate::error::Stale) for a replayed frame, an epoch no
    /// longer held, or (`FutureEpoch`) a full buffer of early frames;
    /// [`ApiMisuse::BufferTooSmall`].
    pub fn decrypt_frame(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut [u8],
        now: u64,
    ) -> Result<FrameInfo> {
        self.media.decrypt(metadata, frame, out, now)
    }

    /// The oldest frame that arrived before its epoch and was decrypted when the epoch came
    /// ([`Event::EarlyFramesReleased`]), in arrival order. At most 256 frames or 1 MiB wait;
    /// beyond that the oldest go.
    pub fn take_early_frame(&mut self) -> Option<EarlyFrame> {
        self.media.take_early_frame()
    }

    /// Whether key material of this meeting occurs in `haystack`: the SFrame base keys of
    /// the retained epochs, the current epoch's authenticator, and its MLS exporter output
    /// for a fixed audit label. Answers one bit without exposing a key; for audits of what
    /// relays or logs captured (the relay test and the meeting example use it). Audit
    /// support, not API.
    #[doc(hidden)]
    #[must_use]
    pub fn key_material_occurs_in(&self, haystack: &[u8]) -> bool {
        let exported = self
            .group
            .export_secret(b"meetkey audit", b"", 32)
            .is_ok_and(|s| s.occurs_in(haystack));
        exported
            || self.media.key_occurs_in(haystack)
            || self
                .group
                .epoch_authenticator_secret()
                .0
                .occurs_in(haystack)
    }

    /// The security code of the current epoch: participants read it aloud and compare
    /// (see [`SecurityCode`] for the derivation).
    ///
    /// # Errors
    /// [`Error::Internal`](crate::Error::Internal) only if the suite's MAC were shorter than 32 bytes.
    pub fn security_code(&self) -> Result<SecurityCode> {
        SecurityCode::derive(&self.group)
    }
}
