//! A participant's media streams, each under its own SFrame KID (RFC 9605 §5.2: "Senders may
//! choose any KID value within their assigned set of KID values, e.g., to allow a single
//! sender to send multiple, uncoordinated outbound media streams").
//!
//! ```text
//!  context = (instance << STREAM_BITS) | stream          (the KID's context bits)
//!  KID     = (context << (S + E)) | (sender_index << E) | (epoch mod 2^E)
//! ```
//!
//! `instance` is 0 for a created or joined meeting and a fresh random number after every
//! restore (see `media.rs`); `stream` names the stream. So each stream has its own key, its
//! own counter and its own replay window at every receiver: a video frame held back by a
//! jitter buffer cannot fall out of a window that audio frames moved on, and the streams of
//! one sender never share a (key, nonce).

use crate::error::{ApiMisuse, Result};
use crate::sframe::KidLayout;

/// How many bits of the KID context name the stream.
pub(super) const STREAM_BITS: u32 = 4;
/// How many streams a participant can send.
pub(super) const STREAMS: usize = 1 << STREAM_BITS;

/// One of a participant's media streams: its frames have their own SFrame key, counter and
/// replay window. Audio is stream 0 and takes the shortest header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MediaStream(u8);

impl MediaStream {
    /// The audio stream (stream 0: the shortest SFrame header).
    pub const AUDIO: Self = Self(0);
    /// The camera video stream.
    pub const VIDEO: Self = Self(1);
    /// The screen share.
    pub const SCREEN_SHARE: Self = Self(2);

    /// Stream `n` (0 to 15), for streams beyond the three named ones (e.g. a second camera).
    ///
    /// # Errors
    /// [`ApiMisuse::IndexOutOfRange`] for `n > 15`.
    pub const fn new(n: u8) -> Result<Self> {
        if (n as usize) < STREAMS {
            Ok(Self(n))
        } else {
            Err(crate::error::Error::ApiMisuse(ApiMisuse::IndexOutOfRange))
        }
    }

    /// The stream's number (0 to 15).
    #[must_use]
    pub const fn number(self) -> u8 {
        self.0
    }

    pub(super) const fn slot(self) -> usize {
        self.0 as usize
    }

    /// The KID context of this stream for an instance.
    pub(super) const fn context(self, instance: u64) -> u64 {
        (instance << STREAM_BITS) | self.0 as u64
    }

    /// The stream a received `kid` names under `layout`.
    pub(super) fn of_kid(layout: KidLayout, kid: u64) -> Self {
        let shift = layout.index_bits() + layout.epoch_bits();
        let context = kid.checked_shr(shift).unwrap_or(0);
        // The mask keeps the value below 16.
        Self(u8::try_from(context & (STREAMS as u64 - 1)).unwrap_or(0))
    }
}

/// What a decrypted frame was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameInfo {
    /// The plaintext is `out[..len]`.
    pub len: usize,
    /// The sender's leaf index.
    pub sender: u32,
    /// The sender's stream.
    pub stream: MediaStream,
    /// The epoch whose key decrypted it.
    pub epoch: u64,
    /// The SFrame counter of the frame (per sender and stream).
    pub counter: u64,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn streams_have_distinct_contexts_and_are_read_back_from_kids() {
        let layout = KidLayout::new(3, 14).unwrap();
        let mut kids = Vec::new();
        for instance in [0u64, 1, 0xFFFF_FFFF] {
            for n in 0..16u8 {
                let s = MediaStream::new(n).unwrap();
                let kid = layout.kid(s.context(instance), 77, 5).unwrap();
                assert_eq!(MediaStream::of_kid(layout, kid), s);
                assert_eq!(layout.split(kid), (77, 5));
                kids.push(kid);
            }
        }
        let n = kids.len();
        kids.sort_unstable();
        kids.dedup();
        assert_eq!(kids.len(), n, "two streams or instances share a KID");
        assert_eq!(MediaStream::new(16), Err(ApiMisuse::IndexOutOfRange.into()));
        // Audio of a fresh instance has context 0: the shortest KID.
        assert_eq!(MediaStream::AUDIO.context(0), 0);
    }
}
