//! Audit helper: does a secret occur in a byte string (e.g. everything a relay forwarded)?
//!
//! Answers one bit without exposing the secret. Meant for tests and audits of captured
//! traffic, not for hot paths: it compares every window of the haystack in constant time
//! per window (the position of a match is not revealed by early exit).

use subtle::{Choice, ConstantTimeEq};

use super::Secret;

impl Secret {
    /// Whether the secret's bytes occur anywhere in `haystack`. An empty secret never does.
    #[must_use]
    pub fn occurs_in(&self, haystack: &[u8]) -> bool {
        let needle = self.expose();
        if needle.is_empty() || haystack.len() < needle.len() {
            return false;
        }
        let mut found = Choice::from(0);
        for window in haystack.windows(needle.len()) {
            found |= window.ct_eq(needle);
        }
        found.into()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::Secret;

    #[test]
    fn finds_only_whole_occurrences() {
        let s = Secret::from_slice(b"key!").unwrap();
        assert!(s.occurs_in(b"xxkey!yy"));
        assert!(s.occurs_in(b"key!"));
        assert!(!s.occurs_in(b"key"));
        assert!(!s.occurs_in(b"kez!key"));
        assert!(!Secret::from_slice(b"").unwrap().occurs_in(b"abc"));
    }
}
