//! Dropping a response future, whatever it is waiting for (an attempt, the
//! policy's delay, the inner service's readiness), ends the request: the
//! delay and the inner service's clone are dropped, and no further attempt
//! reaches the inner service.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use donjon::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use donjon::util::rng::HasherRng;
use donjon_test::assert_request_eq;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::{Flagged, PLENTY, RetryErrors, new_service};

#[tokio::test]
async fn dropping_the_response_during_an_attempt_sends_no_retry() {
    let policy = RetryErrors::new(PLENTY);
    let seen = policy.seen();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    let (request, reply) = handle.next_request().await.expect("the first attempt");
    assert_eq!(request, "hello");

    drop(response);
    reply.send_error("retry me");
    assert_eq!(seen.retries(), 0, "nobody looked at the late error");
    assert_pending!(handle.poll_request(), "no retry was sent");
}

#[tokio::test]
async fn the_service_stays_ready_after_dropped_responses() {
    let (mut service, mut handle) = new_service(RetryErrors::new(PLENTY));

    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("dropped"));
        assert_pending!(response.poll());
        drop(response);
    }
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    for _ in 0..3 {
        assert_request_eq!(handle, "dropped");
    }
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test(start_paused = true)]
async fn dropping_the_response_during_the_delay_drops_the_delay_and_sends_no_retry() {
    let maker = ExponentialBackoffMaker::new(
        Duration::from_millis(100),
        Duration::from_secs(1),
        0.0,
        HasherRng::default(),
    );
    let backoff = Flagged::new(maker.expect("valid backoff").make_backoff());
    let (made, dropped) = (backoff.made.clone(), backoff.dropped.clone());
    let (mut service, mut handle) = new_service(RetryErrors::with_backoff(PLENTY, backoff));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(response.poll(), "waiting out the delay");
    assert_eq!((made.get(), dropped.get()), (1, 0));

    drop(response);
    assert_eq!(dropped.get(), 1, "the delay was dropped with the response");
    advance(Duration::from_secs(1)).await;
    assert_pending!(handle.poll_request(), "no retry after the delay");
}

#[tokio::test]
async fn dropping_the_response_while_a_retry_waits_for_readiness_releases_the_inner_service() {
    let (mut service, mut handle) = new_service(RetryErrors::new(PLENTY));

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = service.call("hello");
    assert_request_eq!(handle, "hello").send_error("retry me");

    // Poll by hand, with a task whose waker references can be counted.
    let mut task = task::spawn(());
    assert_pending!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
    assert_eq!(task.waker_ref_count(), 2, "the mock holds the task's waker");

    drop(response);
    assert_eq!(
        task.waker_ref_count(),
        1,
        "the mock's clone, and the waker it held, were dropped"
    );
    handle.allow(5);
    assert!(!task.is_woken());
    assert_pending!(handle.poll_request(), "no retry was sent");
}
