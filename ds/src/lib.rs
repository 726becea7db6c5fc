//! The client side of meetkey's delivery service (`docs/delivery-service.md`): one trait,
//! [`DeliveryService`], over two backends, and [`Member`], a meeting driven through it.
//!
//! ```text
//!  Member { Meeting, cursor } ── publish(commit) ──► DeliveryService ──► Appended | Conflict
//!        ▲                                               │  (first commit of an epoch wins)
//!        └──── sync(): fetch(meeting, after = cursor) ◄──┘  ordered log, resumable by sequence
//!  KeyPackages (claimed once) · GroupInfo (latest, for external joins) · Welcomes (by owner)
//! ```
//!
//! - [`embedded::EmbeddedDs`]: in-process, no setup; [`tcp::TcpServer`] serves it on a
//!   loopback port to [`tcp::TcpDs`] clients (the meeting example's default).
//! - [`nats::NatsDs`]: NATS JetStream — one stream for every meeting's handshakes, a commit
//!   published with the expected-last-subject-sequence condition on its epoch's subject (so
//!   only the first commit of an epoch is stored), KeyPackages and GroupInfos in KV buckets.
//!
//! The delivery service is hostile to meetkey: everything it returns is bytes the client
//! parses and checks ([`Member::sync`] turns a refused entry into a report, never a panic
//! or a state change). The core library stays sans-IO; this crate is the IO.

#![forbid(unsafe_code)]

pub mod embedded;
mod member;
pub mod nats;
pub mod tcp;

pub use member::{Member, MemberError, SyncReport};

use meetkey::mls::{KeyPackage, MessageKind, MlsMessage};

/// One entry of a meeting's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its position: entries of one meeting come in increasing order; resume after the last
    /// one processed.
    pub seq: u64,
    /// The handshake, as the delivery service stored it (untrusted).
    pub message: Vec<u8>,
}

/// What became of a published handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Appended to the meeting's log at `seq`.
    Appended {
        /// Its position.
        seq: u64,
    },
    /// Refused: another commit of that epoch was appended first. Process the log (the
    /// winner discards ours) and re-issue.
    Conflict,
}

/// A delivery-service failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DsError {
    /// The service could not be reached or did not answer.
    Unavailable(String),
    /// The service refused the request (e.g. a message that names no meeting).
    Refused(&'static str),
}

impl core::fmt::Display for DsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Unavailable(why) => write!(f, "delivery service unavailable: {why}"),
            Self::Refused(why) => write!(f, "delivery service refused: {why}"),
        }
    }
}

impl std::error::Error for DsError {}

/// The contract of `docs/delivery-service.md`, as a client uses it.
pub trait DeliveryService {
    /// Appends a handshake (commit or proposal) to its meeting's log. A commit is appended
    /// only if no commit of its epoch was ([`Published::Conflict`] otherwise).
    ///
    /// # Errors
    /// [`DsError::Refused`] for a message that is not a handshake of a meeting;
    /// [`DsError::Unavailable`].
    fn publish(&mut self, message: &MlsMessage) -> Result<Published, DsError>;

    /// Up to `max` entries of `meeting`'s log after position `after` (0: from the start).
    ///
    /// # Errors
    /// [`DsError::Unavailable`].
    fn fetch(&mut self, meeting: &[u8], after: u64, max: usize) -> Result<Vec<Entry>, DsError>;

    /// Publishes a KeyPackage of `owner`. A last-resort one is handed out only when no
    /// other is left, and never consumed (RFC 9420 §16.8).
    ///
    /// # Errors
    /// [`DsError::Unavailable`].
    fn publish_key_package(
        &mut self,
        owner: &[u8],
        key_package: &KeyPackage,
        last_resort: bool,
    ) -> Result<(), DsError>;

    /// Takes one of `owner`'s KeyPackages: each is handed out at most once.
    ///
    /// # Errors
    /// [`DsError::Unavailable`].
    fn claim_key_package(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError>;

    /// Stores a meeting's latest GroupInfo, for external joins and rejoins.
    ///
    /// # Errors
    /// [`DsError::Refused`] for a message that is not a GroupInfo.
    fn put_group_info(&mut self, group_info: &MlsMessage) -> Result<(), DsError>;

    /// The latest GroupInfo of `meeting`.
    ///
    /// # Errors
    /// [`DsError::Unavailable`].
    fn group_info(&mut self, meeting: &[u8]) -> Result<Option<Vec<u8>>, DsError>;

    /// Hands a Welcome to `owner` (the client whose KeyPackage the commit added).
    ///
    /// # Errors
    /// [`DsError::Refused`] for a message that is not a Welcome.
    fn send_welcome(&mut self, owner: &[u8], welcome: &MlsMessage) -> Result<(), DsError>;

    /// The oldest Welcome waiting for `owner`, removed from the service.
    ///
    /// # Errors
    /// [`DsError::Unavailable`].
    fn take_welcome(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError>;
}

impl<T: DeliveryService + ?Sized> DeliveryService for Box<T> {
    fn publish(&mut self, message: &MlsMessage) -> Result<Published, DsError> {
        (**self).publish(message)
    }
    fn fetch(&mut self, meeting: &[u8], after: u64, max: usize) -> Result<Vec<Entry>, DsError> {
        (**self).fetch(meeting, after, max)
    }
    fn publish_key_package(
        &mut self,
        owner: &[u8],
        key_package: &KeyPackage,
        last_resort: bool,
    ) -> Result<(), DsError> {
        (**self).publish_key_package(owner, key_package, last_resort)
    }
    fn claim_key_package(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        (**self).claim_key_package(owner)
    }
    fn put_group_info(&mut self, group_info: &MlsMessage) -> Result<(), DsError> {
        (**self).put_group_info(group_info)
    }
    fn group_info(&mut self, meeting: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        (**self).group_info(meeting)
    }
    fn send_welcome(&mut self, owner: &[u8], welcome: &MlsMessage) -> Result<(), DsError> {
        (**self).send_welcome(owner, welcome)
    }
    fn take_welcome(&mut self, owner: &[u8]) -> Result<Option<Vec<u8>>, DsError> {
        (**self).take_welcome(owner)
    }
}

/// The meeting and epoch of a handshake, and whether it is a commit.
pub(crate) fn handshake_of(message: &MlsMessage) -> Result<(Vec<u8>, u64, bool), DsError> {
    let kind = message.kind();
    if !matches!(
        kind,
        MessageKind::Commit | MessageKind::Proposal | MessageKind::Application
    ) {
        return Err(DsError::Refused("not a handshake"));
    }
    let (group, epoch) = message
        .group_and_epoch()
        .ok_or(DsError::Refused("no meeting"))?;
    Ok((group.to_vec(), epoch, kind == MessageKind::Commit))
}

/// The meeting of a GroupInfo, and its encoding.
pub(crate) fn group_info_of(message: &MlsMessage) -> Result<(Vec<u8>, Vec<u8>), DsError> {
    if message.kind() != MessageKind::GroupInfo {
        return Err(DsError::Refused("not a GroupInfo"));
    }
    let (meeting, _) = message
        .group_and_epoch()
        .ok_or(DsError::Refused("no meeting"))?;
    Ok((meeting.to_vec(), encode(message)?))
}

/// The encoding of a Welcome.
pub(crate) fn welcome_bytes(message: &MlsMessage) -> Result<Vec<u8>, DsError> {
    if message.kind() != MessageKind::Welcome {
        return Err(DsError::Refused("not a Welcome"));
    }
    encode(message)
}

/// The encoding of a message.
pub(crate) fn encode(message: &MlsMessage) -> Result<Vec<u8>, DsError> {
    message
        .to_bytes()
        .map_err(|_| DsError::Refused("unencodable"))
}

/// Lowercase hex, for subjects and keys.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}
