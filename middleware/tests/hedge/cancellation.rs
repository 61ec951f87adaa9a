//! Dropping a response future cancels both attempts and releases the
//! hedge's service clone.

use std::task::Poll;

use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::{
    BEFORE_DELAY, PAST_DELAY, TestPolicy, assert_no_request, expect_request, receiver_gone,
    slow_request, upstream_setup,
};

#[tokio::test(start_paused = true)]
async fn dropping_the_response_before_the_delay_cancels_the_request_and_its_hedge() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(BEFORE_DELAY).await;
    assert_pending!(response.poll());

    drop(response);
    assert!(receiver_gone(original), "the original was cancelled");
    advance(PAST_DELAY).await;
    assert_no_request(&mut handle, "the hedge went with the response");

    // The hedge's clone of the mock was dropped too.
    drop(service);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[tokio::test(start_paused = true)]
async fn dropping_the_response_after_the_hedge_cancels_both_attempts() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = expect_request(&mut handle, "orig");

    drop(response);
    assert!(receiver_gone(original), "the original was cancelled");
    assert!(receiver_gone(hedge), "the hedge was cancelled");

    drop(service);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[tokio::test(start_paused = true)]
async fn a_live_attempt_is_not_reported_gone() {
    // The control of the tests above: an answer to a response future that
    // is still there is kept for it, not dropped.
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    assert!(!receiver_gone(original));
    assert_eq!(assert_ready_ok!(response.poll()).name, "late");
}

#[tokio::test(start_paused = true)]
async fn service_still_hedges_after_dropped_responses() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    for _ in 0..20 {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("dropped"));
        let _original = expect_request(&mut handle, "dropped");
        assert_pending!(response.poll());
    }
    advance(PAST_DELAY).await;
    assert_no_request(&mut handle, "no hedge for a dropped response");

    assert!(slow_request(&mut service, &mut handle, "orig").await);
}
