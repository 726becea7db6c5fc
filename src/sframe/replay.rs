//! Counter-based anti-replay per KID (RFC 9605 §7.4, §9.3), after RFC 3711 §3.3.2: a sliding
//! bitmap of the last accepted CTR values.
//!
//! ```text
//!            window (size bits)
//!   ◄──────────────────────────────►
//!   [ top-size+1 ... top-2 top-1 top ]   CTR > top: new, slides the window
//!   below the window: BelowReplayWindow   bit set: Replayed
//! ```
//!
//! The window is checked before the AEAD runs and updated only after a frame authenticated,
//! so a forged frame never moves it.

use crate::error::{ApiMisuse, Result, Stale};

/// The largest anti-replay window: 1 024 counters (a video burst reordered by hundreds of
/// packets still fits).
pub(crate) const MAX_REPLAY_WINDOW: u32 = 1024;
/// The words of the window's bitmap.
pub(crate) const WINDOW_WORDS: usize = (MAX_REPLAY_WINDOW / 64) as usize;
/// A window's bitmap, as saved.
pub(crate) type ReplayBitmap = [u64; WINDOW_WORDS];

/// Whether and how a decryptor rejects replayed frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayProtection {
    /// Accept any CTR (replay protection is left to the transport, RFC 9605 §9.3).
    Off,
    /// Reject a CTR already accepted, or more than `n - 1` below the highest accepted one
    /// (`1 <= n <= 1024`).
    Window(u32),
}

impl Default for ReplayProtection {
    /// On, with the largest window (1 024 frames): reordering by up to 1 023 frames loses
    /// nothing.
    fn default() -> Self {
        Self::Window(MAX_REPLAY_WINDOW)
    }
}

impl ReplayProtection {
    /// Checks the window size.
    ///
    /// # Errors
    /// [`ApiMisuse::InvalidLength`] for a window of 0 or more than [`MAX_REPLAY_WINDOW`].
    pub(crate) const fn validate(self) -> Result<Self> {
        match self {
            Self::Window(n) if n == 0 || n > MAX_REPLAY_WINDOW => {
                Err(crate::error::Error::ApiMisuse(ApiMisuse::InvalidLength))
            }
            _ => Ok(self),
        }
    }
}

/// The replay state of one KID.
#[derive(Debug, Clone)]
pub(crate) struct ReplayWindow {
    /// Window size in counters; 0 when protection is off.
    size: u32,
    /// The highest CTR accepted so far, if any.
    top: Option<u64>,
    /// Bit `i` (word `i / 64`, bit `i % 64`) is set when `top - i` was accepted.
    seen: [u64; WINDOW_WORDS],
}

impl ReplayWindow {
    pub(crate) const fn new(protection: ReplayProtection) -> Self {
        let size = match protection {
            ReplayProtection::Off => 0,
            ReplayProtection::Window(n) => n,
        };
        Self {
            size,
            top: None,
            seen: [0; WINDOW_WORDS],
        }
    }

    fn bit(&self, behind: u64) -> bool {
        let (w, b) = (behind / 64, behind % 64);
        usize::try_from(w)
            .ok()
            .and_then(|w| self.seen.get(w))
            .is_some_and(|word| word >> b & 1 == 1)
    }

    fn set(&mut self, behind: u64) {
        let (w, b) = (behind / 64, behind % 64);
        if let Some(word) = usize::try_from(w).ok().and_then(|w| self.seen.get_mut(w)) {
            *word |= 1 << b;
        }
    }

    /// Moves the window up by `ahead` counters (bit `i` becomes bit `i + ahead`).
    fn shift(&mut self, ahead: u64) {
        if ahead >= u64::from(MAX_REPLAY_WINDOW) {
            self.seen = [0; WINDOW_WORDS];
            return;
        }
        // ahead < 1024: both parts fit.
        let words = usize::try_from(ahead / 64).unwrap_or(WINDOW_WORDS);
        let bits = ahead % 64;
        let old = self.seen;
        for (j, word) in self.seen.iter_mut().enumerate() {
            let from = j.checked_sub(words);
            let hi = from.and_then(|f| old.get(f)).copied().unwrap_or(0);
            let lo = from
                .and_then(|f| f.checked_sub(1))
                .and_then(|f| old.get(f))
                .copied()
                .unwrap_or(0);
            *word = if bits == 0 {
                hi
            } else {
                hi << bits | lo >> (64 - bits)
            };
        }
    }

    /// Whether a frame with `ctr` may be decrypted.
    ///
    /// # Errors
    /// [`Stale::Replayed`] or [`Stale::BelowReplayWindow`].
    pub(crate) fn check(&self, ctr: u64) -> Result<()> {
        let Some(top) = self.top else { return Ok(()) };
        if self.size == 0 || ctr > top {
            return Ok(());
        }
        let behind = top - ctr;
        if behind >= u64::from(self.size) {
            return Err(Stale::BelowReplayWindow.into());
        }
        if self.bit(behind) {
            return Err(Stale::Replayed.into());
        }
        Ok(())
    }

    /// What a restart must keep: the highest CTR accepted and the bitmap below it (the
    /// window size is configuration).
    pub(crate) const fn snapshot(&self) -> Option<(u64, [u64; WINDOW_WORDS])> {
        match self.top {
            Some(top) => Some((top, self.seen)),
            None => None,
        }
    }

    /// The window of `protection` in the state [`ReplayWindow::snapshot`] gave.
    pub(crate) const fn restored(
        protection: ReplayProtection,
        top: u64,
        seen: [u64; WINDOW_WORDS],
    ) -> Self {
        let mut w = Self::new(protection);
        if w.size != 0 {
            w.top = Some(top);
            w.seen = seen;
        }
        w
    }

    /// Records `ctr` as accepted (call only after the frame authenticated and `check` passed).
    pub(crate) fn accept(&mut self, ctr: u64) {
        if self.size == 0 {
            return;
        }
        match self.top {
            Some(top) if ctr <= top => self.set(top - ctr),
            Some(top) => {
                self.shift(ctr - top);
                self.set(0);
                self.top = Some(ctr);
            }
            None => {
                self.set(0);
                self.top = Some(ctr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn take(w: &mut ReplayWindow, ctr: u64) -> Result<()> {
        w.check(ctr)?;
        w.accept(ctr);
        Ok(())
    }

    #[test]
    fn replays_and_old_counters_are_rejected() {
        let mut w = ReplayWindow::new(ReplayProtection::Window(4));
        take(&mut w, 10).unwrap();
        assert_eq!(take(&mut w, 10), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 8).unwrap(); // out of order, inside the window
        assert_eq!(take(&mut w, 8), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 7).unwrap();
        assert_eq!(take(&mut w, 6), Err(Error::Stale(Stale::BelowReplayWindow)));
        take(&mut w, 200).unwrap(); // a jump clears the bitmap
        assert_eq!(
            take(&mut w, 10),
            Err(Error::Stale(Stale::BelowReplayWindow))
        );
        take(&mut w, 199).unwrap();
        take(&mut w, 197).unwrap();
        assert_eq!(take(&mut w, 197), Err(Error::Stale(Stale::Replayed)));
    }

    #[test]
    fn full_window_and_extremes() {
        let mut w = ReplayWindow::new(ReplayProtection::default());
        take(&mut w, u64::MAX).unwrap();
        assert_eq!(take(&mut w, u64::MAX), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, u64::MAX - 1023).unwrap();
        assert_eq!(
            take(&mut w, u64::MAX - 1024),
            Err(Error::Stale(Stale::BelowReplayWindow))
        );
        let mut w = ReplayWindow::new(ReplayProtection::default());
        take(&mut w, 0).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 1023).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 1024).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::BelowReplayWindow)));
    }

    /// Video reordering: frame 0 after frames 1..=999 is still accepted (it used to be
    /// dropped beyond 128), and every frame exactly once; shifts across word boundaries
    /// keep every bit.
    #[test]
    fn reordering_by_hundreds_of_frames_loses_nothing() {
        let mut w = ReplayWindow::new(ReplayProtection::default());
        for ctr in 1..1000 {
            take(&mut w, ctr).unwrap();
        }
        take(&mut w, 0).unwrap();
        for ctr in 0..1000 {
            assert_eq!(
                take(&mut w, ctr),
                Err(Error::Stale(Stale::Replayed)),
                "{ctr}"
            );
        }
        // Jumps of 1, 63, 64, 65, 200 keep the accepted counters marked.
        let mut w = ReplayWindow::new(ReplayProtection::default());
        let mut accepted = Vec::new();
        let mut ctr = 0u64;
        for jump in [0, 1, 63, 64, 65, 200, 3, 130] {
            ctr += jump;
            take(&mut w, ctr).unwrap();
            accepted.push(ctr);
        }
        for c in 0..=ctr {
            let want = if accepted.contains(&c) {
                Err(Error::Stale(Stale::Replayed))
            } else {
                Ok(())
            };
            assert_eq!(w.check(c), want, "{c}");
        }
    }

    #[test]
    fn off_accepts_everything_and_sizes_are_checked() {
        let mut w = ReplayWindow::new(ReplayProtection::Off);
        for _ in 0..3 {
            take(&mut w, 5).unwrap();
        }
        take(&mut w, 0).unwrap();
        assert!(ReplayProtection::Window(0)
            .validate()
            .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert!(ReplayProtection::Window(1025)
            .validate()
            .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert!(ReplayProtection::Window(1).validate().is_ok());
        let mut w = ReplayWindow::new(ReplayProtection::Window(1));
        take(&mut w, 3).unwrap();
        assert_eq!(take(&mut w, 2), Err(Error::Stale(Stale::BelowReplayWindow)));
    }
}
