//! An append-only encoder.

use super::{Encode, MAX_VARINT};
use crate::error::{ApiMisuse, Result};

/// An append-only buffer for wire encodings.
///
/// Encoding never fails part-way: a vector too long for an MLS varint marks the writer as
/// overflowed, and [`Writer::into_bytes`] then reports it. So `Encode` impls stay infallible
/// and no truncated encoding can escape.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    buf: Vec<u8>,
    overflow: bool,
}

impl Writer {
    /// An empty writer.
    #[must_use]
    pub(crate) const fn new() -> Self {
        Self {
            buf: Vec::new(),
            overflow: false,
        }
    }

    /// An empty writer with room for `n` bytes.
    #[must_use]
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            buf: Vec::with_capacity(n),
            overflow: false,
        }
    }

    /// The finished encoding.
    ///
    /// # Errors
    /// [`ApiMisuse::EncodingOverflow`] if a vector was longer than 2^30 - 1 bytes.
    pub(crate) fn into_bytes(self) -> Result<Vec<u8>> {
        if self.overflow {
            Err(ApiMisuse::EncodingOverflow.into())
        } else {
            Ok(self.buf)
        }
    }

    /// The bytes written so far (only meaningful if nothing overflowed).
    #[must_use]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Whether a vector too long to encode was written.
    #[must_use]
    pub(crate) const fn overflowed(&self) -> bool {
        self.overflow
    }

    /// Empties the writer, keeping its allocation.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.overflow = false;
    }

    /// Appends raw bytes.
    pub(crate) fn write_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Appends a `uint8`.
    pub(crate) fn write_u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    /// Appends a big-endian `uint16`.
    pub(crate) fn write_u16(&mut self, v: u16) {
        self.write_raw(&v.to_be_bytes());
    }

    /// Appends a big-endian `uint32`.
    pub(crate) fn write_u32(&mut self, v: u32) {
        self.write_raw(&v.to_be_bytes());
    }

    /// Appends a big-endian `uint64`.
    pub(crate) fn write_u64(&mut self, v: u64) {
        self.write_raw(&v.to_be_bytes());
    }

    /// Appends an MLS variable-length integer in its minimum encoding.
    pub(crate) fn write_varint(&mut self, v: usize) {
        let (bytes, len) = varint_bytes(v).unwrap_or_else(|| {
            self.overflow = true;
            ([0; 4], 0)
        });
        self.buf
            .extend_from_slice(bytes.get(..len).unwrap_or_default());
    }

    /// Appends `opaque data<V>`.
    pub(crate) fn write_opaque(&mut self, bytes: &[u8]) {
        self.write_varint(bytes.len());
        self.write_raw(bytes);
    }

    /// Appends a varint-prefixed vector whose body `body` writes.
    pub(crate) fn write_prefixed(&mut self, body: impl FnOnce(&mut Self)) {
        let start = self.buf.len();
        body(self);
        let len = self.buf.len().saturating_sub(start);
        match varint_bytes(len) {
            Some((bytes, n)) => {
                let prefix = bytes.get(..n).unwrap_or_default();
                self.buf.splice(start..start, prefix.iter().copied());
            }
            None => self.overflow = true,
        }
    }

    /// Appends `T items<V>`.
    pub(crate) fn write_vec<T: Encode>(&mut self, items: &[T]) {
        self.write_prefixed(|w| {
            for item in items {
                item.encode(w);
            }
        });
    }
}

/// The minimum MLS varint encoding of `v` (bytes, length), or `None` above 2^30 - 1.
fn varint_bytes(v: usize) -> Option<([u8; 4], usize)> {
    let v = u32::try_from(v).ok().filter(|&v| v <= MAX_VARINT)?;
    let [b0, b1, b2, b3] = v.to_be_bytes();
    Some(if v < (1 << 6) {
        ([b3, 0, 0, 0], 1)
    } else if v < (1 << 14) {
        ([b2 | 0x40, b3, 0, 0], 2)
    } else {
        ([b0 | 0x80, b1, b2, b3], 4)
    })
}
