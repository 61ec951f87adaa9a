//! `Aimd`: its update alone, and the limit's trajectory through the service.

use std::time::Duration;

use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Aimd, Algorithm, Sample};

use super::{ms, new_service, round_trip};
use crate::support::Boom;

// The update alone.

#[test]
fn a_success_adds_one_and_a_failure_multiplies_by_the_ratio() {
    let mut aimd = Aimd::new();
    // 10 + 1
    assert_eq!(aimd.update(Sample::success(ms(1), 1, 10)), 11);
    // floor(11 × 0.9) = floor(9.9)
    assert_eq!(aimd.update(Sample::failure(ms(1), 1, 11)), 9);
    // floor(20 × 0.9) = 18
    assert_eq!(aimd.update(Sample::failure(ms(1), 20, 20)), 18);
    // floor(1 × 0.9) = 0: the limiter raises it to its minimum.
    assert_eq!(aimd.update(Sample::failure(ms(1), 1, 1)), 0);
}

#[test]
fn rounding_down_forgives_floating_point_error() {
    // 50 × 0.58 is 28.999999999999996 in floating point; the limit is 29.
    let mut aimd = Aimd::new().with_backoff_ratio(0.58);
    assert_eq!(aimd.update(Sample::failure(ms(1), 1, 50)), 29);
}

#[test]
fn a_latency_above_the_timeout_counts_as_a_failure() {
    let mut aimd = Aimd::new().with_timeout(ms(100)).with_backoff_ratio(0.5);
    // Exactly the timeout is not above it: 8 + 1.
    assert_eq!(aimd.update(Sample::success(ms(100), 1, 8)), 9);
    // floor(9 × 0.5) = 4
    assert_eq!(aimd.update(Sample::success(ms(101), 1, 9)), 4);
}

#[test]
fn the_default_timeout_is_5_seconds() {
    let mut aimd = Aimd::default();
    assert_eq!(
        aimd.update(Sample::success(Duration::from_secs(5), 1, 10)),
        11
    );
    // floor(10 × 0.9)
    assert_eq!(
        aimd.update(Sample::success(Duration::from_millis(5001), 1, 10)),
        9
    );
}

#[test]
fn the_in_flight_count_does_not_matter() {
    let mut aimd = Aimd::new();
    assert_eq!(aimd.update(Sample::success(ms(1), 1, 100)), 101);
    assert_eq!(aimd.update(Sample::success(ms(1), 100, 100)), 101);
}

#[test]
#[should_panic(expected = "Aimd's backoff ratio must be more than 0 and less than 1")]
fn a_backoff_ratio_of_one_panics() {
    let _ = Aimd::new().with_backoff_ratio(1.0);
}

#[test]
#[should_panic(expected = "Aimd's backoff ratio must be more than 0 and less than 1")]
fn a_backoff_ratio_of_zero_panics() {
    let _ = Aimd::new().with_backoff_ratio(0.0);
}

#[test]
#[should_panic(expected = "Aimd's backoff ratio must be more than 0 and less than 1")]
fn a_nan_backoff_ratio_panics() {
    let _ = Aimd::new().with_backoff_ratio(f64::NAN);
}

// Through the service.

#[tokio::test(start_paused = true)]
async fn the_limit_follows_successes_failures_and_timeouts_within_its_bounds() {
    let layer = AdaptiveConcurrencyLimitLayer::new(
        Aimd::new().with_backoff_ratio(0.5).with_timeout(ms(100)),
    )
    .with_min_limit(2)
    .with_initial_limit(4)
    .with_max_limit(6);
    let (mut service, mut handle, limits) = new_service(layer);
    assert_eq!(limits.limit(), 4);

    // (latency, failed, limit after)
    let script = [
        (10, false, 5),  // 4 + 1
        (10, false, 6),  // 5 + 1
        (10, false, 6),  // 6 + 1 = 7, above the maximum: 6
        (10, true, 3),   // floor(6 × 0.5)
        (150, false, 2), // slower than 100 ms: floor(3 × 0.5) = 1, below the minimum: 2
        (100, false, 3), // not slower than 100 ms: 2 + 1
        (20, true, 2),   // floor(3 × 0.5) = 1, below the minimum: 2
    ];
    for (step, (latency, fail, expected)) in script.into_iter().enumerate() {
        let limit = round_trip(&mut service, &mut handle, &limits, ms(latency), fail).await;
        assert_eq!(limit, expected, "after step {step}");
    }
}

#[tokio::test(start_paused = true)]
async fn concurrent_calls_each_move_the_limit_in_the_order_they_finish() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Aimd::new()).with_initial_limit(10);
    let (mut service, mut handle, limits) = new_service(layer);

    let mut responses = Vec::new();
    let mut senders = Vec::new();
    for _ in 0..4 {
        tokio_test::assert_ready_ok!(service.poll_ready());
        responses.push(service.call("hello"));
        senders.push(handle.next_request().await.unwrap().1);
    }
    tokio::time::advance(ms(10)).await;
    // Three succeed and the last fails.
    for (i, send) in senders.into_iter().enumerate() {
        if i == 3 {
            send.send_error(Boom("failed"));
        } else {
            send.send_response("world");
        }
    }
    let mut trajectory = Vec::new();
    for response in responses {
        let _ = response.await;
        trajectory.push(limits.limit());
    }
    // 10 + 1, + 1, + 1, then floor(13 × 0.9) = floor(11.7).
    assert_eq!(trajectory, vec![11, 12, 13, 11]);

    // Slower than the default timeout of 5 s: floor(11 × 0.9) = floor(9.9).
    let limit = round_trip(
        &mut service,
        &mut handle,
        &limits,
        Duration::from_millis(5001),
        false,
    )
    .await;
    assert_eq!(limit, 9);
}

#[test]
fn aimd_is_stateless_and_its_copy_computes_the_same_limits() {
    let aimd = Aimd::new().with_backoff_ratio(0.5).with_timeout(ms(10));
    let mut copy = aimd.stateless_copy().expect("Aimd keeps no state");
    let mut original = aimd;
    for sample in [
        Sample::success(ms(1), 1, 10),
        Sample::failure(ms(1), 1, 10),
        Sample::success(ms(11), 1, 10),
    ] {
        assert_eq!(copy.update(sample), original.update(sample));
    }
}
