//! `Vegas`: its update alone, and the limit's trajectory through the service.
//!
//! Below a limit of 100, `log` is 1: with the defaults, `alpha = 3`,
//! `beta = 6` and `threshold = 1` requests.

use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Algorithm, Sample, Vegas};

use super::{Background, ms, new_service, round_trip};

/// A `vegas` whose fastest latency is 10 ms, at a limit of `limit`.
fn primed(mut vegas: Vegas, limit: usize) -> Vegas {
    assert_eq!(
        vegas.update(Sample::success(ms(10), limit, limit)),
        limit,
        "the first sample only sets the fastest latency"
    );
    vegas
}

// The update alone.

#[test]
fn the_queue_decides_the_direction() {
    // (latency in ms, limit after), from 20 with 20 in flight and a fastest
    // latency of 10 ms; queue = ceil(20 × (rtt − 10) / rtt).
    let cases = [
        (10, 26), // queue 0 ≤ threshold 1: 20 + beta 6
        (11, 21), // queue ceil(20 / 11) = ceil(1.8) = 2 < alpha 3: 20 + 1
        (12, 20), // queue ceil(40 / 12) = ceil(3.3) = 4, between 3 and 6: stays
        (14, 20), // queue ceil(80 / 14) = ceil(5.7) = 6, not above 6: stays
        (15, 19), // queue ceil(100 / 15) = ceil(6.7) = 7 > beta 6: 20 − 1
        (20, 19), // queue ceil(200 / 20) = 10 > 6: 20 − 1
    ];
    for (latency, expected) in cases {
        let mut vegas = primed(Vegas::new(), 20);
        let limit = vegas.update(Sample::success(ms(latency), 20, 20));
        assert_eq!(limit, expected, "at {latency} ms");
    }
}

#[test]
fn a_queue_of_exactly_alpha_keeps_the_limit() {
    // queue = ceil(15 × 2.5 / 12.5) = 3: not below alpha 3, not above 6.
    let mut vegas = primed(Vegas::new(), 15);
    let rtt = std::time::Duration::from_micros(12_500);
    assert_eq!(vegas.update(Sample::success(rtt, 15, 15)), 15);
}

#[test]
fn a_failure_lowers_the_limit_by_log_however_few_are_in_flight() {
    let mut vegas = primed(Vegas::new(), 20);
    // 20 − 1
    assert_eq!(vegas.update(Sample::failure(ms(10), 1, 20)), 19);
}

#[test]
fn too_few_in_flight_keep_the_limit() {
    let mut vegas = primed(Vegas::new(), 20);
    // 9 × 2 = 18 < 20: stays.
    assert_eq!(vegas.update(Sample::success(ms(10), 9, 20)), 20);
    // 10 × 2 = 20, not below 20: queue 0, 20 + 6.
    assert_eq!(vegas.update(Sample::success(ms(10), 10, 20)), 26);
}

#[test]
fn a_faster_call_becomes_the_baseline() {
    let mut vegas = primed(Vegas::new(), 20);
    // 5 ms < 10 ms: the new fastest latency; the limit stays.
    assert_eq!(vegas.update(Sample::success(ms(5), 20, 20)), 20);
    // queue = ceil(20 × 5 / 10) = 10 > 6: 20 − 1. (Against 10 ms, it
    // would have been 0, and the limit 26.)
    assert_eq!(vegas.update(Sample::success(ms(10), 20, 20)), 19);
}

#[test]
fn log_grows_with_the_limit() {
    // At 150, log = floor(log10(150)) = 2: a queue of 0 adds beta × 2 = 12.
    let mut vegas = primed(Vegas::new(), 150);
    assert_eq!(vegas.update(Sample::success(ms(10), 150, 150)), 162);
    // A failure takes log = 2 away: 162 − 2.
    assert_eq!(vegas.update(Sample::failure(ms(10), 1, 162)), 160);

    // At 1000, log = 3; at 99, log = max(1, 1) = 1.
    let mut vegas = primed(Vegas::new(), 1000);
    assert_eq!(vegas.update(Sample::failure(ms(10), 1, 1000)), 997);
    let mut vegas = primed(Vegas::new(), 99);
    assert_eq!(vegas.update(Sample::failure(ms(10), 1, 99)), 98);
}

#[test]
fn alpha_beta_and_threshold_are_configurable() {
    let vegas = || Vegas::new().with_alpha(2).with_beta(4).with_threshold(0);
    // queue 0 ≤ threshold 0: 20 + beta 4.
    assert_eq!(
        primed(vegas(), 20).update(Sample::success(ms(10), 20, 20)),
        24
    );
    // queue ceil(20 / 11) = 2: not ≤ 0, not < alpha 2, not > beta 4: stays.
    assert_eq!(
        primed(vegas(), 20).update(Sample::success(ms(11), 20, 20)),
        20
    );
    // queue ceil(40 / 12) = 4: not > 4: stays.
    assert_eq!(
        primed(vegas(), 20).update(Sample::success(ms(12), 20, 20)),
        20
    );
    // queue ceil(60 / 13) = 5 > 4: 20 − 1.
    assert_eq!(
        primed(vegas(), 20).update(Sample::success(ms(13), 20, 20)),
        19
    );
}

#[test]
fn smoothing_blends_the_target_into_a_fractional_limit() {
    let mut vegas = primed(Vegas::new().with_smoothing(0.5), 20);
    // queue 0: T = 26; L = 0.5 × 20 + 0.5 × 26 = 23.
    assert_eq!(vegas.update(Sample::success(ms(10), 20, 20)), 23);
    // queue = ceil(23 × 10 / 20) = ceil(11.5) = 12 > 6: T = 22;
    // L = 0.5 × 23 + 0.5 × 22 = 22.5, which reads 22.
    assert_eq!(vegas.update(Sample::success(ms(20), 23, 23)), 22);
    // L is still 22.5: a failure gives T = 21.5, L = 0.5 × 22.5 + 0.5 × 21.5
    // = 22. (From 22 it would have been 21.5, which reads 21.)
    assert_eq!(vegas.update(Sample::failure(ms(10), 22, 22)), 22);
}

#[test]
fn the_estimate_starts_over_from_the_limit_in_force() {
    let mut vegas = primed(Vegas::new(), 20);
    assert_eq!(vegas.update(Sample::success(ms(10), 20, 20)), 26);
    // The limiter held the limit at 16 (its maximum): Vegas goes on from 16,
    // not from 26: 16 − 1.
    assert_eq!(vegas.update(Sample::failure(ms(10), 16, 16)), 15);
}

#[test]
fn the_fastest_latency_is_forgotten_every_probe_multiplier_times_limit_samples() {
    // A probe every 1 × 4 samples.
    let mut vegas = Vegas::new().with_probe_multiplier(1);
    // Sample 1: the fastest latency is 10 ms.
    assert_eq!(vegas.update(Sample::success(ms(10), 4, 4)), 4);
    // Samples 2 and 3: queue = ceil(4 × 30 / 40) = 3: stays.
    assert_eq!(vegas.update(Sample::success(ms(40), 4, 4)), 4);
    assert_eq!(vegas.update(Sample::success(ms(40), 4, 4)), 4);
    // Sample 4: the probe; 40 ms is the fastest latency now.
    assert_eq!(vegas.update(Sample::success(ms(40), 4, 4)), 4);
    // queue = ceil(4 × 0 / 40) = 0: 4 + 6.
    assert_eq!(vegas.update(Sample::success(ms(40), 4, 4)), 10);
}

#[test]
fn a_zero_latency_means_no_queue() {
    let mut vegas = Vegas::new();
    assert_eq!(vegas.update(Sample::success(ms(0), 20, 20)), 20);
    // rtt = 0: queue 0, 20 + 6.
    assert_eq!(vegas.update(Sample::success(ms(0), 20, 20)), 26);
    // Against a fastest latency of 0, queue = ceil(26 × 10 / 10) = 26 > 6.
    assert_eq!(vegas.update(Sample::success(ms(10), 26, 26)), 25);
}

#[test]
fn the_target_is_at_least_1() {
    let mut vegas = primed(Vegas::new(), 1);
    // 1 − 1 = 0, raised to 1.
    assert_eq!(vegas.update(Sample::failure(ms(10), 1, 1)), 1);
}

#[test]
#[should_panic(expected = "Vegas's smoothing must be more than 0 and at most 1")]
fn a_smoothing_of_zero_panics() {
    let _ = Vegas::new().with_smoothing(0.0);
}

#[test]
#[should_panic(expected = "Vegas's smoothing must be more than 0 and at most 1")]
fn a_smoothing_above_one_panics() {
    let _ = Vegas::new().with_smoothing(1.5);
}

#[test]
#[should_panic(expected = "Vegas's probe multiplier must be at least 1")]
fn a_probe_multiplier_of_zero_panics() {
    let _ = Vegas::default().with_probe_multiplier(0);
}

// Through the service.

#[tokio::test(start_paused = true)]
async fn the_limit_follows_the_queue_that_latencies_reveal() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Vegas::new())
        .with_min_limit(2)
        .with_initial_limit(10)
        .with_max_limit(16);
    let (mut service, mut handle, limits) = new_service(layer);
    // Seven calls left pending: each scripted call is the eighth in flight,
    // and 8 × 2 = 16 is not below any limit up to 16.
    let mut background = Background::hold(&mut service, &mut handle, 7).await;

    // (latency in ms, failed, limit after)
    let script = [
        // The fastest latency is 20 ms; the limit stays.
        (20, false, 10),
        // queue = ceil(10 × 0 / 20) = 0 ≤ 1: 10 + 6.
        (20, false, 16),
        // queue = ceil(16 × 4 / 24) = ceil(2.7) = 3, between 3 and 6: stays.
        (24, false, 16),
        // queue = ceil(16 × 2 / 22) = ceil(1.5) = 2 < 3: 17, above the
        // maximum: 16.
        (22, false, 16),
        // Vegas goes on from 16: queue = ceil(16 × 20 / 40) = 8 > 6: 15.
        (40, false, 15),
        // queue = ceil(15 × 20 / 40) = ceil(7.5) = 8 > 6: 14.
        (40, false, 14),
        // A failure: 14 − 1.
        (20, true, 13),
        // 10 ms < 20 ms: the new fastest latency; the limit stays.
        (10, false, 13),
        // queue = ceil(13 × 10 / 20) = ceil(6.5) = 7 > 6: 12.
        (20, false, 12),
    ];
    for (step, (latency, fail, expected)) in script.into_iter().enumerate() {
        let limit = round_trip(&mut service, &mut handle, &limits, ms(latency), fail).await;
        assert_eq!(limit, expected, "after step {step}");
    }

    // Five background calls dropped (which reports nothing): the next call
    // is the third in flight, and 3 × 2 = 6 < 12.
    background.drop_some(5);
    assert_eq!(limits.in_flight(), 2);
    // queue 0 would add 6, but too few are in flight: stays.
    assert_eq!(
        round_trip(&mut service, &mut handle, &limits, ms(10), false).await,
        12
    );
    // A failure lowers it all the same: 12 − 1.
    assert_eq!(
        round_trip(&mut service, &mut handle, &limits, ms(30), true).await,
        11
    );
}
