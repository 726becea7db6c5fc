//! Shared checks for the unit tests of the wire types.

use core::fmt::Debug;

use crate::codec::{Decode, Encode};
use crate::error::InvalidMessage;

/// Encodes `value`, checks that it decodes back to itself and re-encodes identically, that
/// every strict prefix of the encoding fails and that a trailing byte fails. Returns the
/// encoding.
pub(crate) fn check_round_trip<T: Decode + Encode + PartialEq + Debug>(value: &T) -> Vec<u8> {
    let bytes = value.to_bytes().unwrap();
    check_bytes::<T>(&bytes);
    assert_eq!(&T::decode_exact(&bytes).unwrap(), value);
    bytes
}

/// Checks that `bytes` decode as `T`, re-encode identically, and that every strict prefix and
/// the bytes plus a trailing zero fail.
pub(crate) fn check_bytes<T: Decode + Encode + Debug>(bytes: &[u8]) {
    let decoded = T::decode_exact(bytes).unwrap();
    assert_eq!(decoded.to_bytes().unwrap(), bytes, "{decoded:?}");
    for cut in 0..bytes.len() {
        assert!(
            T::decode_exact(&bytes[..cut])
                .is_err_and(|e| e == crate::Error::InvalidMessage(InvalidMessage::Truncated)),
            "prefix of {cut} bytes decoded"
        );
    }
    let mut extra = bytes.to_vec();
    extra.push(0);
    assert_eq!(
        T::decode_exact(&extra).unwrap_err(),
        InvalidMessage::TrailingBytes.into()
    );
}
