//! How the `Policy` is consulted: `clone_request` when the request arrives,
//! `can_retry` when the delay is over, before the hedge's service clone is
//! driven to readiness.

use donjon::hedge::Hedge;
use donjon_test::mock::{self, Spawn};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::support::Counting;
use crate::{
    BEFORE_DELAY, MIN_DATA_POINTS, MOCK_LATENCIES, NOT_RETRYABLE, PAST_DELAY, PERCENTILE, PERIOD,
    Req, Res, TestPolicy, Watched, assert_no_request, expect_request, upstream_setup,
};

#[tokio::test(start_paused = true)]
async fn the_copy_is_taken_at_the_call_and_checked_when_the_delay_is_over() {
    let policy = Watched::default();
    let (mut service, mut handle) = upstream_setup(policy.clone());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    assert_eq!(policy.clones(), 1, "clone_request is asked at the call");
    assert!(policy.asked().is_empty(), "can_retry waits for the delay");
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());

    advance(BEFORE_DELAY).await;
    assert_pending!(response.poll());
    assert!(policy.asked().is_empty(), "can_retry waits for the delay");

    advance(PAST_DELAY - BEFORE_DELAY).await;
    assert_pending!(response.poll());
    assert_eq!(
        policy.asked(),
        [Watched::COPY],
        "asked once, about the copy"
    );
    assert_eq!(policy.clones(), 1, "the request is copied once");

    // The copy, not the original, is what the hedge sends.
    let hedge = expect_request(&mut handle, Watched::COPY);
    hedge.send_response("hedge-done");
    assert_eq!(assert_ready_ok!(response.poll()), "hedge-done");
    drop(original);
}

#[tokio::test(start_paused = true)]
async fn can_retry_is_not_asked_when_the_original_answers_in_time() {
    let policy = Watched::default();
    let (mut service, mut handle) = upstream_setup(policy.clone());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    assert_pending!(response.poll());
    advance(BEFORE_DELAY).await;
    expect_request(&mut handle, "orig").send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");

    advance(PAST_DELAY).await;
    assert!(policy.asked().is_empty());
    assert_no_request(&mut handle, "the request is over");
}

#[tokio::test(start_paused = true)]
async fn declined_hedge_holds_no_reservation() {
    let (mut service, mut handle) = upstream_setup(TestPolicy);

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(NOT_RETRYABLE));
    // The original spent the only allowed call.
    let original = expect_request(&mut handle, NOT_RETRYABLE);
    assert_pending!(response.poll());

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());

    // A clone polled with no call allowed would have parked the response's
    // task, and been woken by `allow`.
    handle.allow(1);
    assert!(
        !response.is_woken(),
        "the declined hedge's clone is not parked in poll_ready"
    );
    assert_pending!(response.poll());
    assert_no_request(&mut handle, "the hedge was declined");

    // The newly allowed call is free for another caller.
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    expect_request(&mut handle, "second").send_response("second-done");
    assert_eq!(assert_ready_ok!(second.poll()), "second-done");

    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}

#[tokio::test(start_paused = true)]
async fn declined_hedge_never_polls_its_service_clone() {
    // Upstream's setup, with the mock's clones counting their `poll_ready`
    // and `call` calls.
    let (mock, mut handle) = mock::pair::<Req, Res>();
    let counting = Counting::new(mock);
    let counts = counting.counts();
    let mut service = Spawn::new(Hedge::new_with_mock_latencies(
        counting,
        TestPolicy,
        MIN_DATA_POINTS,
        PERCENTILE,
        PERIOD,
        &MOCK_LATENCIES,
    ));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(NOT_RETRYABLE));
    let original = expect_request(&mut handle, NOT_RETRYABLE);
    assert_pending!(response.poll());
    assert_eq!((counts.poll_ready(), counts.calls()), (1, 1));

    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    assert_eq!(
        (counts.poll_ready(), counts.calls()),
        (1, 1),
        "can_retry said no before the clone was polled"
    );
    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");

    // The control: an accepted hedge polls its clone, then calls it.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("orig"));
    let original = expect_request(&mut handle, "orig");
    assert_pending!(response.poll());
    advance(PAST_DELAY).await;
    assert_pending!(response.poll());
    let _hedge = expect_request(&mut handle, "orig");
    assert_eq!((counts.poll_ready(), counts.calls()), (3, 3));
    original.send_response("orig-done");
    assert_eq!(assert_ready_ok!(response.poll()), "orig-done");
}
