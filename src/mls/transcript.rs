//! Transcript hashes (RFC 9420 §8.2).
//!
//! ```text
//! confirmed_transcript_hash_[epoch] =
//!     Hash(interim_transcript_hash_[epoch - 1] || ConfirmedTranscriptHashInput_[epoch])
//! interim_transcript_hash_[epoch] =
//!     Hash(confirmed_transcript_hash_[epoch] || InterimTranscriptHashInput_[epoch])
//! ```
//!
//! `ConfirmedTranscriptHashInput` is `wire_format || FramedContent || signature<V>` of the
//! Commit; `InterimTranscriptHashInput` is its `confirmation_tag<V>`.

use crate::codec::Writer;
use crate::crypto::{Digest, Mac, Suite};
use crate::error::Result;

/// `confirmed_transcript_hash = Hash(interim_transcript_hash_before || confirmed_input)`,
/// where `confirmed_input` is the encoded `ConfirmedTranscriptHashInput`.
#[must_use]
pub(crate) fn confirmed_transcript_hash(
    suite: &Suite,
    interim_before: &[u8],
    confirmed_input: &[u8],
) -> Digest {
    suite.hash_parts(&[interim_before, confirmed_input])
}

/// `interim_transcript_hash = Hash(confirmed_transcript_hash || InterimTranscriptHashInput)`,
/// where `InterimTranscriptHashInput = struct { MAC confirmation_tag; }` (an `opaque<V>`).
///
/// # Errors
/// Never for tags of the implemented suites.
pub(crate) fn interim_transcript_hash(
    suite: &Suite,
    confirmed: &[u8],
    confirmation_tag: &Mac,
) -> Result<Digest> {
    let mut w = Writer::with_capacity(1 + confirmation_tag.as_bytes().len());
    w.write_opaque(confirmation_tag.as_bytes());
    Ok(suite.hash_parts(&[confirmed, &w.into_bytes()?]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::CipherSuite;

    #[test]
    fn hashes_chain_and_bind_the_tag() {
        let suite = CipherSuite(1).suite().unwrap();
        let c = confirmed_transcript_hash(&suite, b"", b"input");
        assert_eq!(c, suite.hash(b"input"));
        let t1 = Mac::from_slice(&[1; 32]).unwrap();
        let t2 = Mac::from_slice(&[2; 32]).unwrap();
        let i1 = interim_transcript_hash(&suite, c.as_bytes(), &t1).unwrap();
        let i2 = interim_transcript_hash(&suite, c.as_bytes(), &t2).unwrap();
        assert_ne!(i1, i2);
        let mut prefixed = vec![32u8];
        prefixed.extend_from_slice(&[1; 32]);
        assert_eq!(i1, suite.hash_parts(&[c.as_bytes(), &prefixed]));
    }
}
