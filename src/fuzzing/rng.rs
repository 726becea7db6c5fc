//! A deterministic byte stream for harnesses: **NO SECURITY**.

use rand_core::{CryptoRng, RngCore};

use crate::crypto::sha256;

/// SHA-256 in counter mode over a fixed label: `block_i = SHA-256(label || i)` (i as u64,
/// big-endian). The same label always yields the same bytes, so a harness rebuilds exactly
/// the same keys, groups and messages on every run and a committed corpus input stays
/// meaningful.
///
/// **NO SECURITY.** The label is a constant in the source: anyone can predict every byte.
/// It is marked [`CryptoRng`] only because the MLS API asks for one; it exists only under
/// `cfg(fuzzing)` and in tests, and must never key anything real.
#[derive(Debug, Clone)]
pub(crate) struct SeedRng {
    label: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeedRng {
    /// The stream for `label`.
    pub(crate) fn new(label: &[u8]) -> Self {
        Self {
            label: label.to_vec(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut input = self.label.clone();
        input.extend_from_slice(&self.counter.to_be_bytes());
        self.counter = self.counter.wrapping_add(1);
        for (b, d) in self.block.iter_mut().zip(sha256(&input).as_bytes()) {
            *b = *d;
        }
        self.used = 0;
    }
}

impl RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }

    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for out in dest {
            if self.used >= self.block.len() {
                self.refill();
            }
            *out = self.block.get(self.used).copied().unwrap_or(0);
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

/// See the type's documentation: NO SECURITY, fuzzing and tests only.
impl CryptoRng for SeedRng {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_label_same_stream_other_label_other_stream() {
        let (mut a, mut b, mut c) = (SeedRng::new(b"x"), SeedRng::new(b"x"), SeedRng::new(b"y"));
        let (mut x, mut y, mut z) = ([0u8; 100], [0u8; 100], [0u8; 100]);
        a.fill_bytes(&mut x);
        // Uneven reads give the same stream as one read.
        b.fill_bytes(&mut y[..7]);
        b.fill_bytes(&mut y[7..40]);
        b.fill_bytes(&mut y[40..]);
        c.fill_bytes(&mut z);
        assert_eq!(x, y);
        assert_ne!(x, z);
        // Block 0 is SHA-256(label || 0u64).
        let mut first = b"x".to_vec();
        first.extend_from_slice(&0u64.to_be_bytes());
        assert_eq!(&x[..32], sha256(&first).as_bytes());
        assert_ne!(x[..32], x[32..64]);
    }
}
