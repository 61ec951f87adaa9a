//! [`Vegas`]: a limit from the queue that the latency reveals.

use std::time::Duration;

use super::algorithm::{Algorithm, Sample, anchor, round_up, whole};

/// A latency-based limit after TCP Vegas, as in Netflix's
/// concurrency-limits: it estimates how many requests queue in the service
/// from how much slower a call was than the fastest seen, and grows while
/// that queue is short, shrinks when it is long.
///
/// It keeps `L`, the limit as a fraction ([`Sample::limit`] to start with,
/// and again whenever `L` rounded down is not the limit in force), and
/// `min`, the lowest latency seen since the last probe. For each sample of
/// latency `rtt`, sent with `in_flight` requests in flight
/// ([`Sample::in_flight`]):
///
/// 1. **Probe.** Every `probe_multiplier × floor(L)` samples, counting this
///    one (`probe_multiplier` is 30 by default): `min = rtt`, and the limit
///    stays.
/// 2. **Baseline.** If `min` is unset, or `rtt < min`: `min = rtt` and the
///    limit stays.
/// 3. With `log = max(1, floor(log10(floor(L))))` (1 below 100, 2 below
///    1000...) and the queue `queue = ceil(L × (rtt − min) / rtt)` (0 when
///    `rtt` is zero), the target `T` is, the first rule that applies:
///    - the call failed: `T = L − log`;
///    - `in_flight × 2 < L`: the limit stays (too few requests to tell);
///    - `queue ≤ threshold × log`: `T = L + beta × log`;
///    - `queue < alpha × log`: `T = L + log`;
///    - `queue > beta × log`: `T = L − log`;
///    - otherwise the limit stays.
/// 4. `T = max(T, 1)`, then `L = (1 − smoothing) × L + smoothing × T`, and
///    the new limit is `floor(L)`.
///
/// Arithmetic is in `f64`; rounding down or up forgives a floating-point
/// error of up to 10⁻⁹.
///
/// The defaults are `alpha = 3`, `beta = 6`, `threshold = 1`,
/// `smoothing = 1` (no smoothing) and `probe_multiplier = 30`. With them,
/// at a limit of 20 and a fastest latency of 10 ms, a call taking 11 ms
/// gives `queue = ceil(20 × 1 / 11) = 2`, less than `alpha = 3`: the limit
/// goes to 21; one taking 20 ms gives `queue = ceil(20 × 10 / 20) = 10`,
/// more than `beta = 6`: the limit goes to 19.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::adaptive::{Algorithm, Sample, Vegas};
///
/// let ms = Duration::from_millis;
/// let mut vegas = Vegas::new();
/// // The first sample sets the fastest latency.
/// assert_eq!(vegas.update(Sample::success(ms(10), 20, 20)), 20);
/// // queue = ceil(20 × (10 − 10) / 10) = 0 ≤ threshold: 20 + 6.
/// assert_eq!(vegas.update(Sample::success(ms(10), 20, 20)), 26);
/// // queue = ceil(26 × (20 − 10) / 20) = 13 > beta: 26 − 1.
/// assert_eq!(vegas.update(Sample::success(ms(20), 26, 26)), 25);
/// // A failure: 25 − 1.
/// assert_eq!(vegas.update(Sample::failure(ms(10), 25, 25)), 24);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Vegas {
    alpha: usize,
    beta: usize,
    threshold: usize,
    smoothing: f64,
    probe_multiplier: usize,
    /// `L`, once a sample came.
    estimate: Option<f64>,
    /// The fastest latency since the last probe.
    min_latency: Option<Duration>,
    /// Samples since the last probe.
    samples: usize,
}

impl Vegas {
    /// A Vegas with `alpha = 3`, `beta = 6`, `threshold = 1`, no smoothing
    /// and `probe_multiplier = 30`.
    pub const fn new() -> Self {
        Vegas {
            alpha: 3,
            beta: 6,
            threshold: 1,
            smoothing: 1.0,
            probe_multiplier: 30,
            estimate: None,
            min_latency: None,
            samples: 0,
        }
    }

    /// Sets `alpha`: below `alpha × log` queued requests, the limit grows
    /// by `log`.
    pub const fn with_alpha(mut self, alpha: usize) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets `beta`: above `beta × log` queued requests, the limit shrinks
    /// by `log`; at or below `threshold × log`, it grows by `beta × log`.
    pub const fn with_beta(mut self, beta: usize) -> Self {
        self.beta = beta;
        self
    }

    /// Sets `threshold`: at or below `threshold × log` queued requests, the
    /// limit grows fast, by `beta × log`.
    pub const fn with_threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Sets the weight of the target in the new limit:
    /// `L = (1 − smoothing) × L + smoothing × T`.
    ///
    /// # Panics
    ///
    /// Unless `0 < smoothing ≤ 1`.
    pub const fn with_smoothing(mut self, smoothing: f64) -> Self {
        assert!(
            smoothing > 0.0 && smoothing <= 1.0,
            "Vegas's smoothing must be more than 0 and at most 1"
        );
        self.smoothing = smoothing;
        self
    }

    /// Sets how often the fastest latency is forgotten, so that the
    /// baseline follows a service that got slower for good: every
    /// `multiplier × floor(L)` samples.
    ///
    /// # Panics
    ///
    /// If `multiplier` is 0.
    pub const fn with_probe_multiplier(mut self, multiplier: usize) -> Self {
        assert!(
            multiplier > 0,
            "Vegas's probe multiplier must be at least 1"
        );
        self.probe_multiplier = multiplier;
        self
    }
}

impl Default for Vegas {
    fn default() -> Self {
        Vegas::new()
    }
}

impl Algorithm for Vegas {
    fn update(&mut self, sample: Sample) -> usize {
        let limit = anchor(&mut self.estimate, sample.limit());
        let current = whole(limit);
        let rtt = sample.latency();

        self.samples += 1;
        if self.samples >= self.probe_multiplier.saturating_mul(current) {
            self.samples = 0;
            self.min_latency = Some(rtt);
            return current;
        }
        let min = match self.min_latency {
            Some(min) if rtt >= min => min,
            _ => {
                self.min_latency = Some(rtt);
                return current;
            }
        };

        let log = current.checked_ilog10().unwrap_or(0).max(1) as f64;
        let queue = if rtt.is_zero() {
            0.0
        } else {
            // Whole nanoseconds, exact as floats: a whole queue stays whole.
            let queued = (rtt - min).as_nanos() as f64;
            round_up(limit * queued / rtt.as_nanos() as f64)
        };
        let target = if sample.is_failure() {
            limit - log
        } else if (sample.in_flight() as f64) * 2.0 < limit {
            return current;
        } else if queue <= self.threshold as f64 * log {
            limit + self.beta as f64 * log
        } else if queue < self.alpha as f64 * log {
            limit + log
        } else if queue > self.beta as f64 * log {
            limit - log
        } else {
            return current;
        };

        let next = (1.0 - self.smoothing) * limit + self.smoothing * target.max(1.0);
        self.estimate = Some(next);
        whole(next)
    }
}
