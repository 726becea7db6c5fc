//! A meeting driven through a delivery service: the log processed in order from a cursor
//! that survives restarts, and commits re-issued until one lands ("discard, process the
//! winner, re-issue").

use meetkey::error::{ApiMisuse, Error, Stale};
use meetkey::meeting::{CommitIntent, Event, Meeting};
use meetkey::mls::MlsMessage;
use meetkey::rand_core::CryptoRngCore as Rng;

use crate::{DeliveryService, DsError, Published};

/// How many entries one fetch asks for.
const FETCH_BATCH: usize = 256;

/// A failure of a [`Member`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberError {
    /// The delivery service failed.
    Ds(DsError),
    /// The meeting refused a call of ours (not an entry of the log: those are reported in
    /// [`SyncReport::refused`]).
    Meeting(Error),
    /// A commit did not land after the attempts allowed (others kept winning the epoch).
    Contended,
}

impl From<DsError> for MemberError {
    fn from(e: DsError) -> Self {
        Self::Ds(e)
    }
}

impl From<Error> for MemberError {
    fn from(e: Error) -> Self {
        Self::Meeting(e)
    }
}

impl core::fmt::Display for MemberError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Ds(e) => write!(f, "{e}"),
            Self::Meeting(e) => write!(f, "meeting: {e:?}"),
            Self::Contended => write!(f, "the commit lost every epoch it was tried in"),
        }
    }
}

impl std::error::Error for MemberError {}

/// What one [`Member::sync`] did.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Entries processed.
    pub processed: usize,
    /// Entries of a past epoch, dropped (a proposal that missed its epoch's commit).
    pub stale: usize,
    /// Entries the meeting refused (malformed or hostile: the meeting is unchanged by them),
    /// with their position.
    pub refused: Vec<(u64, Error)>,
    /// The meeting's events.
    pub events: Vec<Event>,
}

impl SyncReport {
    /// What our commits that lost their epoch were meant to do.
    #[must_use]
    pub fn lost(&self) -> Vec<CommitIntent> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::PendingCommitDiscarded { intent, .. } => Some(intent.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A meeting and its position in the meeting's log.
#[derive(Debug)]
pub struct Member {
    meeting: Meeting,
    cursor: u64,
    /// Our pending commit as published, while its fate is unknown (the service did not
    /// answer): published again rather than issued anew.
    in_flight: Option<MlsMessage>,
}

impl Member {
    /// `meeting`, which has processed its log up to position `cursor` (0 for a meeting
    /// created or joined by Welcome before anything was logged; the position of the
    /// Welcome's commit for a joiner; the saved cursor after a restart).
    #[must_use]
    pub const fn new(meeting: Meeting, cursor: u64) -> Self {
        Self {
            meeting,
            cursor,
            in_flight: None,
        }
    }

    /// The meeting.
    #[must_use]
    pub const fn meeting(&self) -> &Meeting {
        &self.meeting
    }

    /// The meeting, to call it directly (media, events, saving).
    pub fn meeting_mut(&mut self) -> &mut Meeting {
        &mut self.meeting
    }

    /// The position of the last log entry processed (save it with the meeting).
    #[must_use]
    pub const fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Processes every entry of the log after the cursor, in order. An entry the meeting
    /// refuses (bytes that do not decode, a forged commit) is reported and skipped: the
    /// meeting is unchanged by it, and every honest member refuses it the same way.
    ///
    /// # Errors
    /// [`MemberError::Ds`] when the service fails (the entries processed so far stay
    /// processed, the cursor after them).
    pub fn sync(&mut self, ds: &mut impl DeliveryService) -> Result<SyncReport, MemberError> {
        let mut report = SyncReport::default();
        let meeting_id = self.meeting.meeting_id().to_vec();
        loop {
            let entries = ds.fetch(&meeting_id, self.cursor, FETCH_BATCH)?;
            let Some(last) = entries.last().map(|e| e.seq) else {
                break;
            };
            if last <= self.cursor {
                // A service that answers with old entries only: nothing new.
                break;
            }
            for entry in entries {
                if entry.seq <= self.cursor {
                    continue; // replayed by the service
                }
                self.cursor = entry.seq;
                let outcome =
                    MlsMessage::from_bytes(&entry.message).and_then(|m| self.meeting.process(&m));
                match outcome {
                    Ok(()) => report.processed += 1,
                    Err(Error::Stale(Stale::PastEpoch)) => report.stale += 1,
                    Err(e) => report.refused.push((entry.seq, e)),
                }
            }
        }
        report.events = self.meeting.drain_events();
        Ok(report)
    }

    /// Commits `intent` through the service: issues it in the current epoch, publishes it,
    /// and on a conflict processes the winner and issues it again, at most `attempts` times.
    /// A commit whose publication failed (the service did not answer) stays pending: the next
    /// call first processes the log (the commit may have been stored, and its echo merges
    /// it), then publishes the same commit again. Returns the log position after our commit
    /// (the meeting has merged it) and the report of the last sync.
    ///
    /// # Errors
    /// [`MemberError::Meeting`] when the intent cannot be issued (e.g. the winner already
    /// removed the member we wanted to remove); [`MemberError::Contended`]; as
    /// [`Member::sync`].
    pub fn commit(
        &mut self,
        ds: &mut impl DeliveryService,
        intent: &CommitIntent,
        now: u64,
        rng: &mut impl Rng,
        attempts: usize,
    ) -> Result<(u64, SyncReport), MemberError> {
        for _ in 0..attempts {
            let commit = if self.meeting.has_pending_commit() {
                let report = self.sync(ds)?;
                if !self.meeting.has_pending_commit() {
                    self.in_flight = None;
                    if report.lost().is_empty() {
                        // Our earlier publication was stored: its echo merged it.
                        return Ok((self.cursor, report));
                    }
                    continue;
                }
                match self.in_flight.clone() {
                    Some(c) => c,
                    // Pending from before a restart, its echo not in the log yet: only the
                    // application knows whether it reached the service (discard_pending if
                    // it did not). Discarding here could drop a stored commit and fork us.
                    None => return Err(Error::from(ApiMisuse::CommitPending).into()),
                }
            } else {
                let out = self.meeting.retry(intent, now, rng)?;
                self.in_flight = Some(out.commit.clone());
                out.commit
            };
            // An error leaves the commit pending and in flight (see above).
            match ds.publish(&commit)? {
                Published::Appended { .. } => {
                    let report = self.sync(ds)?;
                    self.in_flight = None;
                    return Ok((self.cursor, report));
                }
                Published::Conflict => {
                    // Another commit holds the epoch (or ours, published before): processing
                    // the log merges ours or discards it. Until the log shows which, ours
                    // stays pending (a replica may lag): discarding a commit that was stored
                    // would leave us behind everyone who merged it.
                    let report = self.sync(ds)?;
                    if !self.meeting.has_pending_commit() {
                        self.in_flight = None;
                        if report.lost().is_empty() {
                            return Ok((self.cursor, report));
                        }
                    }
                }
            }
        }
        Err(MemberError::Contended)
    }
}
