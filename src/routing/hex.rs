//! Lower-case hex for signatures in the directory envelope and hashes in audit records.

/// Lower-case hex of `bytes`.
pub(super) fn encode(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

/// Decodes hex (either case) into exactly `N` bytes; `None` for any other input.
pub(super) fn decode_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = *pair else { return None };
        *o = (digit(hi)? << 4) | digit(lo)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_array::<3>("00ABff"), Some([0x00, 0xab, 0xff]));
        assert_eq!(decode_array::<3>("00abf"), None);
        assert_eq!(decode_array::<3>("00abfff0"), None);
        assert_eq!(decode_array::<2>("0g00"), None);
        assert_eq!(decode_array::<1>("+f"), None);
    }
}
