//! Wire encoding of RFC 9420 §2.1 (the TLS presentation language with MLS variable-length
//! vectors), shared by every parser in meetkey.
//!
//! ```text
//!  untrusted bytes ──► Reader (bounded cursor) ──► Decode::decode ──► typed value or InvalidMessage
//!  typed value ──► Encode::encode ──► Writer ──► into_bytes() (fails only on > 2^30-byte vectors)
//! ```
//!
//! This is a small codec of our own rather than `tls_codec`: MLS needs only fixed-width
//! integers, minimal varint-prefixed vectors and `optional<T>`; owning it lets every length be
//! checked against an explicit maximum and the remaining input before anything is allocated,
//! gives zero-copy access to opaque fields, and keeps errors in our own [`InvalidMessage`]
//! enum.
//!
//! [`InvalidMessage`]: crate::error::InvalidMessage

mod codepoint;
mod reader;
mod writer;

pub(crate) use reader::Reader;
pub(crate) use writer::Writer;

use crate::error::{InvalidMessage, Result};

/// The largest value an MLS variable-length integer can carry (RFC 9420 §2.1.2): 2^30 - 1.
pub(crate) const MAX_VARINT: u32 = (1 << 30) - 1;

/// A value that can be read from the wire.
pub(crate) trait Decode: Sized {
    /// Reads one value from `r`, advancing it.
    ///
    /// # Errors
    /// [`InvalidMessage`](crate::error::Error::InvalidMessage) when the bytes do not encode a
    /// value of this type.
    fn decode(r: &mut Reader<'_>) -> Result<Self>;

    /// Decodes a value that must span all of `bytes`.
    ///
    /// # Errors
    /// As [`Decode::decode`], and [`InvalidMessage::TrailingBytes`] when bytes are left over.
    fn decode_exact(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let v = Self::decode(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// A value that can be written to the wire.
pub(crate) trait Encode {
    /// Appends the encoding of `self` to `w`.
    fn encode(&self, w: &mut Writer);

    /// Encodes `self` into a fresh buffer.
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`](crate::error::ApiMisuse::EncodingOverflow) when a
    /// vector inside is longer than an MLS varint can describe.
    fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = Writer::new();
        self.encode(&mut w);
        w.into_bytes()
    }
}

macro_rules! int_codec {
    ($($t:ty => $read:ident, $write:ident;)*) => {$(
        impl Decode for $t {
            fn decode(r: &mut Reader<'_>) -> Result<Self> {
                r.$read()
            }
        }
        impl Encode for $t {
            fn encode(&self, w: &mut Writer) {
                w.$write(*self);
            }
        }
    )*};
}
int_codec! {
    u8 => read_u8, write_u8;
    u16 => read_u16, write_u16;
    u32 => read_u32, write_u32;
    u64 => read_u64, write_u64;
}

/// `optional<T>` (RFC 9420 §2.1.1): a presence octet, 0 or 1, then the value if present.
impl<T: Decode> Decode for Option<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self> {
        match r.read_u8()? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(r)?)),
            _ => Err(InvalidMessage::InvalidOptionalPresence.into()),
        }
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            None => w.write_u8(0),
            Some(v) => {
                w.write_u8(1);
                v.encode(w);
            }
        }
    }
}

#[cfg(test)]
mod tests;
