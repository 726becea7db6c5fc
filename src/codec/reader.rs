//! A bounded cursor over untrusted bytes.

use super::{Decode, MAX_VARINT};
use crate::error::{InvalidMessage, Result};

/// A cursor over untrusted bytes: every read is bounds-checked and fails with a typed error.
///
/// Reads never allocate; opaque fields are returned as borrowed slices. A vector's length
/// prefix is checked against the caller's maximum and against the bytes that remain before
/// anything is read or allocated.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    #[must_use]
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The bytes not yet read.
    #[must_use]
    pub(crate) const fn remaining(&self) -> &'a [u8] {
        self.rest
    }

    /// Whether every byte has been read.
    #[must_use]
    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Succeeds only if every byte has been read.
    ///
    /// # Errors
    /// [`InvalidMessage::TrailingBytes`] when bytes remain.
    pub(crate) fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(InvalidMessage::TrailingBytes.into())
        }
    }

    /// Takes the next `n` bytes.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] when fewer than `n` bytes remain.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(InvalidMessage::Truncated)?;
        self.rest = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] when fewer than `N` bytes remain.
    pub(crate) fn take_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        <[u8; N]>::try_from(bytes).map_err(|_| InvalidMessage::Truncated.into())
    }

    /// Reads a `uint8`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`].
    pub(crate) fn read_u8(&mut self) -> Result<u8> {
        Ok(u8::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `uint16`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`].
    pub(crate) fn read_u16(&mut self) -> Result<u16> {
        Ok(u16::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `uint32`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`].
    pub(crate) fn read_u32(&mut self) -> Result<u32> {
        Ok(u32::from_be_bytes(self.take_array()?))
    }

    /// Reads a big-endian `uint64`.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`].
    pub(crate) fn read_u64(&mut self) -> Result<u64> {
        Ok(u64::from_be_bytes(self.take_array()?))
    }

    /// Reads an MLS variable-length integer (RFC 9420 §2.1.2), rejecting the `0b11` prefix
    /// and any encoding longer than the minimum.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`], [`InvalidMessage::InvalidVarintPrefix`],
    /// [`InvalidMessage::NonMinimalVarint`].
    pub(crate) fn read_varint(&mut self) -> Result<u32> {
        let first = self.read_u8()?;
        let prefix = first >> 6;
        let mut v = u32::from(first & 0x3f);
        let len = match prefix {
            0 => return Ok(v),
            1 => 2,
            2 => 4,
            _ => return Err(InvalidMessage::InvalidVarintPrefix.into()),
        };
        for &b in self.take(len - 1)? {
            v = (v << 8) | u32::from(b);
        }
        // The value must not fit in the next-shorter encoding.
        let min = if len == 2 { 1 << 6 } else { 1 << 14 };
        if v < min {
            return Err(InvalidMessage::NonMinimalVarint.into());
        }
        debug_assert!(v <= MAX_VARINT);
        Ok(v)
    }

    /// Reads a varint length prefix, bounded by `max` and by the bytes that remain.
    ///
    /// # Errors
    /// [`InvalidMessage::LengthTooLarge`] above `max`; [`InvalidMessage::Truncated`] when the
    /// input is shorter than the prefix says; varint errors.
    pub(crate) fn read_len(&mut self, max: usize) -> Result<usize> {
        let len =
            usize::try_from(self.read_varint()?).map_err(|_| InvalidMessage::LengthTooLarge)?;
        if len > max {
            return Err(InvalidMessage::LengthTooLarge.into());
        }
        if len > self.rest.len() {
            return Err(InvalidMessage::Truncated.into());
        }
        Ok(len)
    }

    /// Reads `opaque data<V>` of at most `max` bytes, borrowed from the input.
    ///
    /// # Errors
    /// As [`Reader::read_len`].
    pub(crate) fn read_opaque(&mut self, max: usize) -> Result<&'a [u8]> {
        let len = self.read_len(max)?;
        self.take(len)
    }

    /// Reads a varint-prefixed vector of at most `max` bytes and returns a reader over
    /// exactly its contents.
    ///
    /// # Errors
    /// As [`Reader::read_len`].
    pub(crate) fn sub(&mut self, max: usize) -> Result<Self> {
        Ok(Self::new(self.read_opaque(max)?))
    }

    /// Reads `T items<V>`: a varint byte length of at most `max_bytes`, then items until
    /// those bytes are used up. An item that overruns the vector is an error.
    ///
    /// Memory grows with the items parsed, which are bounded by `max_bytes` and the input.
    ///
    /// # Errors
    /// As [`Reader::read_len`], and whatever decoding an item returns.
    pub(crate) fn read_vec<T: Decode>(&mut self, max_bytes: usize) -> Result<Vec<T>> {
        let mut sub = self.sub(max_bytes)?;
        let mut out = Vec::new();
        while !sub.is_empty() {
            out.push(T::decode(&mut sub)?);
        }
        Ok(out)
    }
}
