//! Forking the caller's RNG into independent streams, so that work split across threads
//! (HPKE seals of an UpdatePath) draws fresh randomness without sharing one RNG.

use rand_chacha::rand_core::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::Rng;

/// A ChaCha20 stream seeded with 32 bytes from the caller's RNG.
#[derive(Debug)]
pub(crate) struct ForkedRng(ChaCha20Rng);

/// 32 bytes drawn from the caller's RNG, to start a [`ForkedRng`] on another thread.
/// Zeroized on drop.
#[derive(zeroize::Zeroize, zeroize::ZeroizeOnDrop)]
pub(crate) struct ForkSeed([u8; 32]);

impl ForkSeed {
    /// Draws a seed from `rng`.
    pub(crate) fn draw(rng: &mut impl Rng) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self(seed)
    }

    /// The stream this seed starts.
    #[must_use]
    pub(crate) fn start(&self) -> ForkedRng {
        ForkedRng(ChaCha20Rng::from_seed(self.0))
    }
}

impl core::fmt::Debug for ForkSeed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ForkSeed").finish_non_exhaustive()
    }
}

impl RngCore for ForkedRng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl CryptoRng for ForkedRng {}
