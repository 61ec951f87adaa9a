//! [`Gradient2`]: a limit from the trend of the latency.

use std::time::Duration;

use super::algorithm::{Algorithm, Sample, anchor, whole};

/// Samples averaged plainly before the long-term average turns exponential.
const WARMUP: usize = 10;

/// A latency-based limit, as Netflix concurrency-limits' Gradient2: it
/// compares each call's latency (the short-term latency) with a long-term
/// exponential average, shrinks the limit as calls get slower than the
/// average allows, and otherwise grows it by a small queue allowance.
///
/// It keeps `L`, the limit as a fraction ([`Sample::limit`] to start with,
/// and again whenever `L` rounded down is not the limit in force), and
/// `long`, the long-term latency. For each sample of latency `short`, sent
/// with `in_flight` requests in flight ([`Sample::in_flight`]):
///
/// 1. `long` takes the sample in: for the first 10 samples, as a plain mean
///    (`long += (short − long) / n` for the `n`-th sample); after that, as
///    an exponential average over `long_window` samples (600 by default):
///    `long = long × (1 − k) + short × k`, with `k = 2 / (long_window + 1)`.
/// 2. If `long / short > 2` (the latency came back down after a long
///    spell of overload), the stored `long` is multiplied by 0.95; this
///    sample still uses the value from step 1.
/// 3. If `in_flight < L / 2`, the limit stays: with fewer than half of the
///    permits in use, the latency says nothing about a higher limit.
/// 4. `gradient = tolerance × long / short`, brought within `[0.5, 1]`
///    (1 when `short` is zero), with `tolerance` 1.5 by default: the limit
///    only shrinks once calls are 1.5 times slower than the average, and
///    by at most half.
/// 5. `T = L × gradient + queue_size` (`queue_size` 4 by default), then
///    `L = (1 − smoothing) × L + smoothing × T` (`smoothing` 0.2 by
///    default), and the new limit is `floor(L)`.
///
/// Latencies are taken in nanoseconds; arithmetic is in `f64`, and rounding
/// down forgives a floating-point error of up to 10⁻⁹.
///
/// With the defaults and a steady latency, the gradient is 1 and each
/// sample adds `smoothing × queue_size = 0.8` to `L`: from 20, the limit
/// reads 20, 21, 22, 23, 24 after the first five samples (`L` = 20.8, 21.6,
/// 22.4, 23.2, 24.0).
///
/// Gradient2 reacts to latency only, as Netflix's does: a failed call is a
/// sample like any other. Pick [`Aimd`](super::Aimd) or
/// [`Vegas`](super::Vegas) for a limit that failures lower.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::adaptive::{Algorithm, Gradient2, Sample};
///
/// let ms = Duration::from_millis;
/// let mut gradient = Gradient2::new().with_smoothing(1.0);
/// // long = 10 ms; gradient = min(1, 1.5 × 10 / 10) = 1; 10 × 1 + 4.
/// assert_eq!(gradient.update(Sample::success(ms(10), 10, 10)), 14);
/// // long = (10 + 40) / 2 = 25 ms; gradient = 1.5 × 25 / 40 = 0.9375;
/// // 14 × 0.9375 + 4 = 17.125.
/// assert_eq!(gradient.update(Sample::success(ms(40), 14, 14)), 17);
/// // Too few requests in flight (3 < 17.125 / 2): the limit stays.
/// assert_eq!(gradient.update(Sample::success(ms(400), 3, 17)), 17);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Gradient2 {
    smoothing: f64,
    tolerance: f64,
    queue_size: usize,
    long_window: usize,
    /// `L`, once a sample came.
    estimate: Option<f64>,
    /// The long-term latency, in nanoseconds.
    long: f64,
    /// Samples in `long`, up to [`WARMUP`].
    samples: usize,
}

impl Gradient2 {
    /// A Gradient2 with a smoothing of 0.2, a tolerance of 1.5, a queue
    /// size of 4 and a long window of 600 samples.
    pub const fn new() -> Self {
        Gradient2 {
            smoothing: 0.2,
            tolerance: 1.5,
            queue_size: 4,
            long_window: 600,
            estimate: None,
            long: 0.0,
            samples: 0,
        }
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
            "Gradient2's smoothing must be more than 0 and at most 1"
        );
        self.smoothing = smoothing;
        self
    }

    /// Sets how much slower than the long-term latency calls may get before
    /// the limit shrinks.
    ///
    /// # Panics
    ///
    /// If `tolerance` is less than 1 (or not a number).
    pub const fn with_tolerance(mut self, tolerance: f64) -> Self {
        assert!(tolerance >= 1.0, "Gradient2's tolerance must be at least 1");
        self.tolerance = tolerance;
        self
    }

    /// Sets the number of requests added to `L × gradient`: how much the
    /// limit may grow while the latency holds.
    pub const fn with_queue_size(mut self, queue_size: usize) -> Self {
        self.queue_size = queue_size;
        self
    }

    /// Sets the number of samples the long-term exponential average spans
    /// (its factor is `2 / (long_window + 1)`).
    ///
    /// # Panics
    ///
    /// If `long_window` is 0.
    pub const fn with_long_window(mut self, long_window: usize) -> Self {
        assert!(
            long_window > 0,
            "Gradient2's long window must be at least 1"
        );
        self.long_window = long_window;
        self
    }

    /// Adds `short` (nanoseconds) to the long-term latency, and returns it.
    fn average(&mut self, short: f64) -> f64 {
        if self.samples < WARMUP {
            self.samples += 1;
            self.long += (short - self.long) / self.samples as f64;
        } else {
            let factor = 2.0 / (self.long_window as f64 + 1.0);
            self.long = self.long * (1.0 - factor) + short * factor;
        }
        self.long
    }
}

impl Default for Gradient2 {
    fn default() -> Self {
        Gradient2::new()
    }
}

impl Algorithm for Gradient2 {
    fn update(&mut self, sample: Sample) -> usize {
        let limit = anchor(&mut self.estimate, sample.limit());
        let short = nanos(sample.latency());
        let long = self.average(short);
        if long > 2.0 * short {
            self.long *= 0.95;
        }

        if (sample.in_flight() as f64) < limit / 2.0 {
            return whole(limit);
        }

        let gradient = if short > 0.0 {
            (self.tolerance * long / short).clamp(0.5, 1.0)
        } else {
            1.0
        };
        let target = limit * gradient + self.queue_size as f64;
        let next = (1.0 - self.smoothing) * limit + self.smoothing * target;
        self.estimate = Some(next);
        whole(next)
    }
}

/// `latency` in nanoseconds.
fn nanos(latency: Duration) -> f64 {
    latency.as_nanos() as f64
}
