//! [`Algorithm`]: what moves the limit, and the [`Sample`] it learns from.

use std::time::Duration;

/// Decides the concurrency limit from what finished calls measured.
///
/// An [`AdaptiveConcurrencyLimit`](super::AdaptiveConcurrencyLimit) calls
/// [`update`](Algorithm::update) once for each call that finished as a
/// success or a failure, in the order the calls finished, and makes the
/// limit the value it returns, brought within the limiter's minimum and
/// maximum. Calls classified as
/// [`Ignored`](crate::classify::Outcome::Ignored), and response futures
/// dropped before they finished, are not reported.
///
/// `update` runs under a lock shared by every clone of the service, on the
/// task that completes the call: keep it short, and do not block in it.
///
/// The limit the algorithm returned may have been raised to the minimum or
/// lowered to the maximum: [`Sample::limit`] is always the limit in force.
/// An algorithm that keeps a finer estimate than a whole number (a
/// fractional limit, say) should start over from [`Sample::limit`] when the
/// two disagree, as [`Vegas`](super::Vegas) and
/// [`Gradient2`](super::Gradient2) do.
///
/// # Examples
///
/// A limit that halves on a failure and grows by two on a success:
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::adaptive::{Algorithm, Sample};
///
/// #[derive(Debug, Clone)]
/// struct Doubling;
///
/// impl Algorithm for Doubling {
///     fn update(&mut self, sample: Sample) -> usize {
///         if sample.is_failure() {
///             sample.limit() / 2
///         } else {
///             sample.limit() + 2
///         }
///     }
/// }
///
/// let latency = Duration::from_millis(10);
/// assert_eq!(Doubling.update(Sample::success(latency, 3, 10)), 12);
/// assert_eq!(Doubling.update(Sample::failure(latency, 3, 10)), 5);
/// ```
pub trait Algorithm {
    /// Returns the new limit, given what one finished call measured.
    ///
    /// The limiter brings the value within its minimum and maximum (so any
    /// value is allowed, 0 included).
    fn update(&mut self, sample: Sample) -> usize;

    /// A copy of the algorithm, if it keeps no state between samples (its
    /// [`update`](Algorithm::update) depends on the sample alone and
    /// changes nothing); `None`, the default, otherwise.
    ///
    /// With a copy, the limiter works out each sample's limit without its
    /// lock, on a fresh copy, and takes the lock only when the limit
    /// changes: a call that leaves the limit where it is (a success at the
    /// maximum, say) then costs no lock. [`Aimd`](super::Aimd) returns one;
    /// [`Vegas`](super::Vegas) and [`Gradient2`](super::Gradient2), which
    /// keep estimates, do not. Returning a copy from an algorithm that keeps
    /// state loses the state: each sample would see the algorithm as it was
    /// copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use donjon::limit::adaptive::{Aimd, Algorithm};
    ///
    /// assert!(Aimd::new().stateless_copy().is_some());
    /// ```
    fn stateless_copy(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

impl<A: Algorithm + ?Sized> Algorithm for Box<A> {
    fn update(&mut self, sample: Sample) -> usize {
        (**self).update(sample)
    }
}

/// What one finished call measured: given to [`Algorithm::update`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::adaptive::Sample;
///
/// let sample = Sample::failure(Duration::from_millis(250), 7, 10);
/// assert_eq!(sample.latency(), Duration::from_millis(250));
/// assert_eq!(sample.in_flight(), 7);
/// assert_eq!(sample.limit(), 10);
/// assert!(sample.is_failure());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    latency: Duration,
    in_flight: usize,
    limit: usize,
    failure: bool,
}

impl Sample {
    /// A call that succeeded after `latency`, sent while `in_flight`
    /// requests (itself included) held the limiter, which is at `limit`
    /// now.
    pub const fn success(latency: Duration, in_flight: usize, limit: usize) -> Self {
        Sample {
            latency,
            in_flight,
            limit,
            failure: false,
        }
    }

    /// A call that failed (a drop, in the algorithms' terms) after
    /// `latency`, sent while `in_flight` requests (itself included) held
    /// the limiter, which is at `limit` now.
    pub const fn failure(latency: Duration, in_flight: usize, limit: usize) -> Self {
        Sample {
            latency,
            in_flight,
            limit,
            failure: true,
        }
    }

    /// The time from `call` to the response, on tokio's clock.
    pub const fn latency(&self) -> Duration {
        self.latency
    }

    /// How many requests held the limiter when this one was admitted,
    /// itself included.
    ///
    /// A slot counts from the moment `poll_ready` reserves it, so this
    /// includes reservations not yet used by `call`.
    pub const fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The limit in force when the sample is taken into account.
    pub const fn limit(&self) -> usize {
        self.limit
    }

    /// Whether the call was classified as a
    /// [`Failure`](crate::classify::Outcome::Failure).
    pub const fn is_failure(&self) -> bool {
        self.failure
    }
}

/// The fractional limit an algorithm works from: its own `estimate`, or
/// the limit in force when the estimate is unset or, rounded down, is not
/// that limit (the limiter clamped it); `estimate` is set to the result.
pub(super) fn anchor(estimate: &mut Option<f64>, limit: usize) -> f64 {
    match *estimate {
        Some(value) if whole(value) == limit => value,
        _ => {
            let value = limit as f64;
            *estimate = Some(value);
            value
        }
    }
}

/// `value` rounded down to a limit, forgiving a floating-point error of up
/// to 10⁻⁹ (23.999999999999996 gives 24); negative values give 0.
pub(super) fn whole(value: f64) -> usize {
    // `as` saturates: negative values and NaN give 0.
    (value + 1e-9).floor() as usize
}

/// `value` rounded up, forgiving a floating-point error of up to 10⁻⁹
/// (3.0000000000000004 gives 3).
pub(super) fn round_up(value: f64) -> f64 {
    (value - 1e-9).ceil()
}
