//! The behaviours upstream's own buffer tests check, in our words (the
//! tracing one is in `spans`).

use std::task::Poll;

use donjon_test::assert_request_eq;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use crate::{assert_closed, assert_service_error, new_buffer};

#[tokio::test]
async fn a_request_goes_through_the_worker_and_its_response_comes_back() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    assert_pending!(worker.poll(), "nothing to do yet");

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll(), "the worker has not run yet");
    assert!(worker.is_woken(), "a queued request wakes the worker");

    assert_pending!(worker.poll());
    assert!(response.is_woken(), "the worker handed over the response");
    assert_pending!(response.poll(), "the mock has not answered yet");

    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn a_request_whose_response_future_was_dropped_is_skipped() {
    let (mut service, mut handle, mut worker) = new_buffer(5);
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll());
    let answer = assert_request_eq!(handle, "hello 1");

    // The mock allowed one call only: the next requests wait in the queue.
    assert_ready_ok!(service.poll_ready());
    let second = service.call("hello 2");
    assert_pending!(worker.poll());
    assert_pending!(handle.poll_request());
    assert_ready_ok!(service.poll_ready());
    let mut third = task::spawn(service.call("hello 3"));
    assert_pending!(worker.poll());
    drop(second);

    answer.send_response("world 1");
    assert_eq!(assert_ready_ok!(first.poll()), "world 1");

    handle.allow(1);
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello 3", "the dropped request is skipped")
        .send_response("world 3");
    assert_eq!(assert_ready_ok!(third.poll()), "world 3");
    assert_pending!(handle.poll_request(), "hello 2 never reached the mock");
}

#[tokio::test]
async fn a_request_waits_for_the_inner_service_to_be_ready() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(worker.poll());
    assert_pending!(response.poll());
    assert_pending!(handle.poll_request(), "nothing reached the mock");

    handle.allow(1);
    assert!(worker.is_woken(), "the mock's readiness wakes the worker");
    assert_pending!(worker.poll());
    assert!(response.is_woken());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn an_inner_readiness_error_reaches_the_caller_as_a_service_error() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);
    handle.send_error("foobar");

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_ready!(worker.poll(), "the worker ends with its service");
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert_service_error(&error, "foobar");
}

#[test]
fn poll_ready_fails_with_closed_once_the_worker_is_dropped() {
    let (mut service, _handle, worker) = new_buffer(1);
    drop(worker);

    let error = assert_ready_err!(service.poll_ready());
    assert_closed(&error);
}

#[test]
fn a_queued_request_fails_with_closed_when_the_worker_is_dropped() {
    let (mut service, mut handle, worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    drop(worker);

    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert_closed(&error);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock went with the worker, having received nothing"
    );
}

#[tokio::test]
async fn a_bound_of_two_accepts_three_requests_while_the_inner_service_is_not_ready() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut response1 = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll(), "the worker takes hello 1 and holds it");
    assert_ready_ok!(service.poll_ready());
    let mut response2 = task::spawn(service.call("hello 2"));
    assert_ready_ok!(service.poll_ready());
    let mut response3 = task::spawn(service.call("hello 3"));
    assert_pending!(worker.poll());
    assert_pending!(service.poll_ready(), "the queue is full");
    assert!(!service.is_woken());

    handle.allow(1);
    assert_pending!(worker.poll(), "calls hello 1, then takes and holds hello 2");
    assert!(service.is_woken(), "taking hello 2 freed a place");
    assert_ready_ok!(service.poll_ready());
    let mut response4 = task::spawn(service.call("hello 4"));
    assert_pending!(service.poll_ready(), "full again");
    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert_eq!(assert_ready_ok!(response1.poll()), "world 1");

    handle.allow(3);
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_request_eq!(handle, "hello 3").send_response("world 3");
    assert_request_eq!(handle, "hello 4").send_response("world 4");
    assert_eq!(assert_ready_ok!(response2.poll()), "world 2");
    assert_eq!(assert_ready_ok!(response3.poll()), "world 3");
    assert_eq!(assert_ready_ok!(response4.poll()), "world 4");
}

#[test]
fn closing_the_worker_fails_requests_and_wakes_blocked_handles_with_closed() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("hello 2"));
    assert_pending!(held.poll());
    assert_pending!(queued.poll());

    let mut blocked1 = service.clone();
    let mut blocked2 = service.clone();
    assert_pending!(blocked1.poll_ready());
    assert_pending!(blocked2.poll_ready());

    drop(worker);

    assert!(held.is_woken());
    assert_closed(&assert_ready_err!(held.poll()));
    assert!(queued.is_woken());
    assert_closed(&assert_ready_err!(queued.poll()));
    assert!(blocked1.is_woken());
    assert_closed(&assert_ready_err!(blocked1.poll_ready()));
    assert!(blocked2.is_woken());
    assert_closed(&assert_ready_err!(blocked2.poll_ready()));
}

#[test]
fn an_inner_failure_fails_requests_and_wakes_blocked_handles_with_the_error() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("hello 2"));
    assert_pending!(held.poll());
    assert_pending!(queued.poll());

    let mut blocked1 = service.clone();
    let mut blocked2 = service.clone();
    assert_pending!(blocked1.poll_ready());
    assert_pending!(blocked2.poll_ready());

    handle.send_error("foobar");
    assert!(worker.is_woken());
    assert_ready!(worker.poll());

    assert!(held.is_woken());
    assert_service_error(&assert_ready_err!(held.poll()), "foobar");
    assert!(queued.is_woken());
    assert_service_error(&assert_ready_err!(queued.poll()), "foobar");
    assert!(blocked1.is_woken());
    assert_service_error(&assert_ready_err!(blocked1.poll_ready()), "foobar");
    assert!(blocked2.is_woken());
    assert_service_error(&assert_ready_err!(blocked2.poll_ready()), "foobar");
}

#[tokio::test]
async fn repeated_poll_ready_on_one_handle_holds_a_single_place() {
    let (mut service1, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);
    let mut service2 = service1.clone();
    let mut service3 = service1.clone();

    assert_ready_ok!(service1.poll_ready());
    assert_ready_ok!(service1.poll_ready());
    assert_ready_ok!(service1.poll_ready());
    assert_ready_ok!(service2.poll_ready(), "service1 holds one place of two");
    assert_pending!(service3.poll_ready(), "both places are reserved");

    let mut response = task::spawn(service1.call("hello"));
    assert!(!service3.is_woken(), "the request still takes a place");
    assert_pending!(worker.poll());
    assert!(
        service3.is_woken(),
        "the worker took the request: a place is free"
    );
    assert_ready_ok!(service3.poll_ready());

    handle.allow(1);
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}
