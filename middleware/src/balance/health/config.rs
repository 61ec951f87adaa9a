//! [`HealthCheck`]: how often endpoints are probed, and how many probes
//! change their health; and the count of consecutive probes behind it.

use std::time::Duration;

/// How endpoints are probed: every `interval`, each probe given `timeout`;
/// `unhealthy_threshold` failures in a row make an endpoint unhealthy,
/// `healthy_threshold` passes in a row make it healthy again.
///
/// Defaults, as commonly set for Envoy's active health checks: a timeout of
/// one `interval` (so that probes never overlap), an unhealthy threshold of
/// 2 (one lost probe is not enough) and a healthy threshold of 1 (an
/// endpoint is back as soon as it answers).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::balance::health::HealthCheck;
///
/// let config = HealthCheck::new(Duration::from_secs(5))
///     .with_timeout(Duration::from_secs(1))
///     .with_unhealthy_threshold(3)
///     .with_healthy_threshold(2);
/// assert_eq!(config.interval(), Duration::from_secs(5));
/// assert_eq!(config.unhealthy_threshold(), 3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    interval: Duration,
    timeout: Duration,
    unhealthy_threshold: u32,
    healthy_threshold: u32,
}

impl HealthCheck {
    /// Probes every `interval`, each probe timing out after `interval`;
    /// 2 failures in a row make an endpoint unhealthy, 1 pass healthy.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub const fn new(interval: Duration) -> Self {
        assert!(
            !interval.is_zero(),
            "the health check interval must be longer than zero"
        );
        HealthCheck {
            interval,
            timeout: interval,
            unhealthy_threshold: 2,
            healthy_threshold: 1,
        }
    }

    /// Counts a probe that has not answered after `timeout` as failed (and
    /// drops it).
    ///
    /// Probes of an endpoint never overlap: with a timeout longer than the
    /// interval, a probe due while one hangs starts as soon as that one
    /// ends, and the next ones keep to the interval's schedule (the ticks
    /// missed meanwhile are skipped, not made up).
    ///
    /// # Panics
    ///
    /// If `timeout` is zero.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        assert!(
            !timeout.is_zero(),
            "the health check timeout must be longer than zero"
        );
        self.timeout = timeout;
        self
    }

    /// Makes a healthy endpoint unhealthy after `failures` failed probes in
    /// a row (2 by default).
    ///
    /// # Panics
    ///
    /// If `failures` is zero.
    pub const fn with_unhealthy_threshold(mut self, failures: u32) -> Self {
        assert!(
            failures > 0,
            "the health check unhealthy threshold must be at least 1"
        );
        self.unhealthy_threshold = failures;
        self
    }

    /// Makes an unhealthy endpoint healthy again after `passes` passed
    /// probes in a row (1 by default).
    ///
    /// # Panics
    ///
    /// If `passes` is zero.
    pub const fn with_healthy_threshold(mut self, passes: u32) -> Self {
        assert!(
            passes > 0,
            "the health check healthy threshold must be at least 1"
        );
        self.healthy_threshold = passes;
        self
    }

    /// The time between the starts of two probes of an endpoint.
    pub const fn interval(&self) -> Duration {
        self.interval
    }

    /// How long a probe may take before it counts as failed.
    pub const fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The failed probes in a row that make an endpoint unhealthy.
    pub const fn unhealthy_threshold(&self) -> u32 {
        self.unhealthy_threshold
    }

    /// The passed probes in a row that make an endpoint healthy again.
    pub const fn healthy_threshold(&self) -> u32 {
        self.healthy_threshold
    }
}

/// An endpoint's health, and the probes in a row that went against it.
#[derive(Debug)]
pub(super) struct Tally {
    healthy: bool,
    /// Consecutive probes whose outcome differs from `healthy`.
    against: u32,
}

impl Tally {
    /// A healthy endpoint, not probed yet.
    pub(super) const fn new() -> Self {
        Tally {
            healthy: true,
            against: 0,
        }
    }

    /// Counts a probe; returns the new health if it changed.
    pub(super) fn record(&mut self, passed: bool, config: &HealthCheck) -> Option<bool> {
        if passed == self.healthy {
            self.against = 0;
            return None;
        }
        self.against += 1;
        let threshold = if self.healthy {
            config.unhealthy_threshold
        } else {
            config.healthy_threshold
        };
        if self.against < threshold {
            return None;
        }
        self.healthy = passed;
        self.against = 0;
        Some(passed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_changes_after_the_thresholds_of_probes_in_a_row() {
        let config = HealthCheck::new(Duration::from_secs(1))
            .with_unhealthy_threshold(3)
            .with_healthy_threshold(2);
        let mut tally = Tally::new();
        // Two failures, then a pass: the count starts again.
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.against, 2);
        assert_eq!(tally.record(true, &config), None);
        assert_eq!(tally.against, 0);
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.record(false, &config), Some(false));
        // Unhealthy: failures change nothing, one pass is not enough.
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.record(true, &config), None);
        assert_eq!(tally.record(false, &config), None);
        assert_eq!(tally.record(true, &config), None);
        assert_eq!(tally.record(true, &config), Some(true));
        assert_eq!(tally.record(true, &config), None);
    }
}
