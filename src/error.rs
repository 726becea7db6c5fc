//! The one error type of meetkey, grouped by who is at fault.
//!
//! Detail lives in small `Copy` sub-enums so that callers can match on the cause while the
//! top level stays short. Authentication failures are deliberately opaque: a tag, MAC or
//! signature that does not verify is [`Error::AuthenticationFailed`] and nothing more.

use core::fmt;

/// Everything that can fail in this crate.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Bytes from the network or a configuration file could not be decoded.
    InvalidMessage(InvalidMessage),
    /// A well-formed message broke a rule of RFC 9420 or RFC 9605.
    PeerMisbehaved(PeerMisbehaved),
    /// An AEAD tag, MAC or signature did not verify. Deliberately carries no detail.
    AuthenticationFailed,
    /// A frame or message was replayed, too old, or from an unknown epoch or key.
    Stale(Stale),
    /// The caller used the API wrongly (e.g. a buffer too small, a counter exhausted).
    ApiMisuse(ApiMisuse),
    /// A cipher suite, extension or credential type that meetkey does not implement.
    Unsupported(Unsupported),
    /// A bug in meetkey. Never a panic; please report it.
    Internal(&'static str),
}

/// Why bytes could not be decoded.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidMessage {
    /// The input ended before the value did.
    Truncated,
    /// Bytes were left over after the value ended.
    TrailingBytes,
    /// RFC 9420 §2.1.2: a variable-length integer did not use the minimum encoding.
    NonMinimalVarint,
    /// RFC 9420 §2.1.2: a variable-length integer started with the invalid prefix `0b11`.
    InvalidVarintPrefix,
    /// A length prefix exceeds the maximum allowed for this field.
    LengthTooLarge,
    /// RFC 9420 §2.1.1: an `optional<T>` presence octet was neither 0 nor 1.
    InvalidOptionalPresence,
    /// An enumerated value that this field does not allow (e.g. a reserved code point).
    InvalidValue,
    /// A key or point had the wrong length or was not a valid encoding.
    InvalidKey,
    /// RFC 9420 §6.3.1: the padding of a PrivateMessageContent held a non-zero byte.
    NonZeroPadding,
    /// RFC 9605 §4.3: an SFrame KID or CTR was not encoded in the minimum number of bytes
    /// (a value below 8 in the extended form, or a leading zero byte).
    NonMinimalHeaderValue,
    /// docs/ARCHITECTURE.md "Routing": a relay directory or geofence policy is malformed.
    Routing(RoutingDocument),
    /// A saved state failed its integrity check: corrupted or truncated storage (a sealed
    /// state that does not open is [`Error::AuthenticationFailed`] instead).
    CorruptedState,
}

/// What is wrong with a relay directory or a geofence policy (docs/ARCHITECTURE.md "Routing").
///
/// Each is a reason to reject the whole document: a directory is used all or nothing.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoutingDocument {
    /// The document is not JSON of the expected shape (syntax, missing or unknown field,
    /// wrong type, or a signature that is not 64 hex-encoded bytes).
    MalformedJson,
    /// The document exceeds the size limit, or lists more relays than allowed.
    TooLarge,
    /// Two relays share an `id`.
    DuplicateRelayId,
    /// A relay `tier` other than `primary` or `secondary`.
    UnknownTier,
    /// A `jurisdiction` that is not an assigned ISO 3166-1 alpha-2 code.
    InvalidJurisdiction,
    /// An `id`, `region` or `endpoint` that is empty, too long or has a forbidden character.
    InvalidField,
    /// `expires_at` is not after `issued_at`.
    InvalidValidity,
    /// A policy encoding that is not canonical (unsorted or repeated set members, a bad flag,
    /// or an unknown encoding version).
    NonCanonical,
}

/// A well-formed message that breaks a protocol rule.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerMisbehaved {
    /// The message names a different group.
    WrongGroup,
    /// The message is for a different epoch than expected.
    WrongEpoch,
    /// The content type is not allowed here.
    UnexpectedContentType,
    /// RFC 9420 §7.9.2: a parent hash does not chain (a parent node is not parent-hash
    /// valid, or a new leaf's parent hash does not match its path).
    ParentHashInvalid,
    /// RFC 9420 §7.1, §12.4.3.1: an unmerged leaf is unsorted, blank, not a descendant, or
    /// missing from a node in between.
    InvalidUnmergedLeaf,
    /// RFC 9420 §7.3, §12.4.3.1: an encryption or signature key appears twice in the tree.
    DuplicateKey,
    /// RFC 9420 §7.6: an UpdatePath has the wrong number of nodes, or a node the wrong number
    /// of ciphertexts for its copath resolution.
    UpdatePathLength,
    /// RFC 9420 §7.5: no ciphertext of the UpdatePath is addressed to a key the receiver holds.
    NoPathSecretForUs,
    /// RFC 9420 §7.5 step 6: a public key derived from a path secret differs from the one sent.
    PathKeyMismatch,
    /// RFC 9420 §7.3: a LeafNode's `leaf_node_source` is not the one its context requires.
    UnexpectedLeafSource,
    /// The sender is not a member (blank or missing leaf).
    UnknownSender,
    /// RFC 9420 §6.2: a PublicMessage carries a `membership_tag` iff its sender is a
    /// `member`; this one has a tag it must not have, or lacks the one it must have.
    MembershipTagPresence,
    /// RFC 9420 §12.4.3.1: the Welcome has no `EncryptedGroupSecrets` entry for our
    /// KeyPackageRef.
    NoGroupSecretsForUs,
    /// RFC 9420 §12.4.3.1: the cipher suite of a Welcome, GroupInfo or KeyPackage differs
    /// from the one it must match.
    CipherSuiteMismatch,
    /// RFC 9420 §5.3.1, §7.3: the application rejected a credential, or a member's new
    /// credential does not identify the same client.
    CredentialRejected,
    /// RFC 9420 §7.3: the current time is outside a KeyPackage leaf's lifetime.
    LifetimeExpired,
    /// RFC 9420 §7.2, §7.3, §11.1: a leaf does not list a capability it uses or the group
    /// requires (credential type, extension, proposal type, version, cipher suite).
    UnsupportedCapability,
    /// RFC 9420 §10.1: a KeyPackage's version or cipher suite differs from the group's, or
    /// its `init_key` equals its leaf's encryption key.
    KeyPackageMismatch,
    /// RFC 9420 §12.2: the list of committed proposals is invalid.
    InvalidProposalList,
    /// RFC 9420 §12.4: a Commit that needs an UpdatePath has none.
    MissingPath,
    /// RFC 9420 §12.4: a Commit references a proposal that was not received this epoch.
    UnknownProposalRef,
    /// RFC 9420 §8.4: a pre-shared key named in a commit or Welcome is not available.
    PskNotFound,
    /// RFC 9420 §12.4.3.1: the Welcome is not addressed to any KeyPackage we hold, or its
    /// tree does not contain our leaf.
    NotForUs,
    /// RFC 9420 §12.4.3.1: the tree's root hash differs from the GroupContext's.
    TreeHashMismatch,
    /// The ratchet tree is neither in the Welcome or GroupInfo nor supplied by the caller.
    MissingRatchetTree,
    /// RFC 9420 §12.4.3.2: an external commit or GroupInfo lacks what an external join needs.
    InvalidExternalCommit,
    /// meetkey meetings (RFC 9420 §13.3 private-use extension `meetkey_geofence`): the
    /// GroupContext carries no valid meeting policy, or a commit would remove it.
    MeetingPolicyMissing,
    /// meetkey meetings (private-use extension `meetkey_media`): the meeting's media
    /// parameters (SFrame suite, KID layout) are malformed, would be removed, or cannot
    /// name a member's leaf.
    MediaParametersInvalid,
    /// RFC 9420 §12.1.8: a message from an `external` sender, but the GroupContext has no
    /// `external_senders` extension (external proposals are allowed only with one).
    NoExternalSenders,
    /// RFC 9420 §6.1, §12.1.8.1: an `external` sender whose `sender_index` names no entry
    /// of the group's `external_senders` extension.
    UnknownExternalSender,
    /// RFC 9420 §12.1.8: a proposal type an `external` sender may not send (only `add`,
    /// `remove`, `psk`, `reinit` and `group_context_extensions`; others MUST be rejected
    /// as malformed).
    ExternalProposalType,
    /// A configured bound (tree width, proposals per commit or stored per epoch, see
    /// `mls::group::Limits`) would be exceeded; nothing was expanded or stored.
    LimitExceeded,
    /// RFC 9420 §12.2, §12.4.3.2: the Remove of an external commit is not of the joiner's
    /// own previous leaf (a different identity, or a different signature key the
    /// application did not approve).
    RejoinMismatch,
    /// RFC 9420 §12.4.3.2: an external commit includes a proposal by reference.
    ProposalByReference,
    /// The epoch counter would overflow (an epoch of 2^64 − 1 cannot be followed).
    EpochExhausted,
    /// meetkey meetings: a commit widens the meeting's geofence or changes its governance,
    /// and its committer is not one of the meeting's policy admins.
    PolicyChangeUnauthorized,
    /// meetkey meetings: an external commit that the meeting's governance does not allow
    /// (joins by external commit closed, or only rejoins of one's own leaf allowed).
    ExternalJoinRefused,
    /// RFC 9420 §12.1.7: the group was reinitialized by a ReInit commit; it can no longer
    /// be used (move to the new group).
    GroupReinitialized,
}

/// A message or frame that is replayed, too old, or keyed for something we no longer hold.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stale {
    /// The generation was already used, or its key has been deleted (RFC 9420 §9.2).
    GenerationConsumed,
    /// The generation lies too far ahead of the ratchet (outside the out-of-order window).
    GenerationTooFarAhead,
    /// RFC 9605 §4.4.4: no decryption key is known for the KID in the SFrame header (it may
    /// arrive later, or its epoch was removed, or it is one of our own encryption-only KIDs).
    UnknownKeyId,
    /// RFC 9605 §7.4, §9.3: this CTR was already accepted under this KID (anti-replay).
    Replayed,
    /// RFC 9605 §9.3: the CTR lies below the anti-replay window of its KID.
    BelowReplayWindow,
    /// RFC 9605 §5.2: the epoch is older than the one holding its low `E` bits, so its keys
    /// were (or would have to be) removed.
    EpochRetired,
    /// RFC 9420 §12.4.2: the message is for an epoch before the group's current one (for
    /// application messages: one no longer retained). Late: drop it.
    PastEpoch,
    /// RFC 9420 §12.4.2: the message is for an epoch after the group's current one. Early
    /// (or we missed a commit): keep it until that epoch arrives.
    FutureEpoch,
    /// A staged or pending commit was made for an epoch the group has left.
    CommitForOldEpoch,
    /// docs/ARCHITECTURE.md "Routing": the relay directory's `expires_at` has passed.
    DirectoryExpired,
    /// docs/ARCHITECTURE.md "Routing": the relay directory's `issued_at` lies beyond the allowed clock
    /// skew in the future.
    DirectoryNotYetValid,
    /// docs/ARCHITECTURE.md "Routing": the relay directory's version is below the last one accepted
    /// (rollback).
    DirectoryRollback,
    /// docs/ARCHITECTURE.md "Routing": a relay directory repeats the last accepted version with
    /// different contents (the operator key signed two documents for one version).
    DirectoryEquivocation,
    /// A proposal with this ProposalRef is already stored this epoch (a replay).
    DuplicateProposal,
    /// A media frame of the next epoch, before its commit: the meeting holds it and hands
    /// it back decrypted once the epoch arrives (`Meeting::take_early_frame`). Not an error
    /// of the frame; nothing to report.
    EarlyFrame,
}

/// The caller used the API in a way it does not allow.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiMisuse {
    /// An output buffer is too small.
    BufferTooSmall,
    /// A requested output length is out of range for the primitive.
    InvalidLength,
    /// A leaf or node index is outside the tree.
    IndexOutOfRange,
    /// A value could not be encoded (e.g. a vector longer than 2^30 bytes).
    EncodingOverflow,
    /// The sequence number or counter of a key is exhausted; the key must be rotated.
    CounterExhausted,
    /// RFC 9180 §5.3: an export-only HPKE context cannot seal or open.
    ExportOnlyContext,
    /// RFC 9605 §4.4.1, §9.1: this SFrame key was already handed to an encryptor; a second
    /// one would reuse (KID, CTR) pairs and so nonces.
    EncryptionKeyInUse,
    /// RFC 9605 §5.2: the epoch bits `E`, index bits `S`, sender index or context do not fit
    /// together in a 64-bit KID.
    InvalidKidLayout,
    /// RFC 9420 §6.1: the content was signed for another wire format than the one it is
    /// being protected as (the signature covers the wire format).
    WireFormatMismatch,
    /// A key the operation needs was not given (e.g. the membership key for a PublicMessage
    /// from a member, RFC 9420 §6.2).
    MissingKey,
    /// RFC 9420 §6.3.2: the sender cannot send this way (a PrivateMessage needs a `member`
    /// sender whose leaf is the one given).
    InvalidSender,
    /// RFC 9420 §6, §6.1: the content type cannot be sent this way (application data as a
    /// PublicMessage, a content type the sender type does not allow, a ProposalRef of a
    /// non-proposal).
    UnexpectedContentType,
    /// RFC 9420 §6.1: a commit must carry a confirmation tag and other content must not.
    ConfirmationTagPresence,
    /// There is no pending commit to merge.
    NoPendingCommit,
    /// The operation needs a member of the group (e.g. removing a blank leaf, or sending
    /// after being removed).
    NotAMember,
    /// RFC 9420 §12.4: a member that received proposals must commit them before sending
    /// application data.
    ProposalsPending,
    /// A member does not process its own commit: merge the pending commit instead.
    OwnCommit,
    /// A commit of ours still waits for the delivery service (RFC 9420 §14: one commit per
    /// epoch is accepted; confirm or discard the pending one first).
    CommitPending,
    /// RFC 9420 §12.1.8: an external sender may only propose `add`, `remove`, `psk`,
    /// `reinit` and `group_context_extensions`.
    ExternalProposalType,
    /// No proposal with this ProposalRef is stored in this epoch.
    UnknownProposal,
    /// A KeyPackage store already holds a KeyPackage with this KeyPackageRef.
    DuplicateKeyPackage,
    /// RFC 9420 §7.3: a KeyPackage to be sent (added by our commit) is outside its lifetime
    /// at the given time, or its total lifetime exceeds the configured maximum.
    KeyPackageExpired,
}

/// Something meetkey does not implement.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    /// The cipher suite is not implemented.
    CipherSuite(u16),
    /// The protocol version is not implemented.
    ProtocolVersion(u16),
    /// RFC 9420 §5.3: a credential type whose body meetkey cannot parse (the body has no
    /// length prefix, so it cannot be skipped).
    CredentialType(u16),
    /// RFC 9420 §12.1: a proposal type whose body meetkey cannot parse (no length prefix).
    ProposalType(u16),
    /// RFC 9420 §6: a wire format whose body meetkey cannot parse (no length prefix).
    WireFormat(u16),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidMessage(e) => write!(f, "invalid message: {e:?}"),
            Self::PeerMisbehaved(e) => write!(f, "peer misbehaved: {e:?}"),
            Self::AuthenticationFailed => f.write_str("authentication failed"),
            Self::Stale(e) => write!(f, "stale or replayed: {e:?}"),
            Self::ApiMisuse(e) => write!(f, "API misuse: {e:?}"),
            Self::Unsupported(Unsupported::CipherSuite(cs)) => {
                write!(f, "unsupported cipher suite 0x{cs:04x}")
            }
            Self::Unsupported(Unsupported::ProtocolVersion(v)) => {
                write!(f, "unsupported protocol version 0x{v:04x}")
            }
            Self::Unsupported(Unsupported::CredentialType(t)) => {
                write!(f, "unsupported credential type 0x{t:04x}")
            }
            Self::Unsupported(Unsupported::ProposalType(t)) => {
                write!(f, "unsupported proposal type 0x{t:04x}")
            }
            Self::Unsupported(Unsupported::WireFormat(t)) => {
                write!(f, "unsupported wire format 0x{t:04x}")
            }
            Self::Internal(what) => write!(f, "internal error (a bug in meetkey): {what}"),
        }
    }
}

impl core::error::Error for Error {}

macro_rules! from_detail {
    ($($detail:ident),*) => {$(
        impl From<$detail> for Error {
            fn from(e: $detail) -> Self {
                Self::$detail(e)
            }
        }
    )*};
}

impl From<RoutingDocument> for Error {
    fn from(e: RoutingDocument) -> Self {
        Self::InvalidMessage(InvalidMessage::Routing(e))
    }
}
from_detail!(
    InvalidMessage,
    PeerMisbehaved,
    Stale,
    ApiMisuse,
    Unsupported
);

/// The result type of meetkey.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detail_converts_and_displays() {
        let e: Error = InvalidMessage::Truncated.into();
        assert_eq!(e, Error::InvalidMessage(InvalidMessage::Truncated));
        assert_eq!(e.to_string(), "invalid message: Truncated");
        let e: Error = Unsupported::CipherSuite(2).into();
        assert_eq!(e.to_string(), "unsupported cipher suite 0x0002");
        let e: Error = RoutingDocument::UnknownTier.into();
        assert_eq!(
            e,
            Error::InvalidMessage(InvalidMessage::Routing(RoutingDocument::UnknownTier))
        );
        assert_eq!(e.to_string(), "invalid message: Routing(UnknownTier)");
        assert_eq!(
            Error::AuthenticationFailed.to_string(),
            "authentication failed"
        );
    }
}
