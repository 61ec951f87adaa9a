//! [`Aimd`]: additive increase, multiplicative decrease.

use std::time::Duration;

use super::algorithm::{Algorithm, Sample, whole};

/// A loss-based limit: one more after each success, a fraction less after
/// each failure or timeout.
///
/// For each sample, with `L` the limit in force ([`Sample::limit`]):
///
/// - if the call failed, or its latency is more than the timeout (5 s
///   unless set with [`with_timeout`](Aimd::with_timeout)):
///   `L' = floor(L × backoff_ratio)` (0.9 unless set with
///   [`with_backoff_ratio`](Aimd::with_backoff_ratio));
/// - otherwise: `L' = L + 1`.
///
/// Rounding down forgives a floating-point error of up to 10⁻⁹ (so that
/// `floor(50 × 0.58)` is 29, not 28). The limiter then brings `L'` within its
/// minimum and maximum. With the
/// default ratio, a limit of 20 goes to 18 after a failure
/// (`floor(20 × 0.9)`), then 19, 20, 21 after three successes.
///
/// Aimd keeps no state of its own: the same sample always gives the same
/// limit. It reacts to failures only, never to a rising latency below the
/// timeout; every success grows the limit, however few requests were in
/// flight, so set a maximum that the service can bear.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::adaptive::{Aimd, Algorithm, Sample};
///
/// let mut aimd = Aimd::new()
///     .with_backoff_ratio(0.5)
///     .with_timeout(Duration::from_secs(1));
/// let fast = Duration::from_millis(10);
/// assert_eq!(aimd.update(Sample::success(fast, 1, 10)), 11);
/// assert_eq!(aimd.update(Sample::failure(fast, 1, 11)), 5); // floor(11 × 0.5)
/// // Slower than the timeout counts as a failure.
/// assert_eq!(aimd.update(Sample::success(Duration::from_secs(2), 1, 5)), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Aimd {
    backoff_ratio: f64,
    timeout: Duration,
}

impl Aimd {
    /// An AIMD with a backoff ratio of 0.9 and a timeout of 5 seconds.
    pub const fn new() -> Self {
        Aimd {
            backoff_ratio: 0.9,
            timeout: Duration::from_secs(5),
        }
    }

    /// Sets what the limit is multiplied by (then rounded down) after a
    /// failure or a timeout.
    ///
    /// # Panics
    ///
    /// Unless `0 < ratio < 1`.
    pub const fn with_backoff_ratio(mut self, ratio: f64) -> Self {
        assert!(
            ratio > 0.0 && ratio < 1.0,
            "Aimd's backoff ratio must be more than 0 and less than 1"
        );
        self.backoff_ratio = ratio;
        self
    }

    /// Sets the latency above which a successful call counts as a failure.
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl Default for Aimd {
    fn default() -> Self {
        Aimd::new()
    }
}

impl Algorithm for Aimd {
    fn update(&mut self, sample: Sample) -> usize {
        let limit = sample.limit();
        if sample.is_failure() || sample.latency() > self.timeout {
            whole(limit as f64 * self.backoff_ratio)
        } else {
            limit.saturating_add(1)
        }
    }

    fn stateless_copy(&self) -> Option<Self> {
        Some(*self)
    }
}
