//! [`Config`]: when a circuit breaker trips, how long it stays open, and
//! what callers see meanwhile.

use std::time::Duration;

/// How a [`CircuitBreaker`](super::CircuitBreaker) behaves: its sliding
/// window, what trips it, how long it stays open, how many probes it lets
/// through when half-open, and what callers see while it is open.
///
/// Start from [`Config::new`] (or `Default`) and change what you need with
/// the `with_*` methods. The defaults:
///
/// | setting | default | method |
/// |---|---|---|
/// | sliding window | the last 100 calls | [`with_count_window`](Self::with_count_window), [`with_time_window`](Self::with_time_window) |
/// | minimum calls in the window before the rates count | 10 | [`with_minimum_calls`](Self::with_minimum_calls) |
/// | failure-rate threshold | 0.5 | [`with_failure_rate_threshold`](Self::with_failure_rate_threshold) |
/// | slow-call trigger | off | [`with_slow_calls`](Self::with_slow_calls) |
/// | consecutive-failures trigger | off | [`with_consecutive_failures`](Self::with_consecutive_failures) |
/// | time spent open | 30 s | [`with_open_duration`](Self::with_open_duration) |
/// | growth of the time spent open | none | [`with_open_backoff`](Self::with_open_backoff) |
/// | probes let through when half-open | 1 | [`with_half_open_calls`](Self::with_half_open_calls) |
/// | what callers see while open | fail fast | [`with_open_behavior`](Self::with_open_behavior) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::circuit_breaker::{Config, OpenBehavior};
///
/// // Over the calls of the last minute (in 6 buckets of 10 s), trip when
/// // at least 20 calls were made and half of them failed or took more than
/// // 2 s, or at once after 5 failures in a row. Stay open 10 s, then 20 s,
/// // 40 s... up to 5 minutes while probes keep failing. Let 3 probes
/// // through when half-open. While open, make `poll_ready` wait, so that a
/// // load balancer skips this endpoint.
/// let config = Config::new()
///     .with_time_window(Duration::from_secs(60), 6)
///     .with_minimum_calls(20)
///     .with_failure_rate_threshold(0.5)
///     .with_slow_calls(Duration::from_secs(2), 0.5)
///     .with_consecutive_failures(5)
///     .with_open_duration(Duration::from_secs(10))
///     .with_open_backoff(2.0, Duration::from_secs(300))
///     .with_half_open_calls(3)
///     .with_open_behavior(OpenBehavior::NotReady);
/// # drop(config);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    window: WindowKind,
    minimum_calls: u32,
    failure_rate_threshold: f64,
    slow_calls: Option<SlowCalls>,
    consecutive_failures: Option<u32>,
    open_duration: Duration,
    open_backoff: Option<Backoff>,
    half_open_calls: u32,
    open_behavior: OpenBehavior,
    /// The `name` label of its metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

/// What callers of an open [`CircuitBreaker`](super::CircuitBreaker) see.
///
/// Both apply while the breaker is open or forced open, and while it is
/// half-open with every probe in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpenBehavior {
    /// `poll_ready` is ready at once (without polling the inner service)
    /// and `call` fails at once with
    /// [`CircuitOpen`](super::error::CircuitOpen), which says when the next
    /// probe will be let through. The default.
    #[default]
    FailFast,
    /// `poll_ready` returns `Pending`, and wakes the caller when the
    /// breaker moves to half-open (a tokio timer set for the end of the
    /// open period) or is closed through its [`Handle`](super::Handle).
    /// This is what a load balancer wants: it skips endpoints that are not
    /// ready.
    NotReady,
}

/// The kind and size of the sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WindowKind {
    /// The last `size` calls.
    Count { size: u32 },
    /// The calls of the last `length`, in `buckets` buckets.
    Time { length: Duration, buckets: u32 },
}

/// The slow-call trigger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct SlowCalls {
    /// A call taking longer than this is slow.
    pub(super) slower_than: Duration,
    /// The slow-call rate that trips the breaker.
    pub(super) rate_threshold: f64,
}

/// A rate threshold in parts per billion: a fraction converted once, so
/// that the breaker compares the window's counts with it in integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Threshold {
    parts_per_billion: u64,
}

impl Threshold {
    const BILLION: u64 = 1_000_000_000;

    /// `fraction`, a number in (0, 1], to the nearest billionth (at least
    /// one: a threshold never reads as zero).
    pub(super) fn new(fraction: f64) -> Self {
        let parts = (fraction * Self::BILLION as f64).round() as u64;
        Threshold {
            parts_per_billion: parts.clamp(1, Self::BILLION),
        }
    }

    /// Whether `part` out of `calls` reaches the threshold: `part / calls
    /// >= threshold`, exactly. Never without calls.
    pub(super) fn is_reached(self, part: u64, calls: u64) -> bool {
        calls > 0
            && u128::from(part) * u128::from(Self::BILLION)
                >= u128::from(self.parts_per_billion) * u128::from(calls)
    }
}

/// The growth of the open period.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Backoff {
    factor: f64,
    max: Duration,
}

/// Panics unless `value` is a fraction in (0, 1].
fn check_fraction(value: f64, what: &str) {
    assert!(
        value > 0.0 && value <= 1.0,
        "circuit breaker: {what} must be a fraction in (0, 1], got {value}"
    );
}

/// Panics unless `value` is positive.
fn check_positive_duration(value: Duration, what: &str) {
    assert!(
        !value.is_zero(),
        "circuit breaker: {what} must be more than zero, got {value:?}"
    );
}

/// Panics unless `value` is positive.
fn check_positive_count(value: u32, what: &str) {
    assert!(
        value > 0,
        "circuit breaker: {what} must be more than zero, got {value}"
    );
}

impl Config {
    /// The default configuration (see the table on [`Config`]).
    pub const fn new() -> Self {
        Config {
            window: WindowKind::Count { size: 100 },
            minimum_calls: 10,
            failure_rate_threshold: 0.5,
            slow_calls: None,
            consecutive_failures: None,
            open_duration: Duration::from_secs(30),
            open_backoff: None,
            half_open_calls: 1,
            open_behavior: OpenBehavior::FailFast,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("circuit_breaker"),
        }
    }

    /// Names the breaker in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"circuit_breaker"` unless set, so that
    /// two breakers of one process should each have their own.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }

    /// The `name` label of the breaker's metrics.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads the rates over the last `size` calls.
    ///
    /// The window takes one byte per call, allocated when the breaker is
    /// built.
    ///
    /// # Panics
    ///
    /// If `size` is zero.
    pub fn with_count_window(mut self, size: u32) -> Self {
        check_positive_count(size, "the count window's size");
        self.window = WindowKind::Count { size };
        self
    }

    /// Reads the rates over the calls that finished in the last `length`,
    /// kept in `buckets` buckets of `length / buckets` each.
    ///
    /// A call leaves the window when its whole bucket does: between
    /// `length - length / buckets` and `length` after it finished. More
    /// buckets make that edge sharper, at the cost of 24 bytes each.
    ///
    /// # Panics
    ///
    /// If `length` or `buckets` is zero, or if `length` is shorter than
    /// `buckets` nanoseconds.
    pub fn with_time_window(mut self, length: Duration, buckets: u32) -> Self {
        check_positive_duration(length, "the time window's length");
        check_positive_count(buckets, "the time window's number of buckets");
        assert!(
            length.as_nanos() >= u128::from(buckets),
            "circuit breaker: the time window's buckets must last at least a nanosecond, got \
             {buckets} buckets over {length:?}"
        );
        self.window = WindowKind::Time { length, buckets };
        self
    }

    /// Makes the rates count only once the window holds at least `calls`
    /// calls. A count window smaller than `calls` uses its size instead.
    ///
    /// The consecutive-failures trigger does not depend on it.
    ///
    /// # Panics
    ///
    /// If `calls` is zero.
    pub fn with_minimum_calls(mut self, calls: u32) -> Self {
        check_positive_count(calls, "the minimum number of calls");
        self.minimum_calls = calls;
        self
    }

    /// Trips the breaker when the share of failed calls in the window
    /// reaches `threshold` (0.5: half of them).
    ///
    /// The threshold is read to the nearest billionth, and compared with the
    /// window's counts exactly: 0.1 trips at 1 failure in 10 calls, and not
    /// at 9 in 91.
    ///
    /// # Panics
    ///
    /// Unless `threshold` is a fraction in (0, 1].
    pub fn with_failure_rate_threshold(mut self, threshold: f64) -> Self {
        check_fraction(threshold, "the failure rate threshold");
        self.failure_rate_threshold = threshold;
        self
    }

    /// Counts a call that took longer than `slower_than` (from `call` to
    /// its response) as slow, and trips the breaker when the share of slow
    /// calls in the window reaches `rate_threshold`.
    ///
    /// A slow call is slow whether it succeeded or failed. With this
    /// trigger on, `call` and the end of each call read tokio's clock. The
    /// threshold is compared as the
    /// [failure-rate threshold](Self::with_failure_rate_threshold) is.
    ///
    /// # Panics
    ///
    /// If `slower_than` is zero, or unless `rate_threshold` is a fraction in
    /// (0, 1].
    pub fn with_slow_calls(mut self, slower_than: Duration, rate_threshold: f64) -> Self {
        check_positive_duration(slower_than, "the slow-call duration");
        check_fraction(rate_threshold, "the slow-call rate threshold");
        self.slow_calls = Some(SlowCalls {
            slower_than,
            rate_threshold,
        });
        self
    }

    /// Also trips the breaker after `failures` failed calls in a row,
    /// whatever the window holds. A success resets the count; an ignored
    /// call does not.
    ///
    /// # Panics
    ///
    /// If `failures` is zero.
    pub fn with_consecutive_failures(mut self, failures: u32) -> Self {
        check_positive_count(failures, "the number of consecutive failures");
        self.consecutive_failures = Some(failures);
        self
    }

    /// Keeps the breaker open for `duration` before it lets probes
    /// through.
    ///
    /// # Panics
    ///
    /// If `duration` is zero.
    pub fn with_open_duration(mut self, duration: Duration) -> Self {
        check_positive_duration(duration, "the open duration");
        self.open_duration = duration;
        self
    }

    /// Multiplies the time spent open by `factor` each time the breaker
    /// opens again from half-open (its probes failed), up to `max`; it goes
    /// back to the [open duration](Self::with_open_duration) once the
    /// breaker closes.
    ///
    /// With an open duration of 1 s, a factor of 2 and a maximum of 5 s,
    /// the breaker stays open 1 s, then 2 s, 4 s, 5 s, 5 s... A `max`
    /// shorter than the open duration means no growth.
    ///
    /// # Panics
    ///
    /// If `factor` is less than 1 or not finite, or if `max` is zero.
    pub fn with_open_backoff(mut self, factor: f64, max: Duration) -> Self {
        assert!(
            factor.is_finite() && factor >= 1.0,
            "circuit breaker: the open duration's growth factor must be a finite number of at \
             least 1, got {factor}"
        );
        check_positive_duration(max, "the open duration's maximum");
        self.open_backoff = Some(Backoff { factor, max });
        self
    }

    /// Lets `calls` probe requests through when half-open; once all of
    /// them have finished, the breaker closes, or opens again if their
    /// failure rate (or slow-call rate) reaches its threshold.
    ///
    /// # Panics
    ///
    /// If `calls` is zero.
    pub fn with_half_open_calls(mut self, calls: u32) -> Self {
        check_positive_count(calls, "the number of half-open calls");
        self.half_open_calls = calls;
        self
    }

    /// Chooses what callers see while the breaker is open.
    pub fn with_open_behavior(mut self, behavior: OpenBehavior) -> Self {
        self.open_behavior = behavior;
        self
    }

    pub(super) fn window(&self) -> WindowKind {
        self.window
    }

    /// The minimum number of calls, no more than a count window holds.
    pub(super) fn effective_minimum_calls(&self) -> u64 {
        match self.window {
            WindowKind::Count { size } => u64::from(self.minimum_calls.min(size)),
            WindowKind::Time { .. } => u64::from(self.minimum_calls),
        }
    }

    pub(super) fn failure_rate_threshold(&self) -> f64 {
        self.failure_rate_threshold
    }

    pub(super) fn slow_calls(&self) -> Option<SlowCalls> {
        self.slow_calls
    }

    pub(super) fn consecutive_failures(&self) -> Option<u32> {
        self.consecutive_failures
    }

    pub(super) fn half_open_calls(&self) -> u32 {
        self.half_open_calls
    }

    pub(super) fn open_behavior(&self) -> OpenBehavior {
        self.open_behavior
    }

    /// How long the breaker stays open after `reopenings` openings from
    /// half-open since it last closed.
    pub(super) fn open_duration(&self, reopenings: u32) -> Duration {
        let base = self.open_duration;
        let Some(Backoff { factor, max }) = self.open_backoff else {
            return base;
        };
        let exponent = i32::try_from(reopenings).unwrap_or(i32::MAX);
        let nanos = base.as_nanos() as f64 * factor.powi(exponent);
        let grown = if nanos >= max.as_nanos() as f64 {
            max
        } else {
            // Less than `max`, so it fits in a `Duration`; past `u64`
            // nanoseconds (584 years) it saturates, which is as good.
            Duration::from_nanos(nanos.round() as u64)
        };
        grown.max(base)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Config, Threshold};

    #[test]
    fn the_open_duration_grows_exponentially_up_to_its_maximum() {
        let config = Config::new()
            .with_open_duration(Duration::from_millis(100))
            .with_open_backoff(3.0, Duration::from_secs(2));
        let durations: Vec<_> = (0..5).map(|n| config.open_duration(n)).collect();
        assert_eq!(
            durations,
            [100, 300, 900, 2_000, 2_000].map(Duration::from_millis)
        );
        assert_eq!(config.open_duration(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn without_backoff_the_open_duration_stays_the_same() {
        let config = Config::new().with_open_duration(Duration::from_secs(7));
        assert_eq!(config.open_duration(0), Duration::from_secs(7));
        assert_eq!(config.open_duration(9), Duration::from_secs(7));
    }

    #[test]
    fn a_threshold_compares_counts_exactly_to_the_nearest_billionth() {
        let tenth = Threshold::new(0.1);
        assert!(tenth.is_reached(1, 10));
        assert!(!tenth.is_reached(9, 91));
        assert!(!tenth.is_reached(0, 0), "never without calls");
        let third = Threshold::new(1.0 / 3.0);
        assert!(third.is_reached(1, 3));
        assert!(!third.is_reached(333_333_332, 1_000_000_000));
        assert!(Threshold::new(1.0).is_reached(u64::MAX, u64::MAX));
        assert!(!Threshold::new(1.0).is_reached(u64::MAX - 1, u64::MAX));
        let tiny = Threshold::new(1e-12);
        assert!(!tiny.is_reached(0, 5), "a threshold is never zero");
        assert!(tiny.is_reached(1, 5));
    }

    /// The integer comparison decides as dividing in floating point did,
    /// for every window of up to 200 calls and thresholds of up to 3
    /// decimals.
    #[test]
    fn a_threshold_decides_as_the_floating_point_rate_did() {
        for thousandths in 1..=1_000 {
            let fraction = f64::from(thousandths) / 1_000.0;
            let threshold = Threshold::new(fraction);
            for calls in 1..=200u64 {
                for part in 0..=calls {
                    assert_eq!(
                        threshold.is_reached(part, calls),
                        part as f64 / calls as f64 >= fraction,
                        "{part} / {calls} against {fraction}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_count_window_smaller_than_minimum_calls_caps_it() {
        let config = Config::new().with_count_window(4).with_minimum_calls(10);
        assert_eq!(config.effective_minimum_calls(), 4);
        let config = config.with_time_window(Duration::from_secs(1), 1);
        assert_eq!(config.effective_minimum_calls(), 10);
    }
}
