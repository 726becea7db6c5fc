//! Media frames of the next epoch that arrive before its commit: held (bounded) and
//! decrypted once the meeting reaches that epoch.
//!
//! A sender that processed the commit of epoch n+1 encrypts under n+1 at once, while a
//! receiver may still be processing it, or still waiting for it from the delivery service.
//! The meeting keeps at most 2^E - 1 epochs, so the KID slot of epoch n+1 is always free
//! while the meeting is at epoch n: a frame naming that slot is told apart from a frame of
//! a retained epoch, held here, and returned by [`Meeting::take_early_frame`] once epoch
//! n+1 arrives ([`Event::EarlyFramesReleased`]). Nothing held is trusted: a held frame is
//! decrypted under the new epoch's key like any other, and one that does not authenticate
//! is dropped (counted as refused).
//!
//! [`Meeting::take_early_frame`]: super::Meeting::take_early_frame
//! [`Event::EarlyFramesReleased`]: super::Event::EarlyFramesReleased

use std::collections::VecDeque;

use crate::error::{Error, Stale};

use super::media_stream::FrameInfo;

/// At most this many frames are held.
pub(super) const MAX_HELD_FRAMES: usize = 256;
/// At most this many bytes of frames and metadata are held (and as many released and not
/// yet taken).
pub(super) const MAX_HELD_BYTES: usize = 1 << 20;

/// A frame that arrived before its epoch, decrypted once the epoch arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EarlyFrame {
    /// What the frame was (`len` is `plaintext.len()`).
    pub info: FrameInfo,
    /// The metadata it was authenticated with.
    pub metadata: Vec<u8>,
    /// Its plaintext.
    pub plaintext: Vec<u8>,
}

/// One held frame.
#[derive(Debug)]
pub(super) struct Held {
    /// The low `E` bits of the epoch its KID names.
    pub(super) low: u64,
    /// When it arrived.
    at: u64,
    pub(super) metadata: Vec<u8>,
    pub(super) frame: Vec<u8>,
}

impl Held {
    fn size(&self) -> usize {
        self.metadata.len().saturating_add(self.frame.len())
    }
}

/// The held frames and the released ones not yet taken.
#[derive(Debug, Default)]
pub(super) struct HeldFrames {
    held: VecDeque<Held>,
    held_bytes: usize,
    released: VecDeque<EarlyFrame>,
    released_bytes: usize,
}

impl HeldFrames {
    /// Holds a frame of the epoch with low bits `low`; returns what the caller reports:
    /// [`Stale::EarlyFrame`] when held (the frame comes back decrypted later),
    /// [`Stale::FutureEpoch`] when the bounds are reached (the frame is dropped).
    pub(super) fn hold(&mut self, low: u64, now: u64, metadata: &[u8], frame: &[u8]) -> Error {
        let size = metadata.len().saturating_add(frame.len());
        if self.held.len() >= MAX_HELD_FRAMES
            || self.held_bytes.saturating_add(size) > MAX_HELD_BYTES
        {
            return Stale::FutureEpoch.into();
        }
        self.held.push_back(Held {
            low,
            at: now,
            metadata: metadata.to_vec(),
            frame: frame.to_vec(),
        });
        self.held_bytes += size;
        Stale::EarlyFrame.into()
    }

    /// Takes every held frame; returns those of the epoch with low bits `low`, oldest first,
    /// and how many others were dropped.
    pub(super) fn take_all(&mut self, low: u64) -> (Vec<Held>, u32) {
        let all: Vec<Held> = self.held.drain(..).collect();
        self.held_bytes = 0;
        let total = all.len();
        let mine: Vec<Held> = all.into_iter().filter(|h| h.low == low).collect();
        let dropped = u32::try_from(total - mine.len()).unwrap_or(u32::MAX);
        (mine, dropped)
    }

    /// Drops frames held for `retention` seconds or more.
    pub(super) fn expire(&mut self, now: u64, retention: u64) {
        self.held.retain(|h| h.at.saturating_add(retention) > now);
        self.held_bytes = self.held.iter().map(Held::size).sum();
    }

    /// Queues a released frame for [`HeldFrames::take_released`], dropping the oldest ones
    /// when the app does not take them.
    pub(super) fn push_released(&mut self, frame: EarlyFrame) {
        self.released_bytes = self
            .released_bytes
            .saturating_add(frame.metadata.len() + frame.plaintext.len());
        self.released.push_back(frame);
        while self.released.len() > MAX_HELD_FRAMES || self.released_bytes > MAX_HELD_BYTES {
            match self.released.pop_front() {
                Some(f) => {
                    self.released_bytes = self
                        .released_bytes
                        .saturating_sub(f.metadata.len() + f.plaintext.len());
                }
                None => break,
            }
        }
    }

    /// The oldest released frame.
    pub(super) fn take_released(&mut self) -> Option<EarlyFrame> {
        let f = self.released.pop_front()?;
        self.released_bytes = self
            .released_bytes
            .saturating_sub(f.metadata.len() + f.plaintext.len());
        Some(f)
    }

    /// How many frames are held.
    #[cfg(test)]
    pub(super) fn held_len(&self) -> usize {
        self.held.len()
    }
}
