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

/// The largest anti-replay window: 128 counters.
pub(crate) const MAX_REPLAY_WINDOW: u32 = 128;

/// Whether and how a decryptor rejects replayed frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayProtection {
    /// Accept any CTR (replay protection is left to the transport, RFC 9605 §9.3).
    Off,
    /// Reject a CTR already accepted, or more than `n - 1` below the highest accepted one
    /// (`1 <= n <= 128`).
    Window(u32),
}

impl Default for ReplayProtection {
    /// On, with the largest window (128 frames).
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
    /// Bit `i` is set when `top - i` was accepted.
    seen: u128,
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
            seen: 0,
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
        if self.seen >> behind & 1 == 1 {
            return Err(Stale::Replayed.into());
        }
        Ok(())
    }

    /// What a restart must keep: the highest CTR accepted and the bitmap below it (the
    /// window size is configuration).
    pub(crate) const fn snapshot(&self) -> Option<(u64, u128)> {
        match self.top {
            Some(top) => Some((top, self.seen)),
            None => None,
        }
    }

    /// The window of `protection` in the state [`ReplayWindow::snapshot`] gave.
    pub(crate) const fn restored(protection: ReplayProtection, top: u64, seen: u128) -> Self {
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
            Some(top) if ctr <= top => {
                let behind = top - ctr;
                if behind < u64::from(MAX_REPLAY_WINDOW) {
                    self.seen |= 1 << behind;
                }
            }
            Some(top) => {
                let ahead = ctr - top;
                self.seen = if ahead >= u64::from(MAX_REPLAY_WINDOW) {
                    0
                } else {
                    self.seen << ahead
                } | 1;
                self.top = Some(ctr);
            }
            None => {
                self.seen = 1;
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
        take(&mut w, u64::MAX - 127).unwrap();
        assert_eq!(
            take(&mut w, u64::MAX - 128),
            Err(Error::Stale(Stale::BelowReplayWindow))
        );
        let mut w = ReplayWindow::new(ReplayProtection::default());
        take(&mut w, 0).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 127).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::Replayed)));
        take(&mut w, 128).unwrap();
        assert_eq!(take(&mut w, 0), Err(Error::Stale(Stale::BelowReplayWindow)));
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
        assert!(ReplayProtection::Window(129)
            .validate()
            .is_err_and(|e| e == Error::ApiMisuse(ApiMisuse::InvalidLength)));
        assert!(ReplayProtection::Window(1).validate().is_ok());
        let mut w = ReplayWindow::new(ReplayProtection::Window(1));
        take(&mut w, 3).unwrap();
        assert_eq!(take(&mut w, 2), Err(Error::Stale(Stale::BelowReplayWindow)));
    }
}
