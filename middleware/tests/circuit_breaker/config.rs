//! `Config`: invalid settings panic with a message naming the bad value.

use std::time::Duration;

use donjon::circuit_breaker::{Config, OpenBehavior};

#[test]
fn the_default_is_new() {
    assert_eq!(Config::default(), Config::new());
    assert_eq!(OpenBehavior::default(), OpenBehavior::FailFast);
}

#[test]
fn thresholds_of_exactly_one_are_valid() {
    let config = Config::new()
        .with_failure_rate_threshold(1.0)
        .with_slow_calls(Duration::from_nanos(1), 1.0)
        .with_open_backoff(1.0, Duration::from_nanos(1))
        .with_time_window(Duration::from_nanos(3), 3);
    assert_ne!(config, Config::new());
}

#[test]
#[should_panic(expected = "the failure rate threshold must be a fraction in (0, 1], got 0")]
fn a_failure_rate_threshold_of_zero_panics() {
    let _ = Config::new().with_failure_rate_threshold(0.0);
}

#[test]
#[should_panic(expected = "the failure rate threshold must be a fraction in (0, 1], got 1.5")]
fn a_failure_rate_threshold_above_one_panics() {
    let _ = Config::new().with_failure_rate_threshold(1.5);
}

#[test]
#[should_panic(expected = "the failure rate threshold must be a fraction in (0, 1], got NaN")]
fn a_failure_rate_threshold_that_is_not_a_number_panics() {
    let _ = Config::new().with_failure_rate_threshold(f64::NAN);
}

#[test]
#[should_panic(expected = "the slow-call rate threshold must be a fraction in (0, 1], got -0.5")]
fn a_negative_slow_call_rate_threshold_panics() {
    let _ = Config::new().with_slow_calls(Duration::from_secs(1), -0.5);
}

#[test]
#[should_panic(expected = "the slow-call duration must be more than zero, got 0ns")]
fn a_slow_call_duration_of_zero_panics() {
    let _ = Config::new().with_slow_calls(Duration::ZERO, 0.5);
}

#[test]
#[should_panic(expected = "the count window's size must be more than zero, got 0")]
fn an_empty_count_window_panics() {
    let _ = Config::new().with_count_window(0);
}

#[test]
#[should_panic(expected = "the time window's length must be more than zero, got 0ns")]
fn a_time_window_of_no_length_panics() {
    let _ = Config::new().with_time_window(Duration::ZERO, 10);
}

#[test]
#[should_panic(expected = "the time window's number of buckets must be more than zero, got 0")]
fn a_time_window_without_buckets_panics() {
    let _ = Config::new().with_time_window(Duration::from_secs(10), 0);
}

#[test]
#[should_panic(
    expected = "the time window's buckets must last at least a nanosecond, got 10 buckets over 9ns"
)]
fn a_time_window_with_buckets_shorter_than_a_nanosecond_panics() {
    let _ = Config::new().with_time_window(Duration::from_nanos(9), 10);
}

#[test]
#[should_panic(expected = "the minimum number of calls must be more than zero, got 0")]
fn a_minimum_of_zero_calls_panics() {
    let _ = Config::new().with_minimum_calls(0);
}

#[test]
#[should_panic(expected = "the number of consecutive failures must be more than zero, got 0")]
fn zero_consecutive_failures_panics() {
    let _ = Config::new().with_consecutive_failures(0);
}

#[test]
#[should_panic(expected = "the open duration must be more than zero, got 0ns")]
fn an_open_duration_of_zero_panics() {
    let _ = Config::new().with_open_duration(Duration::ZERO);
}

#[test]
#[should_panic(
    expected = "the open duration's growth factor must be a finite number of at least 1, got 0.5"
)]
fn a_shrinking_open_duration_panics() {
    let _ = Config::new().with_open_backoff(0.5, Duration::from_secs(60));
}

#[test]
#[should_panic(
    expected = "the open duration's growth factor must be a finite number of at least 1, got inf"
)]
fn an_infinite_growth_factor_panics() {
    let _ = Config::new().with_open_backoff(f64::INFINITY, Duration::from_secs(60));
}

#[test]
#[should_panic(expected = "the open duration's maximum must be more than zero, got 0ns")]
fn a_maximum_open_duration_of_zero_panics() {
    let _ = Config::new().with_open_backoff(2.0, Duration::ZERO);
}

#[test]
#[should_panic(expected = "the number of half-open calls must be more than zero, got 0")]
fn zero_half_open_calls_panics() {
    let _ = Config::new().with_half_open_calls(0);
}
