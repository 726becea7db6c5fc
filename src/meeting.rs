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

mod early;
mod early_frames;
mod events;
mod governance;
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
mod security_code;
#[cfg(test)]
mod tampered_tests;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;

use crate::crypto::{CipherSuite, Rng, Secret, SignaturePrivateKey};
use crate::error::{ApiMisuse, PeerMisbehaved, Result};
use crate::mls::group::{
    CommitOptions, Group, GroupConfig, KeyPackageBundle, ProcessedMessage, StagedCommit,
};
use crate::mls::wire::{
    Add, Credential, GroupContextExtensions, KeyPackage, Lifetime, MlsMessage, MlsMessageBody,
    Proposal, Remove, Sender,
};
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
    /// A KeyPackage bundle for joining meetings: the leaf lists the `meetkey_geofence` and
    /// `meetkey_governance` extensions in its capabilities, which every member of a meeting
    /// must support.
    ///
    /// # Errors
    /// [`Unsupported::CipherSuite`](crate::error::Unsupported::CipherSuite) for a suite
    /// meetkey does not implement; an encoding overflow of an absurd credential.
    pub fn key_package(
        suite: CipherSuite,
        identity: &[u8],
        signer: SignaturePrivateKey,
        lifetime: Lifetime,
        rng: &mut impl Rng,
    ) -> Result<KeyPackageBundle> {
        KeyPackageBundle::new(
            suite,
            Credential::Basic {
                identity: identity.to_vec(),
            },
            signer,
            lifetime,
            &[GEOFENCE_EXTENSION, GOVERNANCE_EXTENSION, MEDIA_EXTENSION],
            rng,
        )
    }

    /// Creates a meeting with `policy` as its geofence; we are its only participant and its
    /// only policy admin, and participants may rejoin by external commit but nobody joins
    /// that way for the first time ([`ExternalJoins::RejoinOnly`]): see
    /// [`Meeting::create_with_governance`].
    ///
    /// # Errors
    /// As [`Meeting::create_with_governance`].
    pub fn create(
        config: MeetingConfig,
        bundle: KeyPackageBundle,
        meeting_id: &[u8],
        policy: &Policy,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let me = identity_of(&bundle.key_package.leaf_node.credential);
        let governance = Governance::new([me], ExternalJoins::RejoinOnly)?;
        Self::create_with_governance(config, bundle, meeting_id, policy, &governance, rng)
    }

    /// Creates a meeting with `policy` as its geofence and `governance` deciding who may
    /// widen it and who may join by external commit; we are its only participant.
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnsupportedCapability`] when `bundle` does not list the meeting's
    /// extensions; the errors of [`Group::create`]; SFrame keying errors (our leaf index
    /// beyond the KID layout).
    pub fn create_with_governance(
        config: MeetingConfig,
        bundle: KeyPackageBundle,
        meeting_id: &[u8],
        policy: &Policy,
        governance: &Governance,
        rng: &mut impl Rng,
    ) -> Result<Self> {
        let caps = &bundle.key_package.leaf_node.capabilities.extensions;
        if ![GEOFENCE_EXTENSION, GOVERNANCE_EXTENSION, MEDIA_EXTENSION]
            .iter()
            .all(|t| caps.contains(t))
        {
            return Err(PeerMisbehaved::UnsupportedCapability.into());
        }
        let media = media_ext::MediaParams::from_config(&config)?;
        let group = Group::create(
            group_config(&config),
            bundle,
            meeting_id,
            policy_extensions(policy, governance, &media),
            rng,
        )?;
        Self::from_group(config, group, JoinMethod::Created, 0)
    }

    /// Joins by the Welcome a member sent after adding our KeyPackage.
    ///
    /// # Errors
    /// [`ApiMisuse::UnexpectedContentType`] when `welcome` is not a Welcome; the errors of
    /// [`Group::join_welcome`]; [`PeerMisbehaved::MeetingPolicyMissing`] when the group
    /// carries no valid meeting policy or governance.
    pub fn join_welcome(
        config: MeetingConfig,
        welcome: &MlsMessage,
        bundle: KeyPackageBundle,
    ) -> Result<Self> {
        let MlsMessageBody::Welcome(w) = &welcome.body else {
            return Err(ApiMisuse::UnexpectedContentType.into());
        };
        let group = Group::join_welcome(group_config(&config), w, bundle, None, vec![])?;
        Self::from_group(config, group, JoinMethod::Welcome, 0)
    }

    /// A join request for the meeting whose GroupInfo is `group_info`: an Add of our
    /// KeyPackage from a `new_member_proposal` sender (RFC 9420 §12.1.8), for the delivery
    /// service to forward. Members see [`Event::JoinRequested`]; nobody adds us unless a
    /// member's application admits the request ([`Meeting::admit`]) and commits, and then we
    /// join with [`Meeting::join_welcome`] and the same bundle. A request is for one epoch:
    /// send it again if the meeting moved on before anyone admitted it.
    ///
    /// # Errors
    /// [`ApiMisuse::UnexpectedContentType`] when `group_info` is not a GroupInfo.
    pub fn join_request(group_info: &MlsMessage, bundle: &KeyPackageBundle) -> Result<MlsMessage> {
        let MlsMessageBody::GroupInfo(gi) = &group_info.body else {
            return Err(ApiMisuse::UnexpectedContentType.into());
        };
        bundle.join_request(&gi.group_context.group_id, gi.group_context.epoch)
    }

    /// Joins by external commit from a GroupInfo (with the ratchet tree extension), if the
    /// meeting's governance allows it ([`ExternalJoins::Open`]). Returns the meeting and the
    /// commit to send; the meeting is already in the new epoch (an external commit cannot be
    /// retried with the same keys if the server rejects it: join again with a fresh
    /// KeyPackage).
    ///
    /// # Errors
    /// [`ApiMisuse::UnexpectedContentType`] when `group_info` is not a GroupInfo; the errors
    /// of [`Group::join_external`]; [`PeerMisbehaved::ExternalJoinRefused`] when the
    /// meeting does not allow it; [`PeerMisbehaved::MeetingPolicyMissing`].
    pub fn join_external(
        config: MeetingConfig,
        group_info: &MlsMessage,
        bundle: KeyPackageBundle,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        Self::external_commit(config, group_info, bundle, false, rng)
    }

    /// Rejoins by external commit, replacing our own previous leaf (the one with `bundle`'s
    /// signature key): for a device that lost its state or fell behind. Members see
    /// [`Event::ParticipantRejoined`].
    ///
    /// # Errors
    /// As [`Meeting::join_external`]; [`ApiMisuse::NotAMember`] when no leaf has our
    /// signature key.
    pub fn rejoin_external(
        config: MeetingConfig,
        group_info: &MlsMessage,
        bundle: KeyPackageBundle,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        Self::external_commit(config, group_info, bundle, true, rng)
    }

    fn external_commit(
        config: MeetingConfig,
        group_info: &MlsMessage,
        bundle: KeyPackageBundle,
        rejoin: bool,
        rng: &mut impl Rng,
    ) -> Result<(Self, MlsMessage)> {
        let MlsMessageBody::GroupInfo(gi) = &group_info.body else {
            return Err(ApiMisuse::UnexpectedContentType.into());
        };
        let group_config = group_config(&config);
        let (group, commit) = if rejoin {
            Group::rejoin_external(group_config, gi, bundle, None, rng)?
        } else {
            Group::join_external(group_config, gi, bundle, None, rng)?
        };
        let meeting = Self::from_group(config, group, JoinMethod::External, 0)?;
        Ok((meeting, commit))
    }

    fn from_group(
        config: MeetingConfig,
        group: Group,
        how: JoinMethod,
        instance: u64,
    ) -> Result<Self> {
        let policy = policy_ext::policy_of(&group.context().extensions)?;
        governance::governance_of(&group.context().extensions)?;
        let media = media::Media::new(&config, &group, instance)?;
        let mut events = VecDeque::new();
        events.push_back(Event::Joined {
            epoch: group.epoch(),
            how,
        });
        Ok(Self {
            group,
            config,
            policy,
            media,
            events,
            pending: None,
            released_welcome: None,
            early: early::Early::default(),
            next_rotation_at: None,
        })
    }

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

    fn start_commit(
        &mut self,
        proposals: Vec<Proposal>,
        intent: CommitIntent,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        if self.pending.is_some() {
            return Err(ApiMisuse::CommitPending.into());
        }
        let proposals = proposals.into_iter().map(crate::mls::Proposal).collect();
        let out = self.group.commit(proposals, &CommitOptions::at(now), rng)?;
        let bytes = match crate::codec::Encode::to_bytes(&out.commit) {
            Ok(b) => b,
            Err(e) => {
                self.group.discard_pending_commit();
                return Err(e);
            }
        };
        self.pending = Some(PendingCommit {
            bytes,
            welcome: out.welcome,
            intent,
        });
        Ok(Outgoing { commit: out.commit })
    }

    /// Adds participants by their KeyPackages (one commit, one Welcome). `now` (Unix
    /// seconds) is checked against each KeyPackage's lifetime (RFC 9420 §7.3).
    ///
    /// # Errors
    /// [`ApiMisuse::CommitPending`] while a commit of ours is unconfirmed;
    /// [`ApiMisuse::KeyPackageExpired`] for a KeyPackage outside its lifetime;
    /// [`PeerMisbehaved::UnsupportedCapability`] when a KeyPackage does not support the
    /// meeting extensions; the errors of [`Group::commit`].
    pub fn add(
        &mut self,
        key_packages: &[KeyPackage],
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let proposals = key_packages
            .iter()
            .map(|kp| {
                Proposal::Add(Box::new(Add {
                    key_package: kp.clone(),
                }))
            })
            .collect();
        self.start_commit(
            proposals,
            CommitIntent::Add(key_packages.to_vec()),
            now,
            rng,
        )
    }

    /// Removes the participant at `leaf`.
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for our own leaf (use [`Meeting::leave`]); as
    /// [`Meeting::add`].
    pub fn remove(&mut self, leaf: u32, now: u64, rng: &mut impl Rng) -> Result<Outgoing> {
        if leaf == self.own_leaf() {
            return Err(ApiMisuse::IndexOutOfRange.into());
        }
        self.start_commit(
            vec![Proposal::Remove(Remove { removed: leaf })],
            CommitIntent::Remove(leaf),
            now,
            rng,
        )
    }

    /// Rotates our keys now: a commit with a fresh UpdatePath (post-compromise security),
    /// committing the admitted proposals of this epoch (leave requests, admitted join
    /// requests) that are still valid.
    ///
    /// # Errors
    /// As [`Meeting::add`].
    pub fn rotate(&mut self, now: u64, rng: &mut impl Rng) -> Result<Outgoing> {
        self.start_commit(Vec::new(), CommitIntent::Rotate, now, rng)
    }

    /// Rotates if the schedule says so: the first call starts the schedule at `now`; a
    /// rotation is due `rotation_interval` seconds after the last scheduled one.
    ///
    /// # Errors
    /// As [`Meeting::rotate`].
    pub fn rotate_if_due(&mut self, now: u64, rng: &mut impl Rng) -> Result<Option<Outgoing>> {
        self.media.expire(now);
        let Some(interval) = self.config.rotation_interval else {
            return Ok(None);
        };
        match self.next_rotation_at {
            None => {
                self.next_rotation_at = Some(now.saturating_add(interval));
                Ok(None)
            }
            Some(due) if now >= due && self.pending.is_none() => {
                let out = self.rotate(now, rng)?;
                self.next_rotation_at = Some(now.saturating_add(interval));
                Ok(Some(out))
            }
            Some(_) => Ok(None),
        }
    }

    /// Changes the meeting's geofence: a GroupContextExtensions commit, visible to every
    /// member as [`Event::PolicyChanged`]. Any participant may narrow the fence; widening it
    /// in any way takes a policy admin of the meeting's [`Governance`].
    ///
    /// # Errors
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`] for a widening by a non-admin (nothing
    /// is sent); as [`Meeting::add`].
    pub fn set_policy(
        &mut self,
        policy: &Policy,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let extensions = policy_ext::replace_policy(&self.group.context().extensions, policy);
        self.start_commit(
            vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            })],
            CommitIntent::SetPolicy(policy.clone()),
            now,
            rng,
        )
    }

    /// Changes the meeting's governance (admins, external joins): policy admins only.
    ///
    /// # Errors
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`] unless we are a policy admin; as
    /// [`Meeting::add`].
    pub fn set_governance(
        &mut self,
        governance: &Governance,
        now: u64,
        rng: &mut impl Rng,
    ) -> Result<Outgoing> {
        let mut extensions: Vec<_> = self
            .group
            .context()
            .extensions
            .iter()
            .filter(|e| e.extension_type != GOVERNANCE_EXTENSION)
            .cloned()
            .collect();
        extensions.push(governance.extension());
        let policy = self.policy.clone();
        let extensions = policy_ext::replace_policy(&extensions, &policy);
        self.start_commit(
            vec![Proposal::GroupContextExtensions(GroupContextExtensions {
                extensions,
            })],
            CommitIntent::SetGovernance(governance.clone()),
            now,
            rng,
        )
    }

    /// Asks to leave: a Remove proposal for our leaf that another participant commits. We
    /// get [`Event::Left`] when that commit arrives.
    ///
    /// # Errors
    /// The errors of [`Group::propose_leave`].
    pub fn leave(&mut self, rng: &mut impl Rng) -> Result<MlsMessage> {
        self.group.propose_leave(rng)
    }

    /// Admits a proposal this epoch stored (see [`Event::ProposalReceived`] and
    /// [`Event::JoinRequested`]): our next commit ([`Meeting::rotate`]) includes it. Nothing
    /// from a non-member, and no member's proposal other than a leave request or an Update,
    /// is ever committed by us without this call.
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no such proposal is stored in this epoch.
    pub fn admit(&mut self, reference: &[u8]) -> Result<()> {
        self.group.admit_proposal(reference)?;
        self.events.push_back(Event::CommitNeeded {
            epoch: self.epoch(),
        });
        Ok(())
    }

    /// Withdraws a proposal's admission (a member's leave request, say, stays stored).
    ///
    /// # Errors
    /// [`ApiMisuse::UnknownProposal`] when no such proposal is stored in this epoch.
    pub fn refuse(&mut self, reference: &[u8]) -> Result<()> {
        self.group.refuse_proposal(reference)
    }

    /// Whether an admitted proposal of another participant waits for a commit (a leave
    /// request, an admitted join request): call [`Meeting::rotate`].
    #[must_use]
    pub fn commit_needed(&self) -> bool {
        self.group.commit_needed()
    }

    /// The GroupInfo of the current epoch (with the ratchet tree) for external joiners.
    ///
    /// # Errors
    /// The errors of [`Group::group_info`].
    pub fn group_info(&self) -> Result<MlsMessage> {
        self.group.group_info(true)
    }

    /// Merges our pending commit: the delivery service accepted it.
    ///
    /// # Errors
    /// [`ApiMisuse::NoPendingCommit`] without one; the errors of
    /// [`Group::merge_pending_commit`].
    pub fn confirm_pending(&mut self) -> Result<()> {
        if self.pending.is_none() {
            return Err(ApiMisuse::NoPendingCommit.into());
        }
        let staged = self
            .group
            .pending_commit()
            .ok_or(ApiMisuse::NoPendingCommit)?;
        let next = self.stage_epoch(staged)?;
        let before = self.snapshot();
        let own = self.own_leaf();
        self.group.merge_pending_commit()?;
        if let Some(p) = self.pending.take() {
            self.released_welcome = p.welcome;
        }
        self.after_epoch_change(before, own, None, next);
        Ok(())
    }

    /// Drops our pending commit: the delivery service refused it or another commit won.
    pub fn discard_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.group.discard_pending_commit();
            self.events.push_back(Event::PendingCommitDiscarded {
                epoch: self.epoch(),
                intent: p.intent,
            });
        }
    }

    /// Processes a handshake message from the delivery service: the echo of our own commit
    /// (merges it), a commit of another member (discards ours if we had one: theirs won),
    /// or a proposal (validated and stored; [`Event::ProposalReceived`] or
    /// [`Event::JoinRequested`] tells the UI, and only an admitted one goes into our next
    /// commit). Application messages are not used by meetings and are refused.
    ///
    /// # Errors
    /// The errors of [`Group::process_message`] and [`Group::merge_staged_commit`];
    /// [`PeerMisbehaved::MeetingPolicyMissing`] for a commit that drops the meeting policy;
    /// [`PeerMisbehaved::PolicyChangeUnauthorized`] for a commit that widens the fence
    /// without a policy admin; [`PeerMisbehaved::ExternalJoinRefused`];
    /// [`ApiMisuse::UnexpectedContentType`] for application data. The meeting is unchanged
    /// on error.
    ///
    /// A handshake of a later epoch (it came before the commit that leads there) is kept,
    /// up to 64 messages, 4 MiB and 16 epochs ahead ([`Event::HandshakeBuffered`]), and
    /// processed as soon as the meeting reaches its epoch; beyond those bounds it is
    /// [`Stale::FutureEpoch`](crate::error::Stale::FutureEpoch). One of an earlier epoch is
    /// [`Stale::PastEpoch`](crate::error::Stale::PastEpoch).
    ///
    /// Delivery is idempotent for proposals: the delivery service's echo of our own proposal,
    /// or a proposal delivered twice, is already stored and changes nothing (`Ok`).
    pub fn process(&mut self, message: &MlsMessage) -> Result<()> {
        let result = match self.process_one(message) {
            Err(crate::error::Error::Stale(crate::error::Stale::DuplicateProposal)) => Ok(()),
            other => other,
        };
        if early::is_future(&result) {
            return self.keep_early(message);
        }
        result?;
        self.process_early();
        Ok(())
    }

    fn process_one(&mut self, message: &MlsMessage) -> Result<()> {
        if let Some(pending) = &self.pending {
            if crate::codec::Encode::to_bytes(message).is_ok_and(|b| b == pending.bytes) {
                return self.confirm_pending();
            }
        }
        match self.group.process_message(message)? {
            ProcessedMessage::Commit(staged) => self.merge_theirs(*staged),
            ProcessedMessage::Proposal {
                sender,
                proposal,
                reference,
                admitted,
            } => {
                let epoch = self.epoch();
                let summary = events::summarize(&proposal.0, &self.group, &self.policy);
                if let (Sender::NewMemberProposal, Proposal::Add(add)) = (sender, &proposal.0) {
                    self.events.push_back(Event::JoinRequested {
                        epoch,
                        reference,
                        identity: identity_of(&add.key_package.leaf_node.credential),
                    });
                } else {
                    self.events.push_back(Event::ProposalReceived {
                        epoch,
                        reference,
                        from: sender,
                        summary,
                        admitted,
                    });
                }
                if admitted {
                    self.events.push_back(Event::CommitNeeded { epoch });
                }
                Ok(())
            }
            ProcessedMessage::Application { .. } => Err(ApiMisuse::UnexpectedContentType.into()),
        }
    }

    fn merge_theirs(&mut self, staged: StagedCommit) -> Result<()> {
        // (The meeting's rules, the policy's presence among them, ran while staging.)
        let before = self.snapshot();
        let committer = staged.committer().0;
        let removes_us = staged.removes_us();
        let rejoin_of = staged.rejoin_of().map(|l| l.0);
        // Everything of the new epoch that can fail is computed first: an error leaves the
        // meeting exactly as it was.
        let next = if removes_us {
            None
        } else {
            Some(self.stage_epoch(&staged)?)
        };
        self.group.merge_staged_commit(staged)?;
        if let Some(p) = self.pending.take() {
            // Another commit won this epoch; ours can never apply, nor its Welcome.
            self.group.discard_pending_commit();
            self.events.push_back(Event::PendingCommitDiscarded {
                epoch: before.epoch,
                intent: p.intent,
            });
        }
        match next {
            Some(next) => self.after_epoch_change(before, committer, rejoin_of, next),
            None => {
                self.events.push_back(Event::Left {
                    epoch: self.group.epoch(),
                });
                self.media.clear();
            }
        }
        Ok(())
    }

    /// What the meeting needs of a staged epoch, computed before the group merges it: the
    /// policy in its GroupContext and its media keys.
    fn stage_epoch(&self, staged: &StagedCommit) -> Result<StagedEpoch> {
        let extensions = &staged.new_context().extensions;
        let policy = policy_ext::policy_of(extensions)?;
        let exporter =
            |label: &[u8], len| staged.export_secret(self.group.suite(), label, b"", len);
        let media = match media_ext::media_of(extensions)? {
            Some(params) if params != self.media.params() => {
                self.media
                    .stage_replaced(params, &self.config, staged.new_epoch(), exporter)?
            }
            _ => self.media.stage(staged.new_epoch(), exporter)?,
        };
        Ok(StagedEpoch { policy, media })
    }

    fn snapshot(&self) -> events::Snapshot {
        events::Snapshot {
            epoch: self.group.epoch(),
            participants: self.participants(),
        }
    }

    fn after_epoch_change(
        &mut self,
        before: events::Snapshot,
        committer: u32,
        rejoin_of: Option<u32>,
        next: StagedEpoch,
    ) {
        let StagedEpoch { policy, media } = next;
        let policy_changed = policy != self.policy;
        self.policy = policy;
        let early = self.media.install(media);
        let after = self.participants();
        let epoch = self.group.epoch();
        self.events
            .push_back(Event::EpochChanged { epoch, committer });
        if early.released > 0 || early.refused > 0 {
            self.events.push_back(Event::EarlyFramesReleased {
                epoch,
                released: early.released,
                refused: early.refused,
            });
        }
        let membership_changed =
            events::push_membership(&mut self.events, &before, &after, rejoin_of, committer);
        if policy_changed {
            self.events.push_back(Event::PolicyChanged {
                epoch,
                policy: self.policy.clone(),
            });
        }
        if !membership_changed && !policy_changed {
            self.events.push_back(Event::Rotated {
                epoch,
                leaf: committer,
            });
        }
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
