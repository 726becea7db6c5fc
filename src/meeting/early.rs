//! Handshakes that arrive before their epoch: kept (bounded) and processed, in arrival
//! order, once the meeting reaches their epoch. A delivery service orders each meeting's
//! handshakes, but a client that catches up, a reconnect or a relay path can still hand it
//! the commit of epoch n+1 before that of epoch n.

use std::collections::VecDeque;

use crate::error::{Error, Result, Stale};
use crate::mls::wire::MlsMessage;

use super::{Event, Meeting};

/// At most this many early handshakes are kept.
pub(super) const MAX_EARLY_MESSAGES: usize = 64;
/// At most this many bytes of early handshakes are kept.
pub(super) const MAX_EARLY_BYTES: usize = 4 << 20;
/// Handshakes more than this many epochs ahead are refused, not kept.
pub(super) const MAX_EPOCHS_AHEAD: u64 = 16;

/// The early handshakes, oldest first.
#[derive(Debug, Default)]
pub(super) struct Early {
    messages: VecDeque<(u64, MlsMessage, usize)>,
    bytes: usize,
}

impl Early {
    /// Keeps `message` of `epoch` if the bounds allow.
    fn keep(&mut self, epoch: u64, message: &MlsMessage) -> Result<()> {
        let size = crate::codec::Encode::to_bytes(message)?.len();
        if self.messages.len() >= MAX_EARLY_MESSAGES
            || self.bytes.saturating_add(size) > MAX_EARLY_BYTES
        {
            return Err(Stale::FutureEpoch.into());
        }
        self.messages.push_back((epoch, message.clone(), size));
        self.bytes += size;
        Ok(())
    }

    /// Drops what is now in the past; takes the oldest message of `epoch`.
    fn take(&mut self, epoch: u64) -> Option<MlsMessage> {
        self.messages.retain(|(e, ..)| *e >= epoch);
        let i = self.messages.iter().position(|(e, ..)| *e == epoch)?;
        let (_, m, _) = self.messages.remove(i)?;
        self.bytes = self.messages.iter().map(|(.., s)| *s).sum();
        Some(m)
    }

    /// How many are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }
}

impl Meeting {
    /// A handshake of a later epoch: kept for that epoch ([`Event::HandshakeBuffered`]),
    /// or refused when it is too far ahead or the buffer is full.
    pub(super) fn keep_early(&mut self, message: &MlsMessage) -> Result<()> {
        let Some((group, epoch)) = message.group_and_epoch() else {
            return Err(Stale::FutureEpoch.into());
        };
        if group != self.meeting_id() || epoch > self.epoch().saturating_add(MAX_EPOCHS_AHEAD) {
            return Err(Stale::FutureEpoch.into());
        }
        self.early.keep(epoch, message)?;
        self.events.push_back(Event::HandshakeBuffered { epoch });
        Ok(())
    }

    /// Processes the kept handshakes of the epoch the meeting is now in, and of the epochs
    /// they lead to; one that is refused is reported ([`Event::BufferedHandshakeRefused`])
    /// and dropped.
    pub(super) fn process_early(&mut self) {
        while let Some(message) = self.early.take(self.epoch()) {
            let epoch = self.epoch();
            if let Err(error) = self.process_one(&message) {
                self.events
                    .push_back(Event::BufferedHandshakeRefused { epoch, error });
            }
        }
    }
}

/// Whether `r` says the message is for a later epoch.
pub(super) fn is_future(r: &Result<()>) -> bool {
    matches!(r, Err(Error::Stale(Stale::FutureEpoch)))
}
