//! The client's own observations of relays, and the health status they give at a time.
//!
//! Health never comes from a server: it is what this client saw (connect failures,
//! congestion signals, successes), with every time an input, so the same observations at
//! the same `now` always give the same status.
//!
//! ```text
//!  failures ≥ down_after_failures and now < last_failure + retry_after  ─► Down (excluded)
//!  now < congested_until                                                ─► Congested
//!  consecutive_failures > 0                                             ─► Degraded
//!  last_success within fresh_for                                        ─► Healthy
//!  otherwise (never seen, or seen long ago)                             ─► Unknown
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::directory::Directory;

/// How usable a relay looks to this client; selection prefers lower (earlier) variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum HealthStatus {
    /// Recently succeeded with no failure since.
    Healthy,
    /// No recent observation.
    Unknown,
    /// Failed recently, but fewer times than the down threshold (or the retry time passed).
    Degraded,
    /// Reported congestion that has not yet expired.
    Congested,
    /// Failed repeatedly and recently: not used until its retry time.
    Down,
}

impl HealthStatus {
    /// The rank used in ordering (0 = best).
    pub(super) const fn rank(self) -> u8 {
        self as u8
    }
}

/// What this client observed about one relay. Times are Unix seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Observation {
    /// Connection failures since the last success.
    pub consecutive_failures: u32,
    /// When the last connection failure happened.
    pub last_failure: Option<u64>,
    /// When the last successful connection happened.
    pub last_success: Option<u64>,
    /// Until when the relay signalled (or showed) congestion.
    pub congested_until: Option<u64>,
}

/// The thresholds that turn observations into a [`HealthStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthThresholds {
    /// Consecutive failures after which a relay is `Down`.
    pub down_after_failures: u32,
    /// Seconds after the last failure before a `Down` relay may be tried again.
    pub retry_after: u64,
    /// Seconds a success keeps a relay `Healthy`.
    pub fresh_for: u64,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            down_after_failures: 3,
            retry_after: 60,
            fresh_for: 300,
        }
    }
}

impl Observation {
    /// The status at `now` under `t`.
    #[must_use]
    pub fn status(&self, now: u64, t: &HealthThresholds) -> HealthStatus {
        let failing = self.consecutive_failures > 0;
        let recent_failure = self
            .last_failure
            .is_none_or(|at| at.checked_add(t.retry_after).is_none_or(|end| now < end));
        if failing && self.consecutive_failures >= t.down_after_failures && recent_failure {
            HealthStatus::Down
        } else if self.congested_until.is_some_and(|until| now < until) {
            HealthStatus::Congested
        } else if failing {
            HealthStatus::Degraded
        } else if self
            .last_success
            .is_some_and(|at| now.saturating_sub(at) <= t.fresh_for)
        {
            HealthStatus::Healthy
        } else {
            HealthStatus::Unknown
        }
    }
}

/// This client's observations of relays, by relay id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    observations: BTreeMap<String, Observation>,
    thresholds: HealthThresholds,
}

impl Health {
    /// No observations, default thresholds.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the thresholds.
    #[must_use]
    pub const fn with_thresholds(mut self, thresholds: HealthThresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Sets the observation of relay `id`.
    pub fn set(&mut self, id: &str, observation: Observation) {
        self.observations.insert(id.to_owned(), observation);
    }

    /// The observation of relay `id`, if any.
    #[must_use]
    pub fn get(&self, id: &str) -> Option<&Observation> {
        self.observations.get(id)
    }

    /// Records a successful connection at `now`: clears the failure count.
    pub fn record_success(&mut self, id: &str, now: u64) {
        let o = self.observations.entry(id.to_owned()).or_default();
        o.consecutive_failures = 0;
        o.last_success = Some(now);
    }

    /// Records a failed connection attempt at `now`.
    pub fn record_failure(&mut self, id: &str, now: u64) {
        let o = self.observations.entry(id.to_owned()).or_default();
        o.consecutive_failures = o.consecutive_failures.saturating_add(1);
        o.last_failure = Some(now);
    }

    /// Records that relay `id` is congested until `until`.
    pub fn record_congestion(&mut self, id: &str, until: u64) {
        let o = self.observations.entry(id.to_owned()).or_default();
        o.congested_until = Some(o.congested_until.map_or(until, |u| u.max(until)));
    }

    /// The status of relay `id` at `now` (`Unknown` if never observed).
    #[must_use]
    pub fn status(&self, id: &str, now: u64) -> HealthStatus {
        self.observations
            .get(id)
            .map_or(HealthStatus::Unknown, |o| o.status(now, &self.thresholds))
    }

    /// The status of every relay of `directory`, in its order.
    pub(super) fn statuses(&self, directory: &Directory, now: u64) -> Vec<HealthStatus> {
        let mut out = vec![HealthStatus::Unknown; directory.relays().len()];
        for (id, o) in &self.observations {
            if let Some(slot) = directory.position(id).and_then(|i| out.get_mut(i)) {
                *slot = o.status(now, &self.thresholds);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_table() {
        let t = HealthThresholds::default();
        let mut h = Health::new();
        assert_eq!(h.status("a", 1000), HealthStatus::Unknown);
        h.record_success("a", 1000);
        assert_eq!(h.status("a", 1000), HealthStatus::Healthy);
        assert_eq!(h.status("a", 1300), HealthStatus::Healthy);
        assert_eq!(h.status("a", 1301), HealthStatus::Unknown);
        h.record_failure("a", 1010);
        assert_eq!(h.status("a", 1010), HealthStatus::Degraded);
        h.record_failure("a", 1011);
        h.record_failure("a", 1012);
        assert_eq!(h.status("a", 1012), HealthStatus::Down);
        assert_eq!(h.status("a", 1071), HealthStatus::Down);
        // The retry time has passed: worth one more try, but not healthy.
        assert_eq!(h.status("a", 1072), HealthStatus::Degraded);
        h.record_success("a", 1080);
        assert_eq!(h.status("a", 1080), HealthStatus::Healthy);
        h.record_congestion("a", 1100);
        h.record_congestion("a", 1090);
        assert_eq!(h.status("a", 1099), HealthStatus::Congested);
        assert_eq!(h.status("a", 1100), HealthStatus::Healthy);
        // Down outranks congestion; a failure time in the future counts as recent.
        let o = Observation {
            consecutive_failures: 5,
            last_failure: Some(u64::MAX),
            last_success: None,
            congested_until: Some(u64::MAX),
        };
        assert_eq!(o.status(0, &t), HealthStatus::Down);
        assert_eq!(o.status(u64::MAX, &t), HealthStatus::Down);
        let never_failed_at = Observation {
            consecutive_failures: 3,
            ..Observation::default()
        };
        assert_eq!(never_failed_at.status(0, &t), HealthStatus::Down);
        assert!(HealthStatus::Healthy < HealthStatus::Unknown);
        assert!(HealthStatus::Congested < HealthStatus::Down);
    }
}
