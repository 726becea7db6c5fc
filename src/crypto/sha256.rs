//! SHA-256 on its own, for hashes that belong to no cipher suite (the routing directory and
//! policy fingerprints of docs/ARCHITECTURE.md "Routing").

use sha2::{Digest as _, Sha256};

use super::Digest;

/// `SHA-256(data)` (FIPS 180-4), for fingerprints outside MLS (e.g. the hash of a relay
/// directory or of a geofence policy in an audit record).
///
/// MLS code uses [`Suite::hash`](super::Suite::hash) instead, so that the hash follows the
/// cipher suite.
#[must_use]
pub(crate) fn sha256(data: &[u8]) -> Digest {
    Digest::from_array(<[u8; 32]>::from(Sha256::digest(data)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_fips_180_examples() {
        // FIPS 180-4 / NIST CSRC example "abc".
        let d = sha256(b"abc");
        assert_eq!(
            format!("{d:?}"),
            "Digest(ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad)"
        );
        assert_eq!(sha256(b"").as_bytes().len(), 32);
        assert_ne!(sha256(b"a"), sha256(b"b"));
    }
}
