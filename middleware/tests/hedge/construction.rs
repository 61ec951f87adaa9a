//! Configuration checks, `Debug`, and misuse.

use std::time::Duration;

use donjon::hedge::Hedge;
use donjon_test::mock::{self, Mock};
use tokio_test::{assert_pending, assert_ready_ok};

use crate::{
    MIN_DATA_POINTS, MOCK_LATENCIES, PERIOD, Req, Res, TestPolicy, assert_hedge_delay,
    upstream_setup, with_latencies,
};

/// A `Hedge` around a fresh mock with upstream's settings but the given
/// percentile.
fn with_percentile(percentile: f32) -> Hedge<Mock<Req, Res>, TestPolicy> {
    let (mock, _handle) = mock::pair::<Req, Res>();
    Hedge::new(mock, TestPolicy, MIN_DATA_POINTS, percentile, PERIOD)
}

#[test]
#[should_panic(expected = "fraction")]
fn percentile_given_as_a_percentage_panics() {
    let _ = with_percentile(90.0);
}

#[test]
#[should_panic(expected = "fraction")]
fn negative_percentile_panics() {
    let (mock, _handle) = mock::pair::<Req, Res>();
    let _ = Hedge::new_with_mock_latencies(
        mock,
        TestPolicy,
        MIN_DATA_POINTS,
        -0.1,
        PERIOD,
        &MOCK_LATENCIES,
    );
}

#[test]
#[should_panic(expected = "fraction")]
fn nan_percentile_panics() {
    let _ = with_percentile(f32::NAN);
}

#[tokio::test(start_paused = true)]
async fn percentiles_zero_and_one_are_the_fastest_and_slowest_times() {
    let latencies: Vec<u64> = (1..=100).collect();
    let ms = Duration::from_millis;

    let (mut fastest, mut handle) = with_latencies(TestPolicy, 0.0, &latencies);
    assert_hedge_delay(&mut fastest, &mut handle, ms(1)).await;

    // At 1.0 the default share of hedges is zero: allow some to see the
    // delay.
    let (slowest, mut handle) = mock::spawn_with(|mock| {
        Hedge::new_with_mock_latencies(mock, TestPolicy, MIN_DATA_POINTS, 1.0, PERIOD, &latencies)
            .max_extra_load(0.5)
    });
    let mut slowest = slowest;
    assert_hedge_delay(&mut slowest, &mut handle, ms(100)).await;
}

#[tokio::test(start_paused = true)]
async fn at_percentile_one_no_request_is_hedged_by_default() {
    let latencies: Vec<u64> = (1..=100).collect();
    let (mut service, mut handle) = with_latencies(TestPolicy, 1.0, &latencies);
    for _ in 0..12 {
        assert_ready_ok!(service.poll_ready());
        let mut response = tokio_test::task::spawn(service.call("orig"));
        let (_, original) = tokio_test::assert_ready!(handle.poll_request()).expect("a request");
        // Well past the 100 ms delay.
        tokio::time::advance(Duration::from_millis(150)).await;
        assert_pending!(response.poll());
        assert!(
            handle.poll_request().is_pending(),
            "no hedge at a share of zero"
        );
        original.send_response("original");
        assert_ready_ok!(response.poll());
    }
}

#[test]
fn debug_shows_the_service_the_policy_and_the_settings() {
    let hedge = with_percentile(0.5);
    let debug = format!("{hedge:?}");
    assert!(debug.starts_with("Hedge("), "{debug}");
    for part in [
        "Mock",
        "TestPolicy",
        "min_data_points: 10",
        "latency_percentile: 0.5",
    ] {
        assert!(debug.contains(part), "{part:?} missing from {debug}");
    }
}

#[tokio::test(start_paused = true)]
async fn response_future_is_debug() {
    let (mut service, _handle) = upstream_setup::<_, Res>(TestPolicy);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("orig");
    let debug = format!("{response:?}");
    assert!(debug.starts_with("Future"), "{debug}");
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "poll_ready must be called first")]
async fn call_without_poll_ready_reaches_the_inner_service_contract() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);
    handle.allow(0);
    assert_pending!(service.poll_ready());
    let _response = service.call("orig");
}
