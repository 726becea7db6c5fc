//! Public fixed-capacity hash outputs and MAC tags.

use subtle::ConstantTimeEq;

const MAX_DIGEST_LEN: usize = 64;

/// A hash output (tree hash, transcript hash, reference). Public, so freely copied.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    buf: [u8; MAX_DIGEST_LEN],
    len: u8,
}

impl Digest {
    /// The zero-length digest (e.g. the parent hash of the root, RFC 9420 §7.9).
    #[must_use]
    pub(crate) const fn empty() -> Self {
        Self {
            buf: [0; MAX_DIGEST_LEN],
            len: 0,
        }
    }

    pub(in crate::crypto) fn from_array<const N: usize>(bytes: [u8; N]) -> Self {
        let mut buf = [0; MAX_DIGEST_LEN];
        let len = N.min(MAX_DIGEST_LEN);
        if let (Some(dst), Some(src)) = (buf.get_mut(..len), bytes.get(..len)) {
            dst.copy_from_slice(src);
        }
        Self {
            buf,
            #[allow(clippy::cast_possible_truncation, reason = "len <= 64")]
            len: len as u8,
        }
    }

    /// Wraps public hash bytes read from the wire.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`](crate::error::ApiMisuse::InvalidLength) above 64 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> crate::error::Result<Self> {
        let mut buf = [0; MAX_DIGEST_LEN];
        buf.get_mut(..bytes.len())
            .ok_or(crate::error::ApiMisuse::InvalidLength)?
            .copy_from_slice(bytes);
        Ok(Self {
            buf,
            len: u8::try_from(bytes.len()).map_err(|_| crate::error::ApiMisuse::InvalidLength)?,
        })
    }

    /// The bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl AsRef<[u8]> for Digest {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl core::fmt::Debug for Digest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Digest(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A MAC tag (confirmation tag, membership tag). Public once sent, but always compared in
/// constant time, since a verifier compares a received tag against a computed one.
#[derive(Clone, Copy)]
pub(crate) struct Mac(Digest);

impl Mac {
    pub(in crate::crypto) const fn new(d: Digest) -> Self {
        Self(d)
    }

    /// Wraps tag bytes read from the wire.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`](crate::error::ApiMisuse::InvalidLength) above 64 bytes.
    pub(crate) fn from_slice(bytes: &[u8]) -> crate::error::Result<Self> {
        Digest::from_slice(bytes).map(Self)
    }

    /// The tag bytes, to be sent.
    #[must_use]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl ConstantTimeEq for Mac {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        if self.0.len == other.0.len {
            self.as_bytes().ct_eq(other.as_bytes())
        } else {
            subtle::Choice::from(0)
        }
    }
}

impl PartialEq for Mac {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Mac {}

impl core::fmt::Debug for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Mac({:?})", self.0)
    }
}
