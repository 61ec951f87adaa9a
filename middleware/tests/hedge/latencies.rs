//! Response times: successful ones are recorded into the current period,
//! and the hedge delay is read from the previous one.

use std::time::Duration;

use donjon_test::mock::Handle;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::Boom;
use crate::{
    Hedged, MIN_DATA_POINTS, PAST_DELAY, PERIOD, Req, Res, TestPolicy, assert_hedge_delay,
    expect_request, slow_request, upstream_setup, without_latencies,
};

/// Sends [`MIN_DATA_POINTS`] requests, each answered after `latency`, with
/// a success or, if `fail`, an error.
async fn record(
    service: &mut Hedged<TestPolicy>,
    handle: &mut Handle<Req, Res>,
    latency: Duration,
    fail: bool,
) {
    for _ in 0..MIN_DATA_POINTS {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("sample"));
        let send = expect_request(handle, "sample");
        assert_pending!(response.poll());
        advance(latency).await;
        if fail {
            send.send_error(Boom("sample"));
            assert_ready_err!(response.poll());
        } else {
            send.send_response("sampled");
            assert_ready_ok!(response.poll());
        }
    }
}

#[tokio::test(start_paused = true)]
async fn successful_response_times_set_the_delay_after_the_period_ends() {
    let (mut service, mut handle) = without_latencies(TestPolicy);
    record(&mut service, &mut handle, Duration::from_millis(5), false).await;

    advance(PERIOD).await;
    // Ten 5 ms responses: the delay is 5 ms.
    let ms = Duration::from_millis;
    assert_hedge_delay(&mut service, &mut handle, ms(5)).await;
}

#[tokio::test(start_paused = true)]
async fn response_times_of_the_current_period_are_not_used_yet() {
    let (mut service, mut handle) = without_latencies(TestPolicy);
    record(&mut service, &mut handle, Duration::from_millis(5), false).await;

    assert!(
        !slow_request(&mut service, &mut handle, "orig").await,
        "the recorded times count only once their period is over"
    );
}

#[tokio::test(start_paused = true)]
async fn errors_are_not_recorded() {
    let (mut service, mut handle) = without_latencies(TestPolicy);
    record(&mut service, &mut handle, Duration::from_millis(5), true).await;

    advance(PERIOD).await;
    assert!(
        !slow_request(&mut service, &mut handle, "orig").await,
        "ten errors are no response time"
    );
}

#[tokio::test(start_paused = true)]
async fn response_times_expire_after_two_periods() {
    let (mut service, mut handle) = without_latencies(TestPolicy);
    record(&mut service, &mut handle, Duration::from_millis(5), false).await;

    advance(PERIOD * 2).await;
    assert!(!slow_request(&mut service, &mut handle, "orig").await);
}

#[tokio::test(start_paused = true)]
async fn mock_latencies_are_the_first_period_only() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    advance(PERIOD).await;
    assert!(
        !slow_request(&mut service, &mut handle, "orig").await,
        "nothing was recorded during the first period"
    );
}

#[tokio::test(start_paused = true)]
async fn winning_hedge_records_its_own_response_time() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    // Ten requests whose hedges win 3 ms after being sent (14 ms after the
    // original).
    for _ in 0..MIN_DATA_POINTS {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("orig"));
        let _original = expect_request(&mut handle, "orig");
        assert_pending!(response.poll());
        advance(PAST_DELAY).await;
        assert_pending!(response.poll());
        let hedge = expect_request(&mut handle, "orig");
        advance(Duration::from_millis(3)).await;
        hedge.send_response("hedge-done");
        assert_eq!(assert_ready_ok!(response.poll()), "hedge-done");
    }

    advance(PERIOD).await;
    let ms = Duration::from_millis;
    assert_hedge_delay(&mut service, &mut handle, ms(3)).await;
}
