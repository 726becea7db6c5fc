//! The SFrame header (RFC 9605 §4.3): a config byte, then the KID and CTR as compact
//! big-endian integers.
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+------------+------------+
//! |X|  K  |Y|  C  |   KID...   |   CTR...   |
//! +-+-+-+-+-+-+-+-+------------+------------+
//!  X = 0: K is the KID (0..=7)        X = 1: K + 1 is the length of the KID field (1..=8)
//!  Y = 0: C is the CTR (0..=7)        Y = 1: C + 1 is the length of the CTR field (1..=8)
//! ```
//!
//! A parsing module: it reads untrusted bytes and nothing else (no keys, no state).

use crate::error::{ApiMisuse, InvalidMessage, Result};

/// The longest SFrame header: the config byte plus 8 bytes of KID and 8 of CTR.
#[cfg(any(test, fuzzing))]
pub(crate) const MAX_HEADER_LEN: usize = 17;

/// The decoded SFrame header: which key (KID) and which counter (CTR) a frame uses.
///
/// Decoding is strict: each value must use the minimum encoding (RFC 9605 §4.3 "MUST be
/// encoded with the minimum number of bytes"), so every header has exactly one encoding and
/// `decode(encode(h)) == h`, `encode(decode(b)) == b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// The key ID.
    pub kid: u64,
    /// The counter, from which the nonce is formed.
    pub ctr: u64,
}

impl Header {
    /// A header for `kid` and `ctr`.
    #[must_use]
    pub const fn new(kid: u64, ctr: u64) -> Self {
        Self { kid, ctr }
    }

    /// The number of bytes of its encoding (1 to 17).
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        1 + extra_len(self.kid) + extra_len(self.ctr)
    }

    /// Writes the header to the start of `out`, returning its length.
    ///
    /// # Errors
    /// [`ApiMisuse::BufferTooSmall`] when `out` is shorter than [`Header::encoded_len`];
    /// `out` is untouched then.
    pub(crate) fn encode(&self, out: &mut [u8]) -> Result<usize> {
        let (kid_len, ctr_len) = (extra_len(self.kid), extra_len(self.ctr));
        let len = 1 + kid_len + ctr_len;
        let out = out.get_mut(..len).ok_or(ApiMisuse::BufferTooSmall)?;
        let (config, rest) = out.split_first_mut().ok_or(ApiMisuse::BufferTooSmall)?;
        *config = (config_bits(self.kid, kid_len) << 4) | config_bits(self.ctr, ctr_len);
        let (kid_out, ctr_out) = rest.split_at_mut(kid_len);
        kid_out.copy_from_slice(tail(&self.kid.to_be_bytes(), kid_len));
        ctr_out.copy_from_slice(tail(&self.ctr.to_be_bytes(), ctr_len));
        Ok(len)
    }

    /// The encoding in a fixed array and its length (tests and fuzzing).
    #[must_use]
    #[cfg(any(test, fuzzing))]
    pub(crate) fn to_array(self) -> ([u8; MAX_HEADER_LEN], usize) {
        let mut buf = [0; MAX_HEADER_LEN];
        // Cannot fail: the array holds the longest header.
        let len = self.encode(&mut buf).unwrap_or(0);
        (buf, len)
    }

    /// Reads a header from the start of `bytes`, returning it and the number of bytes it took.
    ///
    /// # Errors
    /// [`InvalidMessage::Truncated`] when `bytes` ends inside the header;
    /// [`InvalidMessage::NonMinimalHeaderValue`] when the KID or CTR is not minimally encoded.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize)> {
        let (&config, rest) = bytes.split_first().ok_or(InvalidMessage::Truncated)?;
        let (kid, rest) = read_value(config >> 4, rest)?;
        let (ctr, _) = read_value(config & 0x0f, rest)?;
        let header = Self { kid, ctr };
        Ok((header, header.encoded_len()))
    }
}

/// Bytes after the config byte for a value: 0 when it fits in 3 bits, else its minimal length.
const fn extra_len(v: u64) -> usize {
    if v < 8 {
        0
    } else {
        8 - (v.leading_zeros() / 8) as usize
    }
}

/// The 4 config bits of one value: `0|value` when it fits in 3 bits, else `1|(length - 1)`.
fn config_bits(v: u64, extra: usize) -> u8 {
    let (flag, bits) = if extra == 0 {
        (0, v)
    } else {
        (0x8, extra as u64 - 1)
    };
    // `bits` is below 8 in both arms.
    flag | u8::try_from(bits & 0x7).unwrap_or(0)
}

/// The last `n` bytes of a big-endian `u64`.
fn tail(be: &[u8; 8], n: usize) -> &[u8] {
    be.get(8 - n.min(8)..).unwrap_or_default()
}

/// Reads one value given its 4 config bits (flag + 3 bits).
fn read_value(bits: u8, rest: &[u8]) -> Result<(u64, &[u8])> {
    if bits & 0x8 == 0 {
        return Ok((u64::from(bits & 0x7), rest));
    }
    let n = usize::from(bits & 0x7) + 1;
    let (field, rest) = rest.split_at_checked(n).ok_or(InvalidMessage::Truncated)?;
    if field.first() == Some(&0) {
        return Err(InvalidMessage::NonMinimalHeaderValue.into());
    }
    let v = field.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
    if v < 8 {
        return Err(InvalidMessage::NonMinimalHeaderValue.into());
    }
    Ok((v, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn every_length_form_round_trips() {
        let mut values = vec![0u64, 1, 7, 8, 255, 256, u64::MAX];
        for shift in 0..64 {
            values.push(1 << shift);
            values.push((1u64 << shift).wrapping_sub(1));
        }
        for &kid in &values {
            for &ctr in &values {
                let h = Header::new(kid, ctr);
                let (buf, len) = h.to_array();
                assert_eq!(len, h.encoded_len());
                assert_eq!(Header::decode(&buf[..len]).unwrap(), (h, len));
                // Trailing bytes are the payload, not part of the header.
                assert_eq!(Header::decode(&buf).unwrap(), (h, len));
            }
        }
    }

    #[test]
    fn known_encodings() {
        assert_eq!(Header::new(0, 0).to_array().0[..1], [0x00]);
        let (b, n) = Header::new(0x123, 0x4567).to_array();
        assert_eq!(&b[..n], &[0x99, 0x01, 0x23, 0x45, 0x67]);
        let (b, n) = Header::new(5, 8).to_array();
        assert_eq!(&b[..n], &[0x58, 0x08]);
    }

    #[test]
    fn truncated_headers_are_rejected() {
        let (b, n) = Header::new(u64::MAX, u64::MAX).to_array();
        assert_eq!(n, MAX_HEADER_LEN);
        for cut in 0..n {
            assert_eq!(
                Header::decode(&b[..cut]),
                Err(Error::InvalidMessage(InvalidMessage::Truncated)),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn non_minimal_values_are_rejected() {
        let bad: [&[u8]; 5] = [
            &[0x80, 0x07],       // KID 7 in the extended form
            &[0x08, 0x00],       // CTR 0 in the extended form
            &[0x90, 0x00, 0x09], // KID 9 with a leading zero byte
            &[0x09, 0x00, 0xff], // CTR 255 with a leading zero byte
            &[0xf8, 0, 0, 0, 0, 0, 0, 0, 1, 9],
        ];
        for b in bad {
            assert_eq!(
                Header::decode(b),
                Err(Error::InvalidMessage(InvalidMessage::NonMinimalHeaderValue)),
                "{b:02x?}"
            );
        }
    }

    #[test]
    fn encode_refuses_a_short_buffer() {
        let mut out = [0xaa; 4];
        assert_eq!(
            Header::new(0x123, 0x4567).encode(&mut out),
            Err(ApiMisuse::BufferTooSmall.into())
        );
        assert_eq!(out, [0xaa; 4]);
    }
}
