//! `Gradient2`: its update alone, and the limit's trajectory through the
//! service.

use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Algorithm, Gradient2, Sample};

use super::{Background, ms, new_service, round_trip};

// The update alone.

#[test]
fn a_steady_latency_adds_smoothing_times_queue_size_per_sample() {
    let mut gradient = Gradient2::new();
    // gradient = min(1, 1.5 × 10 / 10) = 1, so T = L + 4 and
    // L' = 0.8 × L + 0.2 × (L + 4) = L + 0.8: 20.8, 21.6, 22.4, 23.2, 24.
    let mut limit = 20;
    let mut trajectory = Vec::new();
    for _ in 0..5 {
        limit = gradient.update(Sample::success(ms(10), limit, limit));
        trajectory.push(limit);
    }
    assert_eq!(trajectory, vec![20, 21, 22, 23, 24]);
}

#[test]
fn too_few_in_flight_keep_the_limit_both_ways() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    // 4 < 10 / 2: stays.
    assert_eq!(gradient.update(Sample::success(ms(10), 4, 10)), 10);
    // However slow: long = (10 + 1000) / 2 = 505, but 4 < 5: stays.
    assert_eq!(gradient.update(Sample::success(ms(1000), 4, 10)), 10);
    // 5 is not below 10 / 2: long = (1010 + 10) / 3 = 340,
    // gradient = min(1, 1.5 × 340 / 10) = 1: 10 + 4.
    assert_eq!(gradient.update(Sample::success(ms(10), 5, 10)), 14);
}

#[test]
fn a_latency_above_the_tolerated_long_term_one_shrinks_the_limit() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    // long = 10, gradient = 1: 10 + 4.
    assert_eq!(gradient.update(Sample::success(ms(10), 10, 10)), 14);
    // long = (10 + 40) / 2 = 25, gradient = 1.5 × 25 / 40 = 0.9375:
    // 14 × 0.9375 + 4 = 17.125.
    assert_eq!(gradient.update(Sample::success(ms(40), 14, 14)), 17);
}

#[test]
fn the_gradient_is_at_least_one_half() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    // 10 + 4, 14 + 4, 18 + 4.
    for (limit, expected) in [(10, 14), (14, 18), (18, 22)] {
        assert_eq!(
            gradient.update(Sample::success(ms(10), limit, limit)),
            expected
        );
    }
    // long = (30 + 1000) / 4 = 257.5, 1.5 × 257.5 / 1000 = 0.38625, raised
    // to 0.5: 22 × 0.5 + 4.
    assert_eq!(gradient.update(Sample::success(ms(1000), 22, 22)), 15);
}

#[test]
fn the_tolerance_sets_how_much_slower_calls_may_get() {
    // Tolerance 1.5: long = (10 + 12) / 2 = 11, 1.5 × 11 / 12 = 1.375,
    // lowered to 1: 14 + 4.
    let mut tolerant = Gradient2::new().with_smoothing(1.0);
    assert_eq!(tolerant.update(Sample::success(ms(10), 10, 10)), 14);
    assert_eq!(tolerant.update(Sample::success(ms(12), 14, 14)), 18);

    // Tolerance 1: gradient = 11 / 12: 14 × 11 / 12 + 4 = 16.83.
    let mut strict = Gradient2::new().with_smoothing(1.0).with_tolerance(1.0);
    assert_eq!(strict.update(Sample::success(ms(10), 10, 10)), 14);
    assert_eq!(strict.update(Sample::success(ms(12), 14, 14)), 16);
}

#[test]
fn after_ten_samples_the_long_term_latency_is_an_exponential_average() {
    // A long window of 3: the factor is 2 / (3 + 1) = 0.5. A queue size of
    // 0 keeps the limit at 10 while the gradient is 1.
    let mut gradient = Gradient2::new()
        .with_smoothing(1.0)
        .with_queue_size(0)
        .with_long_window(3);
    for _ in 0..10 {
        assert_eq!(gradient.update(Sample::success(ms(10), 10, 10)), 10);
    }
    // long = 0.5 × 10 + 0.5 × 40 = 25 (a plain mean would give
    // 140 / 11 = 12.7), gradient = 1.5 × 25 / 40 = 0.9375: 10 × 0.9375.
    assert_eq!(gradient.update(Sample::success(ms(40), 10, 10)), 9);
    // L = 9.375; long = 0.5 × 25 + 0.5 × 40 = 32.5,
    // 1.5 × 32.5 / 40 = 1.22, lowered to 1: 9.375.
    assert_eq!(gradient.update(Sample::success(ms(40), 10, 9)), 9);
}

#[test]
fn a_long_term_latency_over_twice_the_short_one_decays() {
    let mut gradient = Gradient2::new().with_smoothing(1.0).with_tolerance(1.0);
    // long = 100, gradient = 1: 100 + 4.
    assert_eq!(gradient.update(Sample::success(ms(100), 100, 100)), 104);
    // long = (100 + 10) / 2 = 55 > 2 × 10: stored as 55 × 0.95 = 52.25;
    // this sample's gradient = min(1, 55 / 10) = 1: 104 + 4.
    assert_eq!(gradient.update(Sample::success(ms(10), 104, 104)), 108);
    // long = 52.25 + (100 − 52.25) / 3 = 68.1667, gradient = 0.681667:
    // 108 × 0.681667 + 4 = 77.62. (Without the decay: long = 70, and
    // 108 × 0.7 + 4 = 79.6.)
    assert_eq!(gradient.update(Sample::success(ms(100), 108, 108)), 77);
}

#[test]
fn a_failure_is_a_latency_sample_like_any_other() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    assert_eq!(gradient.update(Sample::failure(ms(10), 10, 10)), 14);
    assert_eq!(gradient.update(Sample::failure(ms(40), 14, 14)), 17);
}

#[test]
fn the_estimate_starts_over_from_the_limit_in_force() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    assert_eq!(gradient.update(Sample::success(ms(10), 10, 10)), 14);
    // The limiter held the limit at 12: 12 + 4, not 14 + 4.
    assert_eq!(gradient.update(Sample::success(ms(10), 12, 12)), 16);
}

#[test]
fn a_zero_latency_gives_a_gradient_of_one() {
    let mut gradient = Gradient2::new().with_smoothing(1.0);
    assert_eq!(gradient.update(Sample::success(ms(0), 10, 10)), 14);
    assert_eq!(gradient.update(Sample::success(ms(0), 14, 14)), 18);
}

#[test]
#[should_panic(expected = "Gradient2's smoothing must be more than 0 and at most 1")]
fn a_smoothing_of_zero_panics() {
    let _ = Gradient2::new().with_smoothing(0.0);
}

#[test]
#[should_panic(expected = "Gradient2's tolerance must be at least 1")]
fn a_tolerance_below_one_panics() {
    let _ = Gradient2::new().with_tolerance(0.9);
}

#[test]
#[should_panic(expected = "Gradient2's long window must be at least 1")]
fn a_long_window_of_zero_panics() {
    let _ = Gradient2::default().with_long_window(0);
}

// Through the service.

#[tokio::test(start_paused = true)]
async fn the_limit_follows_the_latency_trend() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Gradient2::new().with_smoothing(1.0))
        .with_min_limit(5)
        .with_initial_limit(10)
        .with_max_limit(20);
    let (mut service, mut handle, limits) = new_service(layer);
    // Nine calls left pending: each scripted call is the tenth in flight,
    // not below half of any limit up to 20.
    let mut background = Background::hold(&mut service, &mut handle, 9).await;

    // (latency in ms, failed, limit after); with no smoothing,
    // L' = L × gradient + 4.
    let script = [
        // long = 10, gradient = min(1, 1.5 × 10 / 10) = 1: 10 + 4.
        (10, false, 14),
        // long = 10, gradient = 1: 14 + 4.
        (10, false, 18),
        // A failure is only a latency: 18 + 4 = 22, above the maximum: 20.
        (10, true, 20),
        // Gradient2 goes on from 20: 20 + 4 = 24, held at 20.
        (10, false, 20),
        // long = (40 + 60) / 5 = 20, gradient = 1.5 × 20 / 60 = 0.5:
        // 20 × 0.5 + 4.
        (60, false, 14),
        // long = (100 + 60) / 6 = 26.67, gradient = 1.5 × 26.67 / 60 = 0.67:
        // 14 × 0.67 + 4 = 13.33.
        (60, false, 13),
    ];
    for (step, (latency, fail, expected)) in script.into_iter().enumerate() {
        let limit = round_trip(&mut service, &mut handle, &limits, ms(latency), fail).await;
        assert_eq!(limit, expected, "after step {step}");
    }

    // Six background calls dropped (which reports nothing): the next call
    // is the fourth in flight, below half of 13.33: the limit stays,
    // however fast the call.
    background.drop_some(6);
    assert_eq!(limits.in_flight(), 3);
    assert_eq!(
        round_trip(&mut service, &mut handle, &limits, ms(10), false).await,
        13
    );
}
