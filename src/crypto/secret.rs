//! The secret primitive: fixed-capacity bytes, zeroized on drop, compared in constant time.

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::error::{ApiMisuse, Result};

/// The largest secret meetkey holds: `Nh` of SHA-512 (64 bytes).
pub(crate) const MAX_SECRET_LEN: usize = 64;

/// Secret bytes of at most 64 (a PSK, an MLS exporter output).
///
/// Zeroized on drop, printed as `Secret { .. }`, compared in constant time, and neither
/// `Clone` nor `Deref`: the bytes are read only through [`Secret::as_bytes`].
pub struct Secret {
    buf: [u8; MAX_SECRET_LEN],
    len: u8,
}

impl Secret {
    /// Imports secret bytes (e.g. an external PSK, or a value from a test vector).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `bytes` is longer than 64.
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        let mut s = Self::zero(bytes.len())?;
        s.expose_mut().copy_from_slice(bytes);
        Ok(s)
    }

    /// `len` zero bytes (the "0" of the RFC 9420 key schedule when `len` is `KDF.Nh`).
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `len` exceeds [`MAX_SECRET_LEN`].
    pub(crate) fn zero(len: usize) -> Result<Self> {
        let len = u8::try_from(len)
            .ok()
            .filter(|&l| usize::from(l) <= MAX_SECRET_LEN)
            .ok_or(ApiMisuse::InvalidLength)?;
        Ok(Self {
            buf: [0; MAX_SECRET_LEN],
            len,
        })
    }

    /// `len` fresh random bytes from `rng`.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] when `len` exceeds [`MAX_SECRET_LEN`].
    pub(crate) fn random(len: usize, rng: &mut impl super::Rng) -> Result<Self> {
        let mut s = Self::zero(len)?;
        rng.fill_bytes(s.expose_mut());
        Ok(s)
    }

    /// Moves a fixed-size array into a secret, zeroizing the array.
    pub(in crate::crypto) fn from_array<const N: usize>(mut bytes: [u8; N]) -> Self {
        const { assert!(N <= MAX_SECRET_LEN) };
        let mut buf = [0; MAX_SECRET_LEN];
        if let Some(dst) = buf.get_mut(..N) {
            dst.copy_from_slice(&bytes);
        }
        bytes.zeroize();
        Self {
            buf,
            #[allow(
                clippy::cast_possible_truncation,
                reason = "N <= 64 checked at compile time"
            )]
            len: N as u8,
        }
    }

    /// The length in bytes (not secret).
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether the secret has no bytes.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A second copy of the secret. Named, not `Clone`, so every copy is visible in review.
    #[must_use]
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            buf: self.buf,
            len: self.len,
        }
    }

    /// Writes the secret as `opaque<V>` into a wire structure that is encrypted next
    /// (`GroupSecrets`, RFC 9420 §12.4.3.1): the one place secret bytes leave this type
    /// outside `crypto`. The caller must encrypt the encoding and then drop it.
    pub(crate) fn write_opaque_to(&self, w: &mut crate::codec::Writer) {
        w.write_opaque(self.expose());
    }

    /// The secret's bytes, for an application that derives its own keys from an MLS
    /// exporter output. A copy taken out of this type is no longer zeroized on drop: keep
    /// it in a buffer that is.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.expose()
    }

    pub(in crate::crypto) fn expose(&self) -> &[u8] {
        self.buf.get(..self.len()).unwrap_or_default()
    }

    pub(in crate::crypto) fn expose_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        self.buf.get_mut(..len).unwrap_or_default()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.buf.zeroize();
    }
}

impl ConstantTimeEq for Secret {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // The lengths are public; only the bytes are compared in constant time.
        if self.len == other.len {
            self.expose().ct_eq(other.expose())
        } else {
            subtle::Choice::from(0)
        }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Secret {}

impl core::fmt::Debug for Secret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Secret").finish_non_exhaustive()
    }
}

/// Declares a secret newtype for one role of the key schedule (one type per secret, so a
/// signature says which secret it needs and mixing them up does not compile).
#[macro_export]
#[doc(hidden)]
macro_rules! secret_role {
    ($( $(#[$meta:meta])* $vis:vis struct $name:ident; )*) => {$(
        $(#[$meta])*
        $vis struct $name(pub(crate) $crate::crypto::Secret);

        impl $name {
            /// Imports the secret from bytes (state restore, test vectors).
            ///
            /// # Errors
            /// [`ApiMisuse::InvalidLength`]($crate::error::ApiMisuse::InvalidLength) when
            /// longer than 64 bytes.
            #[allow(dead_code)] // used by some secrets only (BaseKey, tests)
            pub(crate) fn from_slice(bytes: &[u8]) -> $crate::error::Result<Self> {
                $crate::crypto::Secret::from_slice(bytes).map(Self)
            }

            /// The length in bytes.
            #[must_use]
            #[allow(dead_code)] // used by some secrets only
            pub(crate) const fn len(&self) -> usize {
                self.0.len()
            }
        }

        impl subtle::ConstantTimeEq for $name {
            fn ct_eq(&self, other: &Self) -> subtle::Choice {
                self.0.ct_eq(&other.0)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }

        impl Eq for $name {}

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    )*};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_by_content_and_length() {
        let a = Secret::from_slice(&[1, 2, 3]).unwrap();
        assert_eq!(a, Secret::from_slice(&[1, 2, 3]).unwrap());
        assert_ne!(a, Secret::from_slice(&[1, 2, 4]).unwrap());
        assert_ne!(a, Secret::from_slice(&[1, 2, 3, 0]).unwrap());
        assert_eq!(a.len(), 3);
    }

    #[test]
    fn debug_never_prints_bytes() {
        let s = Secret::from_slice(&[0xab; 32]).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret { .. }");
        assert!(!shown.contains("ab") && !shown.contains("171"));
    }

    #[test]
    fn oversized_secrets_are_refused() {
        assert!(Secret::from_slice(&[0; 65])
            .is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert!(Secret::zero(256)
            .is_err_and(|e| e == crate::Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert!(Secret::from_slice(&[0; 64]).is_ok());
    }
}
