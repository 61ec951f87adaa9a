//! `Filter`: readiness, accepted and rejected requests, errors, cancellation.

use std::num::ParseIntError;
use std::task::Poll;

use donjon::BoxError;
use donjon::filter::{Filter, FilterLayer, Predicate};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::Boom;
use crate::{Rejected, parse};

/// A `Filter` parsing text into numbers, in front of a mock.
#[expect(clippy::type_complexity, reason = "the predicate is an opaque closure")]
fn new_service() -> (
    Spawn<Filter<Mock<u32, String>, impl Predicate<&'static str, Request = u32> + Clone>>,
    Handle<u32, String>,
) {
    mock::spawn_layer(FilterLayer::new(parse()))
}

#[test]
fn poll_ready_is_ready_when_the_inner_service_is() {
    let (mut service, _handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    // Polling again while the reservation is held stays ready.
    assert_ready_ok!(service.poll_ready());
}

#[test]
fn poll_ready_is_pending_while_the_inner_service_is_and_the_wake_up_reaches_the_caller() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);

    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn accepted_requests_reach_the_inner_service_rewritten_by_the_predicate() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("42"));
    assert_pending!(response.poll());

    assert_request_eq!(handle, 42).send_response("forty-two".to_string());
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "forty-two");
}

#[tokio::test]
async fn rejected_requests_never_reach_the_inner_service_and_fail_with_the_predicate_error() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("forty-two"));

    // Resolved at once, without waiting for the inner service.
    let err = assert_ready_err!(response.poll());
    let expected = "forty-two".parse::<u32>().unwrap_err();
    assert_eq!(err.downcast_ref::<ParseIntError>(), Some(&expected));
    assert_eq!(err.to_string(), expected.to_string());

    assert!(handle.poll_request().is_pending());
    drop(response);
    drop(service);
    // Every mock is gone and nothing was ever queued.
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[tokio::test]
async fn a_predicate_error_already_boxed_is_not_wrapped_again() {
    let positive = |n: i64| {
        if n > 0 {
            Ok(n)
        } else {
            Err(BoxError::from(Rejected("not positive")))
        }
    };
    let (mut service, mut handle) = mock::spawn_layer::<i64, i64, _>(FilterLayer::new(positive));

    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call(-1));
    let err = assert_ready_err!(rejected.poll());
    assert_eq!(
        err.downcast_ref::<Rejected>(),
        Some(&Rejected("not positive"))
    );

    let mut accepted = task::spawn(service.call(5));
    assert_request_eq!(handle, 5).send_response(50);
    assert_eq!(assert_ready_ok!(accepted.poll()), 50);
}

#[tokio::test]
async fn a_rejection_leaves_the_reservation_for_the_next_call() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call("not a number"));
    assert!(assert_ready_err!(rejected.poll()).is::<ParseIntError>());

    // No new poll_ready and no new allowance: the mock panics on a call
    // without a reservation, so this one uses the reservation taken above.
    let mut response = task::spawn(service.call("7"));
    assert_request_eq!(handle, 7).send_response("seven".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "seven");

    // That call spent the single allowed one.
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn a_rejection_keeps_the_reservation_even_when_the_allowance_is_withdrawn() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    // From now on only a reservation already taken can call.
    handle.allow(0);

    let mut rejected = task::spawn(service.call("nope"));
    assert!(assert_ready_err!(rejected.poll()).is::<ParseIntError>());

    // Still reserved: a spent reservation would make this Pending.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("8"));
    assert_request_eq!(handle, 8).send_response("eight".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "eight");

    // An accepted call does use the reservation up.
    assert_pending!(service.poll_ready());
}

#[test]
fn an_inner_readiness_error_is_returned_boxed_but_not_wrapped() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);
    assert_pending!(service.poll_ready());

    handle.send_error(Boom("not ready"));
    assert!(service.is_woken());
    let err = assert_ready_err!(service.poll_ready());
    assert_eq!(err.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

#[tokio::test]
async fn an_inner_response_error_is_returned_boxed_but_not_wrapped() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("3"));
    assert_pending!(response.poll());

    assert_request_eq!(handle, 3).send_error(Boom("no answer"));
    assert!(response.is_woken());
    let err = assert_ready_err!(response.poll());
    assert_eq!(err.downcast_ref::<Boom>(), Some(&Boom("no answer")));
}

#[test]
fn poll_ready_fails_with_closed_once_the_inner_service_is_gone() {
    let (mut service, mut handle) = new_service();
    handle.allow(0);
    assert_pending!(service.poll_ready());

    drop(handle);
    assert!(service.is_woken());
    let err = assert_ready_err!(service.poll_ready());
    assert!(err.is::<Closed>(), "unexpected error: {err}");
}

#[test]
fn a_response_fails_with_closed_when_the_inner_service_goes_away_before_answering() {
    let (mut service, handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("9"));
    assert_pending!(response.poll());

    // The queued request and its responder go with the handle.
    drop(handle);
    assert!(response.is_woken());
    let err = assert_ready_err!(response.poll());
    assert!(err.is::<Closed>(), "unexpected error: {err}");
}

#[tokio::test]
async fn dropping_a_response_future_early_leaves_the_service_usable() {
    let (mut service, mut handle) = new_service();

    // Dropped while the inner service works on it.
    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("1"));
    assert_pending!(first.poll());
    drop(first);
    // The request had already reached the inner service; answering a
    // dropped future is harmless.
    assert_request_eq!(handle, 1).send_response("one".to_string());

    // Dropped before it was ever polled, accepted or rejected.
    assert_ready_ok!(service.poll_ready());
    drop(service.call("2"));
    assert_request_eq!(handle, 2).send_response("two".to_string());
    drop(service.call("two"));

    // The service still works, nothing hangs.
    assert_ready_ok!(service.poll_ready());
    let mut last = task::spawn(service.call("3"));
    assert_request_eq!(handle, 3).send_response("three".to_string());
    assert_eq!(assert_ready_ok!(last.poll()), "three");
}

#[tokio::test]
async fn the_predicate_keeps_its_state_and_runs_once_per_call() {
    let mut seen = Vec::new();
    let numbered = move |text: &'static str| {
        seen.push(text);
        Ok::<_, Rejected>(format!("{}:{text}", seen.len()))
    };
    let (mut service, mut handle) = mock::spawn_layer::<String, (), _>(FilterLayer::new(numbered));

    for (text, expected) in [("a", "1:a"), ("b", "2:b"), ("c", "3:c")] {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(text));
        assert_request_eq!(handle, expected).send_response(());
        assert_ready_ok!(response.poll());
    }
}

#[test]
fn a_clone_does_not_inherit_the_reservation() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    handle.allow(0);

    let mut clone = service.clone();
    assert_pending!(clone.poll_ready());
    assert_ready_ok!(service.poll_ready());
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn calling_without_readiness_reaches_the_inner_service_which_panics() {
    let (mut service, _handle) = new_service();
    let _response = service.call("1");
}

#[test]
fn a_rejected_call_without_readiness_does_not_touch_the_inner_service() {
    let (mut service, mut handle) = new_service();
    let mut response = task::spawn(service.call("x"));
    assert!(assert_ready_err!(response.poll()).is::<ParseIntError>());
    assert!(handle.poll_request().is_pending());
}
