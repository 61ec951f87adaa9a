//! `Quota` and its validation errors.

use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::gcra::error::InvalidQuota;

/// Which `is_*` of an `InvalidQuota` answer true, by name.
fn kinds(error: &InvalidQuota) -> Vec<&'static str> {
    [
        ("zero rate", error.is_zero_rate()),
        ("zero period", error.is_zero_period()),
        ("zero burst", error.is_zero_burst()),
        ("zero replicas", error.is_zero_replicas()),
        ("too large", error.is_too_large()),
    ]
    .into_iter()
    .filter_map(|(name, is)| is.then_some(name))
    .collect()
}

#[test]
fn a_quota_of_zero_requests_is_refused() {
    let error = Quota::new(0, Duration::from_secs(1)).unwrap_err();
    assert_eq!(kinds(&error), ["zero rate"]);
    assert_eq!(
        error.to_string(),
        "a quota must allow at least one request per period"
    );
    assert_eq!(Quota::per_second(0), Err(error));
}

#[test]
fn a_quota_of_a_zero_period_is_refused() {
    let error = Quota::new(10, Duration::ZERO).unwrap_err();
    assert_eq!(kinds(&error), ["zero period"]);
    assert_eq!(
        error.to_string(),
        "a quota's period must be longer than zero"
    );
}

#[test]
fn a_burst_of_zero_is_refused() {
    let error = Quota::per_second(10).unwrap().with_burst(0).unwrap_err();
    assert_eq!(kinds(&error), ["zero burst"]);
    assert_eq!(
        error.to_string(),
        "a quota's burst must be at least one request"
    );
}

#[test]
fn a_quota_divided_among_zero_replicas_is_refused() {
    let error = Quota::per_second(10).unwrap().divided_among(0).unwrap_err();
    assert_eq!(kinds(&error), ["zero replicas"]);
    assert_eq!(
        error.to_string(),
        "a quota cannot be divided among zero replicas"
    );
}

#[test]
fn a_quota_too_large_to_count_in_nanoseconds_is_refused() {
    let message = "a quota's period, or its burst times its emission interval, must be shorter \
                   than about 584 years";
    // The period itself.
    let error = Quota::new(1, Duration::MAX).unwrap_err();
    assert_eq!(kinds(&error), ["too large"]);
    assert_eq!(error.to_string(), message);
    // The burst times the interval.
    let error = Quota::per_second(1)
        .unwrap()
        .with_burst(u64::MAX)
        .unwrap_err();
    assert_eq!(kinds(&error), ["too large"]);
    assert_eq!(error.to_string(), message);
}

#[test]
fn the_largest_burst_is_the_one_whose_tolerance_plus_an_interval_fits() {
    // One per second: u64::MAX ns is 18_446_744_073.7 intervals.
    let second = Quota::per_second(1).unwrap();
    let largest = second.with_burst(18_446_744_073).unwrap();
    assert_eq!(largest.burst(), 18_446_744_073);
    let error = second.with_burst(18_446_744_074).unwrap_err();
    assert!(error.is_too_large());
}

#[test]
fn the_emission_interval_is_rounded_up_so_that_the_rate_is_never_exceeded() {
    let quota = Quota::new(3, Duration::from_secs(1)).unwrap();
    assert_eq!(quota.emission_interval(), Duration::from_nanos(333_333_334));
    assert_eq!(
        (quota.num(), quota.per(), quota.burst()),
        (3, Duration::from_secs(1), 3)
    );
    // Faster than a nanosecond apart: one nanosecond.
    let quota = Quota::new(10, Duration::from_nanos(3)).unwrap();
    assert_eq!(quota.emission_interval(), Duration::from_nanos(1));
}

#[test]
fn a_quota_divided_among_replicas_keeps_at_least_one_request_and_a_burst_of_one() {
    let fleet = Quota::per_second(10).unwrap().with_burst(7).unwrap();
    let third = fleet.divided_among(3).unwrap();
    assert_eq!(
        (third.num(), third.burst(), third.per()),
        (3, 2, Duration::from_secs(1))
    );
    let many = fleet.divided_among(100).unwrap();
    assert_eq!((many.num(), many.burst()), (1, 1));
    assert_eq!(fleet.divided_among(1), Ok(fleet));
}
