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

/// Nanoseconds in a second.
const NANOS_PER_SEC: u128 = 1_000_000_000;

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
        let min = self.min.as_nanos();
        if min == 0 {
            return Duration::ZERO;
        }
        // Exact until the doubling would overflow, by which point it is far
        // above any `max` (a `Duration` holds less than 2⁹⁵ ns).
        let doubled = if self.iterations < min.leading_zeros() {
            min << self.iterations
        } else {
            u128::MAX
        };
        let nanos = doubled.min(self.max.as_nanos());
        // At most `max`: the seconds fit.
        Duration::new(
            (nanos / NANOS_PER_SEC) as u64,
            (nanos % NANOS_PER_SEC) as u32,
        )
    }

    /// The random part added to `base`, never taking the delay past `max`.
    fn jitter(&mut self, base: Duration) -> Duration {
        if self.jitter == 0.0 {
            return Duration::ZERO;
        }
        let factor = self.rng.next_f64() * self.jitter;
        // `max` turns a NaN or negative product (from an `Rng` out of its
        // contract) into zero; a product too long for a `Duration` is
        // longer than the room left anyway.
        let secs = (base.as_secs_f64() * factor).max(0.0);
        let jitter = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
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

    // Properties, over every duration a `Duration` holds and every attempt
    // count.

    use proptest::prelude::{
        Just, ProptestConfig, Strategy, any, prop_assert, prop_assert_eq, prop_oneof, proptest,
    };

    /// Draws the same number every time.
    #[derive(Clone, Copy, Debug)]
    struct Fixed(u64);

    impl Rng for Fixed {
        fn next_u64(&mut self) -> u64 {
            self.0
        }
    }

    /// Any duration up to `Duration::MAX`, over every order of magnitude.
    fn any_duration() -> impl Strategy<Value = Duration> {
        prop_oneof![
            (any::<u64>(), 0u32..=64, 0u32..1_000_000_000).prop_map(|(secs, shift, nanos)| {
                Duration::new(secs.checked_shr(shift).unwrap_or(0), nanos)
            }),
            Just(Duration::ZERO),
            Just(Duration::from_nanos(1)),
            Just(Duration::MAX),
        ]
    }

    fn any_attempt() -> impl Strategy<Value = u32> {
        prop_oneof![0u32..200, any::<u32>(), Just(u32::MAX - 1), Just(u32::MAX)]
    }

    /// A valid backoff from the lower of `a` and `b` to the higher, after
    /// `iterations` delays.
    fn a_backoff(
        a: Duration,
        b: Duration,
        jitter: f64,
        draw: u64,
        iterations: u32,
    ) -> ExponentialBackoff<Fixed> {
        let max = a.max(b).max(Duration::from_nanos(1));
        let mut backoff = ExponentialBackoffMaker::new(a.min(b), max, jitter, Fixed(draw))
            .expect("a valid configuration")
            .make_backoff();
        backoff.iterations = iterations;
        backoff
    }

    /// `min × 2ⁿ`, at most `max`, in nanoseconds, by hand.
    fn expected_base(min: Duration, max: Duration, n: u32) -> u128 {
        let mut nanos = min.as_nanos();
        for _ in 0..n {
            if nanos == 0 || nanos >= max.as_nanos() {
                break;
            }
            nanos *= 2;
        }
        nanos.min(max.as_nanos())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn the_base_is_min_doubled_once_per_attempt_up_to_max_and_never_decreases(
            a in any_duration(),
            b in any_duration(),
            n in any_attempt(),
        ) {
            let mut backoff = a_backoff(a, b, 0.0, 0, n);
            let base = backoff.base();
            prop_assert_eq!(base.as_nanos(), expected_base(backoff.min, backoff.max, n));
            prop_assert!(backoff.min <= base && base <= backoff.max);
            backoff.iterations = n.saturating_add(1);
            prop_assert!(backoff.base() >= base, "the next base is not shorter");
        }

        #[test]
        fn every_delay_is_within_min_and_max_and_its_jitter_is_base_times_jitter_times_r(
            a in any_duration(),
            b in any_duration(),
            jitter in prop_oneof![Just(0.0), Just(1.0), Just(100.0), 0.0..=100.0],
            draw in any::<u64>(),
            n in any_attempt(),
        ) {
            let mut backoff = a_backoff(a, b, jitter, draw, n);
            let base = backoff.base();
            let added = backoff.jitter(base);
            let room = backoff.max - base;
            prop_assert!(added <= room, "{:?} of jitter leaves [min, max]", added);
            // base × jitter × r, in f64 seconds (within 10⁻¹², and a
            // nanosecond for the rounding to whole nanoseconds).
            let expected = (base.as_secs_f64() * jitter * Fixed(draw).next_f64())
                .min(room.as_secs_f64());
            prop_assert!(
                (added.as_secs_f64() - expected).abs() <= expected * 1e-12 + 1e-9,
                "{:?} of jitter on {:?}, not {} s", added, base, expected
            );

            let delay = backoff.next_delay();
            prop_assert!(
                backoff.min <= delay && delay <= backoff.max,
                "{:?} outside [{:?}, {:?}]", delay, backoff.min, backoff.max
            );
            prop_assert_eq!(backoff.iterations, n.saturating_add(1));
        }
    }
}
