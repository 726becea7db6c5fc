//! Into a meeting: KeyPackages, creating a meeting, joining by Welcome, by join request or
//! by external commit, and rejoining in place of an old leaf.

use std::collections::VecDeque;

use crate::crypto::{CipherSuite, Rng, SignaturePrivateKey};
use crate::error::{ApiMisuse, PeerMisbehaved, Result};
use crate::mls::group::{Group, KeyPackageBundle};
use crate::mls::wire::{Credential, Lifetime, MlsMessage, MlsMessageBody};
use crate::routing::Policy;

use super::*;

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
}
