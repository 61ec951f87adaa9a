//! Property tests of `Aimd`, `Vegas` and `Gradient2` alone: over any
//! configuration and any run of samples (latencies from zero to
//! `Duration::MAX`, any requests in flight, failures), the limit each
//! returns moves within the step its documentation allows, no update
//! panics, and no estimate becomes NaN or infinite.
//!
//! The samples carry the limit a limiter would put in force: the last one
//! returned, brought within a minimum and a maximum, and now and then one
//! from nowhere (a limiter may clamp, or a caller feed its own samples).

use std::fmt::Debug;
use std::time::Duration;

use donjon::limit::adaptive::{Aimd, Algorithm, Gradient2, Sample, Vegas};
use proptest::collection::vec;
use proptest::prelude::*;

use crate::support::proptest_config;

/// Any latency: zero, a nanosecond, a usual one, or one too long to
/// happen.
fn a_latency() -> impl Strategy<Value = Duration> {
    prop_oneof![
        1 => Just(Duration::ZERO),
        1 => Just(Duration::from_nanos(1)),
        6 => (0u64..2_000_000_000).prop_map(Duration::from_nanos),
        1 => (any::<u64>(), 0u32..1_000_000_000).prop_map(|(secs, nanos)| Duration::new(secs, nanos)),
        1 => Just(Duration::MAX),
    ]
}

/// Requests in flight: a usual number, or any.
fn an_in_flight() -> impl Strategy<Value = usize> {
    prop_oneof![8 => 0usize..400, 1 => any::<usize>(), 1 => Just(usize::MAX)]
}

/// What one finished call measured, and the limit in force, if it is not
/// the one the limiter keeps (`None`).
#[derive(Clone, Copy, Debug)]
struct Measured {
    latency: Duration,
    in_flight: usize,
    failure: bool,
    limit: Option<usize>,
}

/// Runs of samples, with limits from nowhere drawn by `limits`.
fn samples(limits: impl Strategy<Value = usize>) -> impl Strategy<Value = Vec<Measured>> {
    let measured = (
        a_latency(),
        an_in_flight(),
        prop::bool::weighted(0.2),
        prop::option::weighted(0.05, limits),
    )
        .prop_map(|(latency, in_flight, failure, limit)| Measured {
            latency,
            in_flight,
            failure,
            limit,
        });
    vec(measured, 1..150)
}

/// A limiter's minimum and maximum, up to `top` at most: `min ≥ 1` (as the
/// limiter requires), often low enough for Vegas to probe within a run.
fn bounds(top: usize) -> impl Strategy<Value = (usize, usize)> {
    prop_oneof![Just(10), Just(200), Just(top)]
        .prop_flat_map(|top| (1..top).prop_flat_map(move |min| (Just(min), min..=top)))
}

impl Measured {
    fn sample(&self, limit: usize) -> Sample {
        if self.failure {
            Sample::failure(self.latency, self.in_flight, limit)
        } else {
            Sample::success(self.latency, self.in_flight, limit)
        }
    }
}

/// Feeds `run` to `algorithm` as a limiter between `min` and `max` would,
/// calling `check(sample, new limit)` on each update. Returns the error
/// `check` found, if any.
fn drive<A: Algorithm + Debug>(
    mut algorithm: A,
    (min, max): (usize, usize),
    run: &[Measured],
    mut check: impl FnMut(&Sample, usize) -> Result<(), TestCaseError>,
) -> Result<(), TestCaseError> {
    let mut limit = min.max(max / 2);
    for measured in run {
        let sample = measured.sample(measured.limit.unwrap_or(limit));
        let next = algorithm.update(sample);
        check(&sample, next)?;
        no_nan(&algorithm)?;
        limit = next.clamp(min, max);
    }
    Ok(())
}

/// Checks that no float `algorithm` holds is NaN or infinite, as its
/// `Debug` shows them (its configuration aside: a tolerance may be
/// infinite).
fn no_nan<A: Debug>(algorithm: &A) -> Result<(), TestCaseError> {
    let state = format!("{algorithm:?}");
    for bad in [
        "NaN",
        "estimate: Some(inf)",
        "estimate: Some(-inf)",
        "long: inf",
    ] {
        prop_assert!(!state.contains(bad), "{} in {}", bad, state);
    }
    Ok(())
}

/// `max(1, floor(log10(limit)))`, Vegas's `log`.
fn log10(limit: usize) -> usize {
    limit.checked_ilog10().unwrap_or(0).max(1) as usize
}

fn a_ratio() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::MIN_POSITIVE),
        Just(1.0 - f64::EPSILON),
        Just(0.5),
        Just(0.9),
        (1e-9..1.0f64),
    ]
}

fn a_smoothing() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(1.0),
        Just(f64::MIN_POSITIVE),
        Just(0.2),
        (1e-9..=1.0f64)
    ]
}

/// A count to configure: small, or (if `huge`) now and then any.
fn a_count(huge: bool) -> BoxedStrategy<usize> {
    if huge {
        prop_oneof![8 => 0usize..20, 1 => any::<usize>(), 1 => Just(usize::MAX)].boxed()
    } else {
        (0usize..20).boxed()
    }
}

fn an_aimd() -> impl Strategy<Value = Aimd> {
    (a_ratio(), a_latency())
        .prop_map(|(ratio, timeout)| Aimd::new().with_backoff_ratio(ratio).with_timeout(timeout))
}

/// A Vegas's configuration.
#[derive(Clone, Copy, Debug)]
struct VegasConfig {
    alpha: usize,
    beta: usize,
    threshold: usize,
    smoothing: f64,
    probe_multiplier: usize,
}

impl VegasConfig {
    fn build(self) -> Vegas {
        Vegas::new()
            .with_alpha(self.alpha)
            .with_beta(self.beta)
            .with_threshold(self.threshold)
            .with_smoothing(self.smoothing)
            .with_probe_multiplier(self.probe_multiplier)
    }
}

/// Counts in the configuration are small unless `huge`.
fn a_vegas(huge: bool) -> impl Strategy<Value = VegasConfig> {
    (
        a_count(huge),
        a_count(huge),
        a_count(huge),
        a_smoothing(),
        prop_oneof![1usize..100, Just(usize::MAX)],
    )
        .prop_map(
            |(alpha, beta, threshold, smoothing, probe_multiplier)| VegasConfig {
                alpha,
                beta,
                threshold,
                smoothing,
                probe_multiplier,
            },
        )
}

/// A Gradient2's configuration.
#[derive(Clone, Copy, Debug)]
struct Gradient2Config {
    smoothing: f64,
    tolerance: f64,
    queue_size: usize,
    long_window: usize,
}

impl Gradient2Config {
    fn build(self) -> Gradient2 {
        Gradient2::new()
            .with_smoothing(self.smoothing)
            .with_tolerance(self.tolerance)
            .with_queue_size(self.queue_size)
            .with_long_window(self.long_window)
    }
}

/// Counts in the configuration are small unless `huge`.
fn a_gradient2(huge: bool) -> impl Strategy<Value = Gradient2Config> {
    (
        a_smoothing(),
        prop_oneof![
            Just(1.0),
            Just(1.5),
            (1.0..100.0f64),
            Just(f64::MAX),
            Just(f64::INFINITY)
        ],
        a_count(huge),
        prop_oneof![1usize..1_000, Just(usize::MAX)],
    )
        .prop_map(
            |(smoothing, tolerance, queue_size, long_window)| Gradient2Config {
                smoothing,
                tolerance,
                queue_size,
                long_window,
            },
        )
}

proptest! {
    #![proptest_config(proptest_config(128))]

    #[test]
    fn aimd_adds_one_after_a_success_and_multiplies_by_its_ratio_after_a_failure_or_timeout(
        ratio in a_ratio(),
        timeout in a_latency(),
        bounds in bounds(100_000),
        run in samples(prop_oneof![0usize..1_000_000, any::<usize>()]),
    ) {
        let aimd = Aimd::new().with_backoff_ratio(ratio).with_timeout(timeout);
        drive(aimd, bounds, &run, |sample, next| {
            let limit = sample.limit();
            if sample.is_failure() || sample.latency() > timeout {
                // floor(L × ratio), forgiving 10⁻⁹: never above L, and never
                // a whole request below the product.
                prop_assert!(next <= limit, "{:?} gave {}", sample, next);
                prop_assert!(next as f64 >= limit as f64 * ratio - 1.0, "{:?} gave {}", sample, next);
            } else {
                prop_assert_eq!(next, limit.saturating_add(1), "{:?}", sample);
            }
            Ok(())
        })?;
    }

    #[test]
    fn vegas_moves_by_at_most_beta_times_log_up_and_log_down_and_a_failure_never_raises_it(
        vegas in a_vegas(false),
        bounds in bounds(100_000),
        run in samples(0usize..1_000_000),
    ) {
        drive(vegas.build(), bounds, &run, |sample, next| {
            let limit = sample.limit();
            let log = log10(limit);
            let beta = vegas.beta;
            // L is within [limit, limit + 1): up by at most beta × log or
            // log (and the fraction), down by at most log, never below 1
            // unless the limit was.
            prop_assert!(
                next <= limit.saturating_add(beta.max(1).saturating_mul(log)).saturating_add(1),
                "{:?} gave {}", sample, next
            );
            prop_assert!(
                next >= limit.min(limit.saturating_sub(log).max(1)),
                "{:?} gave {}", sample, next
            );
            if sample.is_failure() {
                prop_assert!(next <= limit, "the failure {:?} gave {}", sample, next);
            }
            Ok(())
        })?;
    }

    #[test]
    fn gradient2_keeps_the_limit_with_few_in_flight_and_otherwise_moves_it_between_half_and_queue_size_up(
        gradient in a_gradient2(false),
        bounds in bounds(100_000),
        run in samples(0usize..1_000_000),
    ) {
        let (smoothing, queue_size) = (gradient.smoothing, gradient.queue_size as f64);
        drive(gradient.build(), bounds, &run, |sample, next| {
            let limit = sample.limit() as f64;
            let in_flight = sample.in_flight() as f64;
            // L is within [limit, limit + 1).
            let lowest = limit * (1.0 - smoothing / 2.0) + smoothing * queue_size;
            let highest = limit + 1.0 + smoothing * queue_size;
            if in_flight < limit / 2.0 {
                prop_assert_eq!(next, sample.limit(), "{:?}", sample);
            } else if in_flight >= (limit + 1.0) / 2.0 {
                prop_assert!(
                    next as f64 >= lowest.min(limit) - 1.0 && next as f64 <= highest,
                    "{:?} gave {}, outside [{}, {}]", sample, next, lowest, highest
                );
            } else {
                prop_assert!(
                    next == sample.limit() || (next as f64 >= lowest.min(limit) - 1.0 && next as f64 <= highest),
                    "{:?} gave {}", sample, next
                );
            }
            Ok(())
        })?;
    }

    #[test]
    fn no_algorithm_panics_or_holds_nan_for_any_limit_latency_or_configuration(
        aimd in an_aimd(),
        vegas in a_vegas(true),
        gradient in a_gradient2(true),
        bounds in prop_oneof![bounds(100_000), Just((1, usize::MAX)), Just((usize::MAX, usize::MAX))],
        run in samples(prop_oneof![any::<usize>(), Just(0usize), Just(usize::MAX)]),
    ) {
        // `drive` checks for NaN after every update; the limits stay within
        // what the algorithms' targets allow, 0 included.
        let vegas_at_least_one = |sample: &Sample, next: usize| {
            // Its target is at least 1.
            prop_assert!(sample.limit() == 0 || next >= 1, "{:?} gave {}", sample, next);
            Ok(())
        };
        let gradient_at_least_half = |sample: &Sample, next: usize| {
            // Its gradient is at least one half.
            let half = sample.limit() as f64 / 2.0;
            prop_assert!(next as f64 >= half * (1.0 - 1e-12) - 1.0, "{:?} gave {}", sample, next);
            Ok(())
        };
        drive(aimd, bounds, &run, |_, _| Ok(()))?;
        drive(vegas.build(), bounds, &run, vegas_at_least_one)?;
        drive(gradient.build(), bounds, &run, gradient_at_least_half)?;
    }
}
