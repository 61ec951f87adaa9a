//! Readiness: `Hedge::poll_ready` follows the inner service; the hedge's
//! own clone is driven to readiness only when the hedge fires, and its
//! failure ends the response.

use std::task::Poll;

use donjon_test::mock::error::Closed;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, assert_readiness_follows_mock};
use crate::{PAST_DELAY, Req, Res, TestPolicy, assert_no_request, expect_request, upstream_setup};

#[tokio::test(start_paused = true)]
async fn readiness_follows_the_inner_service_with_wake_ups() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);
    assert_readiness_follows_mock::<Req, _, _, _>(&mut service, &mut handle);

    // The one allowed call goes through, then the service is not ready.
    let mut response = task::spawn(service.call("orig"));
    expect_request(&mut handle, "orig").send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
    assert_pending!(service.poll_ready(), "the allowed call was spent");
}

#[tokio::test(start_paused = true)]
async fn readiness_error_is_boxed() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

#[tokio::test(start_paused = true)]
async fn dropped_handle_fails_readiness_and_calls_in_flight_with_closed() {
    let (mut service, handle) = upstream_setup::<_, Res>(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    assert_pending!(response.poll());
    drop(handle);

    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "{error:?}");
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn dropped_handle_fails_a_request_waiting_for_its_hedge() {
    let (mut service, handle) = upstream_setup::<_, Res>(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll(), "the hedge was sent");
    drop(handle);

    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "{error:?}");
}

#[tokio::test(start_paused = true)]
async fn hedge_waits_for_its_service_clone_to_be_ready() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    // The original spent the only allowed call.
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "the hedge's clone is not ready");

    handle.allow(1);
    assert!(
        response.is_woken(),
        "the clone's wake-up reaches the response"
    );
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    hedge.send_response("hedge-done");
    assert_eq!(assert_ready_ok!(response.poll()), "hedge-done");
    drop(original);
}

#[tokio::test(start_paused = true)]
async fn original_can_win_while_the_hedge_waits_for_readiness() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());

    original.send_response("orig-done");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
    drop(response);

    // Every clone of the mock, the hedge's included, is gone.
    drop(service);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[tokio::test(start_paused = true)]
async fn readiness_error_of_the_hedge_clone_ends_the_response() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let _original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    // The next poll_ready of any clone fails: the hedge's is next.
    handle.send_error(Boom("hedge not ready"));
    advance(PAST_DELAY).await;
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("hedge not ready")));
    assert_no_request(&mut handle, "the hedge was never sent");
}

#[tokio::test(start_paused = true)]
async fn hedge_clone_is_not_polled_before_the_delay() {
    let (mut service, mut handle) = upstream_setup::<_, Res>(TestPolicy);

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    // A clone polled with no call allowed would have parked the response's
    // task, and been woken by `allow`.
    handle.allow(1);
    assert!(!response.is_woken(), "nothing polled the hedge's clone yet");
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "the delay is not over");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}
