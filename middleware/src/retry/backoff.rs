//! Delays between attempts that grow with each retry.
//!
//! A [`MakeBackoff`] makes a fresh [`Backoff`] per request; each call to
//! [`Backoff::next_backoff`] returns the delay before the next attempt.
//! [`ExponentialBackoff`] doubles a base delay on each attempt, between a
//! minimum and a maximum, and adds random jitter so that clients that failed
//! together do not retry together. All delays are tokio timers, so tests can
//! drive them with a paused clock.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::retry::backoff::{Backoff, ExponentialBackoffMaker, MakeBackoff};
//! use donjon::util::rng::HasherRng;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let mut maker = ExponentialBackoffMaker::new(
//!     Duration::from_millis(100),
//!     Duration::from_secs(10),
//!     0.0, // no jitter, for a predictable example
//!     HasherRng::default(),
//! )
//! .expect("a valid configuration");
//!
//! let mut backoff = maker.make_backoff();
//! let start = tokio::time::Instant::now();
//! backoff.next_backoff().await; // 100 ms
//! backoff.next_backoff().await; // 200 ms
//! assert_eq!(start.elapsed(), Duration::from_millis(300));
//! # }
//! ```

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Sleep;

use crate::util::rng::{HasherRng, Rng};

/// Makes a [`Backoff`] for each request.
pub trait MakeBackoff {
    /// The backoff made.
    type Backoff: Backoff;

    /// Makes a backoff, starting from its first delay.
    fn make_backoff(&mut self) -> Self::Backoff;
}

/// A sequence of delays between attempts.
pub trait Backoff {
    /// The delay: a future completing when it is over.
    type Future: Future<Output = ()>;

    /// Returns the delay before the next attempt, and moves on to the one
    /// after.
    fn next_backoff(&mut self) -> Self::Future;
}

/// Makes [`ExponentialBackoff`]s with one configuration.
///
/// The default has a minimum of 50 ms, no practical maximum and a jitter of
/// 0.99.
#[derive(Debug, Clone)]
pub struct ExponentialBackoffMaker<R = HasherRng> {
    min: Duration,
    max: Duration,
    jitter: f64,
    rng: R,
}

/// Delays that double from a minimum to a maximum, with random jitter.
///
/// The `n`th delay (from 0) is `base = min(min × 2ⁿ, max)` plus a jitter of
/// `base × jitter × r`, with `r` uniform in `[0, 1)`, capped so that the
/// delay never exceeds `max`. So every delay is within `[min, max]`, and
/// with a jitter of 0 the delays are exactly `min`, `2 × min`, `4 × min`...
///
/// Made by an [`ExponentialBackoffMaker`].
#[derive(Debug, Clone)]
pub struct ExponentialBackoff<R = HasherRng> {
    min: Duration,
    max: Duration,
    jitter: f64,
    rng: R,
    iterations: u32,
}

impl<R: Rng> ExponentialBackoffMaker<R> {
    /// Creates a maker of backoffs from `min` to `max`, with a `jitter`
    /// factor (0 for none, 1 to add up to one more base delay; at most
    /// 100), drawing random numbers from `rng`.
    ///
    /// # Errors
    ///
    /// [`InvalidBackoff`] when `min > max`, `max` is zero, or `jitter` is
    /// negative, above 100 or NaN.
    pub fn new(min: Duration, max: Duration, jitter: f64, rng: R) -> Result<Self, InvalidBackoff> {
        if min > max {
            return Err(InvalidBackoff("maximum must not be less than minimum"));
        }
        if max.is_zero() {
            return Err(InvalidBackoff("maximum must be non-zero"));
        }
        if jitter < 0.0 {
            return Err(InvalidBackoff("jitter must not be negative"));
        }
        if jitter > 100.0 {
            return Err(InvalidBackoff("jitter must not be greater than 100"));
        }
        if jitter.is_nan() {
            return Err(InvalidBackoff("jitter must not be NaN"));
        }
        Ok(ExponentialBackoffMaker {
            min,
            max,
            jitter,
            rng,
        })
    }
}

impl<R: Rng + Clone> MakeBackoff for ExponentialBackoffMaker<R> {
    type Backoff = ExponentialBackoff<R>;

    fn make_backoff(&mut self) -> Self::Backoff {
        ExponentialBackoff {
            min: self.min,
            max: self.max,
            jitter: self.jitter,
            rng: self.rng.clone(),
            iterations: 0,
        }
    }
}

impl Default for ExponentialBackoffMaker {
    fn default() -> Self {
        ExponentialBackoffMaker::new(
            Duration::from_millis(50),
            Duration::from_millis(u64::MAX),
            0.99,
            HasherRng::default(),
        )
        .expect("the default configuration is valid")
    }
}

impl<R: Rng> ExponentialBackoff<R> {
    /// The delay before jitter: `min × 2^iterations`, at most `max`.
    fn base(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.iterations);
        self.min
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The random part added to `base`, never taking the delay past `max`.
    fn jitter(&mut self, base: Duration) -> Duration {
        if self.jitter == 0.0 {
            return Duration::ZERO;
        }
        let factor = self.rng.next_f64() * self.jitter;
        // Float to integer casts saturate.
        let secs = (base.as_secs() as f64 * factor) as u64;
        let nanos = (f64::from(base.subsec_nanos()) * factor) as u64;
        let jitter = Duration::from_secs(secs)
            .checked_add(Duration::from_nanos(nanos))
            .unwrap_or(Duration::MAX);
        jitter.min(self.max.saturating_sub(base))
    }

    fn next_delay(&mut self) -> Duration {
        let base = self.base();
        let delay = base + self.jitter(base);
        self.iterations = self.iterations.saturating_add(1);
        delay
    }
}

impl<R: Rng> Backoff for ExponentialBackoff<R> {
    type Future = Sleep;

    fn next_backoff(&mut self) -> Sleep {
        tokio::time::sleep(self.next_delay())
    }
}

/// The error of an invalid [`ExponentialBackoffMaker`] configuration.
#[derive(Debug)]
pub struct InvalidBackoff(&'static str);

impl fmt::Display for InvalidBackoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid backoff: {}", self.0)
    }
}

impl std::error::Error for InvalidBackoff {}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(min: u64, max: u64, jitter: f64) -> ExponentialBackoff {
        ExponentialBackoffMaker::new(
            Duration::from_millis(min),
            Duration::from_millis(max),
            jitter,
            HasherRng::default(),
        )
        .expect("valid configuration")
        .make_backoff()
    }

    #[test]
    fn first_base_delay_is_the_minimum() {
        assert_eq!(backoff(50, 1_000, 0.5).base(), Duration::from_millis(50));
    }

    #[test]
    fn base_doubles_up_to_the_maximum_for_any_iteration_count() {
        let mut b = backoff(50, 1_000, 0.0);
        let expected = [50, 100, 200, 400, 800, 1_000, 1_000];
        for millis in expected {
            assert_eq!(b.next_delay(), Duration::from_millis(millis));
        }
        for iterations in [31, 32, 33, 1_000, u32::MAX] {
            b.iterations = iterations;
            assert_eq!(
                b.base(),
                Duration::from_millis(1_000),
                "at {iterations} iterations"
            );
        }
    }

    #[test]
    fn delays_stay_within_min_and_max_with_jitter() {
        for jitter in [0.5, 1.0, 3.0, 100.0] {
            let mut b = backoff(10, 300, jitter);
            for _ in 0..100 {
                let delay = b.next_delay();
                assert!(
                    (Duration::from_millis(10)..=Duration::from_millis(300)).contains(&delay),
                    "{delay:?} outside [10 ms, 300 ms] with jitter {jitter}"
                );
            }
        }
    }

    #[test]
    fn jitter_is_zero_when_jitter_is_zero_or_there_is_no_room() {
        let mut none = backoff(10, 300, 0.0);
        let mut no_room = backoff(300, 300, 1.0);
        let mut zero_min = backoff(0, 300, 1.0);
        for _ in 0..50 {
            let base = none.base();
            assert_eq!(none.jitter(base), Duration::ZERO);
            assert_eq!(no_room.jitter(no_room.base()), Duration::ZERO);
            assert_eq!(zero_min.jitter(zero_min.base()), Duration::ZERO);
        }
    }

    #[test]
    fn jitter_is_positive_otherwise() {
        let mut b = backoff(100, 10_000, 1.0);
        let total: Duration = (0..50).map(|_| b.jitter(Duration::from_millis(100))).sum();
        assert!(total > Duration::ZERO);
    }

    #[test]
    fn invalid_configurations_are_rejected_with_their_reason() {
        let make = |min: u64, max: u64, jitter: f64| {
            ExponentialBackoffMaker::new(
                Duration::from_millis(min),
                Duration::from_millis(max),
                jitter,
                HasherRng::default(),
            )
            .map(drop)
            .map_err(|error| error.to_string())
        };
        let cases = [
            ((20, 10, 0.5), "maximum must not be less than minimum"),
            ((0, 0, 0.5), "maximum must be non-zero"),
            ((1, 10, -0.1), "jitter must not be negative"),
            ((1, 10, f64::NEG_INFINITY), "jitter must not be negative"),
            ((1, 10, 100.5), "jitter must not be greater than 100"),
            (
                (1, 10, f64::INFINITY),
                "jitter must not be greater than 100",
            ),
            ((1, 10, f64::NAN), "jitter must not be NaN"),
        ];
        for ((min, max, jitter), reason) in cases {
            assert_eq!(
                make(min, max, jitter),
                Err(format!("invalid backoff: {reason}")),
                "min {min}, max {max}, jitter {jitter}"
            );
        }
        assert_eq!(make(10, 10, 100.0), Ok(()));
    }
}
