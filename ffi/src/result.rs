//! The result codes of the C ABI. The values are fixed: never renumber, only append.

use std::ffi::CStr;

use meetkey::error::ApiMisuse;
use meetkey::Error;

/// The outcome of every `meetkey_*` call.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetkeyResult {
    /// Success.
    MeetkeyOk = 0,
    /// A required pointer argument was NULL.
    MeetkeyNullPointer = 1,
    /// An output buffer is too short; the needed length was written to its `*_len`
    /// out-parameter and nothing else changed.
    MeetkeyBufferTooShort = 2,
    /// An argument is out of range or not valid UTF-8 / a valid policy.
    MeetkeyInvalidArgument = 3,
    /// Input bytes do not decode (malformed message or frame).
    MeetkeyInvalidMessage = 4,
    /// A peer sent something the protocol forbids (e.g. a commit dropping the policy).
    MeetkeyPeerMisbehaved = 5,
    /// Authentication failed (forged or corrupted frame or message).
    MeetkeyAuthenticationFailed = 6,
    /// Replayed, too old, or for an epoch no longer held.
    MeetkeyStale = 7,
    /// The call is not valid in the current state (e.g. a commit is already pending).
    MeetkeyApiMisuse = 8,
    /// An unsupported cipher suite, version or feature.
    MeetkeyUnsupported = 9,
    /// An internal error (a bug).
    MeetkeyInternal = 10,
    /// A panic was caught at the ABI boundary (a bug); the handle should be freed.
    MeetkeyPanic = 11,
    /// There is nothing to take (no pending commit or Welcome in the outbox).
    MeetkeyNothingPending = 12,
}

impl From<Error> for MeetkeyResult {
    fn from(e: Error) -> Self {
        match e {
            Error::InvalidMessage(_) => Self::MeetkeyInvalidMessage,
            Error::PeerMisbehaved(_) => Self::MeetkeyPeerMisbehaved,
            Error::AuthenticationFailed => Self::MeetkeyAuthenticationFailed,
            Error::Stale(_) => Self::MeetkeyStale,
            Error::ApiMisuse(ApiMisuse::BufferTooSmall) => Self::MeetkeyBufferTooShort,
            Error::ApiMisuse(_) => Self::MeetkeyApiMisuse,
            Error::Unsupported(_) => Self::MeetkeyUnsupported,
            _ => Self::MeetkeyInternal,
        }
    }
}

impl MeetkeyResult {
    /// A static, NUL-terminated name of the code.
    #[must_use]
    pub const fn name(self) -> &'static CStr {
        match self {
            Self::MeetkeyOk => c"MEETKEY_OK",
            Self::MeetkeyNullPointer => c"MEETKEY_NULL_POINTER",
            Self::MeetkeyBufferTooShort => c"MEETKEY_BUFFER_TOO_SHORT",
            Self::MeetkeyInvalidArgument => c"MEETKEY_INVALID_ARGUMENT",
            Self::MeetkeyInvalidMessage => c"MEETKEY_INVALID_MESSAGE",
            Self::MeetkeyPeerMisbehaved => c"MEETKEY_PEER_MISBEHAVED",
            Self::MeetkeyAuthenticationFailed => c"MEETKEY_AUTHENTICATION_FAILED",
            Self::MeetkeyStale => c"MEETKEY_STALE",
            Self::MeetkeyApiMisuse => c"MEETKEY_API_MISUSE",
            Self::MeetkeyUnsupported => c"MEETKEY_UNSUPPORTED",
            Self::MeetkeyInternal => c"MEETKEY_INTERNAL",
            Self::MeetkeyPanic => c"MEETKEY_PANIC",
            Self::MeetkeyNothingPending => c"MEETKEY_NOTHING_PENDING",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MeetkeyResult as R;

    #[test]
    fn values_are_fixed() {
        let fixed = [
            (R::MeetkeyOk, 0u32),
            (R::MeetkeyNullPointer, 1),
            (R::MeetkeyBufferTooShort, 2),
            (R::MeetkeyInvalidArgument, 3),
            (R::MeetkeyInvalidMessage, 4),
            (R::MeetkeyPeerMisbehaved, 5),
            (R::MeetkeyAuthenticationFailed, 6),
            (R::MeetkeyStale, 7),
            (R::MeetkeyApiMisuse, 8),
            (R::MeetkeyUnsupported, 9),
            (R::MeetkeyInternal, 10),
            (R::MeetkeyPanic, 11),
            (R::MeetkeyNothingPending, 12),
        ];
        for (r, v) in fixed {
            assert_eq!(r as u32, v);
            assert!(r.name().to_bytes().starts_with(b"MEETKEY_"));
        }
    }
}
