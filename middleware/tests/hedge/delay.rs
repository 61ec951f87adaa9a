//! When the hedge is sent: after the `latency_percentile` quantile of the
//! known response times, counted from the call, and only once
//! `min_data_points` response times are known.

use std::time::Duration;

use donjon::ServiceExt;
use donjon::hedge::Hedge;
use donjon_test::mock;
use tokio::time::{Instant, advance, timeout};
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::{
    BEFORE_DELAY, DELAY, HANG_GUARD, MIN_DATA_POINTS, MOCK_LATENCIES, PAST_DELAY, PERCENTILE,
    PERIOD, Req, Res, TestPolicy, assert_hedge_delay, assert_no_request, expect_request,
    slow_request, upstream_setup, with_latencies, without_latencies,
};

#[tokio::test(start_paused = true)]
async fn hedge_is_not_sent_before_the_delay_but_is_after_it() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    advance(BEFORE_DELAY).await;
    assert!(!response.is_woken(), "no wake-up before the delay");
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "9 ms is before the delay");

    advance(PAST_DELAY - BEFORE_DELAY).await;
    assert!(response.is_woken(), "the delay's timer wakes the response");
    assert_pending!(response.poll());
    let _hedge = expect_request(&mut handle, "orig");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn hedge_delay_is_the_percentile_of_mock_latencies() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    assert_hedge_delay(&mut service, &mut handle, DELAY).await;
}

#[tokio::test(start_paused = true)]
async fn hedge_is_sent_once() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let _hedge = expect_request(&mut handle, "orig");

    for _ in 0..3 {
        advance(PAST_DELAY).await;
        assert_pending!(response.poll());
        assert_no_request(&mut handle, "a single hedge per request");
    }

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn delay_counts_from_the_call_not_from_the_first_poll() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");

    advance(PAST_DELAY).await;
    // The first poll comes after the delay: the hedge goes out at once.
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    hedge.send_response("hedge-done");
    assert_eq!(assert_ready_ok!(response.poll()), "hedge-done");
    drop(original);
}

#[tokio::test(start_paused = true)]
async fn delay_is_the_latency_percentile_quantile_of_known_response_times() {
    // 1..=100 ms: the 0.5 quantile is 50 ms, the 0.25 quantile 25 ms.
    let latencies: Vec<u64> = (1..=100).collect();
    let ms = Duration::from_millis;

    let (mut median, mut handle) = with_latencies(TestPolicy, 0.5, &latencies);
    assert_hedge_delay(&mut median, &mut handle, ms(50)).await;

    let (mut quartile, mut handle) = with_latencies(TestPolicy, 0.25, &latencies);
    assert_hedge_delay(&mut quartile, &mut handle, ms(25)).await;
}

#[tokio::test(start_paused = true)]
async fn no_hedge_while_no_response_time_is_known() {
    let (mut service, mut handle) = without_latencies(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    advance(Duration::from_secs(10)).await;
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "no response time is known");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn no_hedge_with_fewer_response_times_than_min_data_points() {
    // Nine of upstream's ten: their 0.9 quantile is still 10 ms.
    let (mut service, mut handle) = with_latencies(TestPolicy, PERCENTILE, &MOCK_LATENCIES[..9]);
    assert!(
        !slow_request(&mut service, &mut handle, "orig").await,
        "9 response times are fewer than the 10 needed"
    );

    // The same with all ten hedges (the control).
    let (mut service, mut handle) = upstream_setup(TestPolicy);
    assert!(slow_request(&mut service, &mut handle, "orig").await);
}

#[tokio::test(start_paused = true)]
async fn hedge_is_driven_by_a_runtime_at_the_delay() {
    // Awaited on a runtime, the response gets the hedge out by itself: the
    // paused clock auto-advances to the hedge's timer.
    let (mock, mut handle) = mock::pair::<Req, Res>();
    let hedge = Hedge::new_with_mock_latencies(
        mock,
        TestPolicy,
        MIN_DATA_POINTS,
        PERCENTILE,
        PERIOD,
        &MOCK_LATENCIES,
    );
    let start = Instant::now();
    let response = tokio::spawn(hedge.oneshot("orig"));

    let (request, _original) = timeout(HANG_GUARD, handle.next_request())
        .await
        .expect("the original is sent")
        .expect("the mock is alive");
    assert_eq!(request, "orig");
    assert_eq!(start.elapsed(), Duration::ZERO);

    let (request, hedge) = timeout(HANG_GUARD, handle.next_request())
        .await
        .expect("the hedge is sent")
        .expect("the mock is alive");
    assert_eq!(request, "orig");
    assert_eq!(start.elapsed(), DELAY, "sent when the delay is over");

    hedge.send_response("hedge-done");
    let answer = response.await.expect("the task completes");
    assert_eq!(answer.expect("a response"), "hedge-done");
}
