//! Ports of upstream's hedge tests, with upstream's setup: the hedge delay
//! is 10 ms. Requests are awaited with `assert_request_eq!`, as upstream
//! does, bounded by [`HANG_GUARD`](crate::HANG_GUARD).

use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::{
    NOT_CLONABLE, NOT_RETRYABLE, PAST_DELAY, TestPolicy, assert_no_request, upstream_setup,
};

#[tokio::test(start_paused = true)]
async fn original_response_wins_after_the_hedge_was_sent() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = request_eq!(handle, "orig");
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "no hedge at once");

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let _hedge = request_eq!(handle, "orig");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn hedge_response_wins_when_it_arrives_first() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let _original = request_eq!(handle, "orig");
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "no hedge at once");

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let hedge = request_eq!(handle, "orig");

    hedge.send_response("hedge-done");
    assert_eq!(assert_ready_ok!(response.poll()), "hedge-done");
}

#[tokio::test(start_paused = true)]
async fn response_before_the_delay_prevents_the_hedge() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    request_eq!(handle, "orig").send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");

    advance(PAST_DELAY).await;
    assert_no_request(&mut handle, "no hedge for an answered request");
}

#[tokio::test(start_paused = true)]
async fn request_the_policy_refuses_to_retry_is_not_hedged() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(NOT_RETRYABLE));
    let original = request_eq!(handle, NOT_RETRYABLE);
    assert_pending!(response.poll());

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "can_retry said no");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn request_the_policy_cannot_clone_is_not_hedged() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(NOT_CLONABLE));
    let original = request_eq!(handle, NOT_CLONABLE);
    assert_pending!(response.poll());

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "clone_request gave nothing");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}
