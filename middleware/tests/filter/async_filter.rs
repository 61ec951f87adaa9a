//! `AsyncFilter`: readiness, the ready instance travelling with the request,
//! rejections, errors, cancellation.

use std::task::Poll;

use donjon::BoxError;
use donjon::filter::{AsyncFilter, AsyncFilterLayer, AsyncPredicate};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::Boom;
use crate::{Gated, Rejected, Slot, gate, gated};

/// An `AsyncFilter` whose checks wait for each request's gate, in front of a
/// mock.
#[expect(clippy::type_complexity, reason = "the predicate is an opaque closure")]
fn new_service() -> (
    Spawn<AsyncFilter<Mock<String, String>, impl AsyncPredicate<Gated, Request = String> + Clone>>,
    Handle<String, String>,
) {
    mock::spawn_layer(AsyncFilterLayer::new(gated()))
}

#[test]
fn poll_ready_is_ready_when_the_inner_service_is() {
    let (mut service, _handle) = new_service();
    assert_ready_ok!(service.poll_ready());
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
async fn a_request_reaches_the_inner_service_rewritten_only_after_the_check_passes() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(7);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());
    assert!(handle.poll_request().is_pending());

    open.send(true).unwrap();
    assert!(response.is_woken());
    // Checked and sent on; now waiting for the inner service.
    assert_pending!(response.poll());

    assert_request_eq!(handle, "7").send_response("seven".to_string());
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "seven");
}

#[tokio::test]
async fn the_instance_made_ready_goes_with_the_request_and_a_fresh_clone_stays() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(1);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());

    // From now on only a reservation already taken can call.
    handle.allow(0);
    // The service kept a clone without the reservation.
    assert_pending!(service.poll_ready());

    // The reserved instance calls once the check passes (an instance
    // without a reservation would make the mock panic).
    open.send(true).unwrap();
    assert_pending!(response.poll());
    assert_request_eq!(handle, "1").send_response("one".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "one");
}

#[test]
fn the_reservation_travels_with_the_request_and_is_used_when_the_check_passes() {
    let mut service = Spawn::new(AsyncFilter::new(Slot::new(), gated()));
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    assert_pending!(other.poll_ready());

    let (open, request) = gate(4);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());
    // Neither handle holds the slot: the response future does.
    assert_pending!(service.poll_ready());
    assert!(!other.is_woken());

    // Calling with it frees it (`Slot` panics when called without it).
    open.send(true).unwrap();
    assert_eq!(assert_ready_ok!(response.poll()), "4");
    assert!(other.is_woken());
    assert_ready_ok!(other.poll_ready());
}

#[test]
fn dropping_the_response_future_during_the_check_releases_the_reservation_it_carries() {
    let mut service = Spawn::new(AsyncFilter::new(Slot::new(), gated()));
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(5);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());
    assert_pending!(other.poll_ready());

    drop(response);
    // The check was dropped too.
    assert!(open.is_closed());
    // The slot is free again, and the waiting handle hears about it.
    assert!(other.is_woken());
    assert_ready_ok!(other.poll_ready());
}

#[tokio::test]
async fn dropping_the_response_future_during_the_check_drops_the_moved_service_unused() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(1);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());

    drop(response);
    assert!(open.is_closed());
    // Nothing reached the inner service...
    assert!(handle.poll_request().is_pending());

    // ...and the dropped reservation did not spend the single allowed call:
    // a new caller proceeds.
    let mut other = service.clone();
    assert_ready_ok!(other.poll_ready());
    let (open, request) = gate(2);
    let mut response = task::spawn(other.call(request));
    open.send(true).unwrap();
    assert_pending!(response.poll());
    assert_request_eq!(handle, "2").send_response("two".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "two");
    assert_pending!(service.poll_ready());

    // The moved instance was dropped, not leaked: with the remaining handles
    // gone, no mock is left.
    drop(response);
    drop(service);
    drop(other);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
}

#[tokio::test]
async fn a_predicate_error_is_returned_as_is_and_the_request_never_reaches_the_inner_service() {
    let (mut service, mut handle) = new_service();
    handle.allow(1);

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(3);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());

    open.send(false).unwrap();
    assert!(response.is_woken());
    let err = assert_ready_err!(response.poll());
    assert_eq!(err.downcast_ref::<Rejected>(), Some(&Rejected("gate shut")));
    assert!(handle.poll_request().is_pending());

    // The allowance is intact for the next request.
    drop(response);
    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(4);
    let mut response = task::spawn(service.call(request));
    open.send(true).unwrap();
    assert_pending!(response.poll());
    assert_request_eq!(handle, "4").send_response("four".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "four");
}

#[tokio::test]
async fn a_predicate_error_already_boxed_is_not_wrapped_again() {
    let positive = |n: i64| async move {
        if n > 0 {
            Ok(n)
        } else {
            Err(BoxError::from(Rejected("not positive")))
        }
    };
    let (mut service, mut handle) =
        mock::spawn_layer::<i64, i64, _>(AsyncFilterLayer::new(positive));

    assert_ready_ok!(service.poll_ready());
    let mut rejected = task::spawn(service.call(-1));
    let err = assert_ready_err!(rejected.poll());
    assert_eq!(
        err.downcast_ref::<Rejected>(),
        Some(&Rejected("not positive"))
    );

    assert_ready_ok!(service.poll_ready());
    let mut accepted = task::spawn(service.call(5));
    assert_pending!(accepted.poll());
    assert_request_eq!(handle, 5).send_response(50);
    assert_eq!(assert_ready_ok!(accepted.poll()), 50);
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
    let (open, request) = gate(6);
    let mut response = task::spawn(service.call(request));
    open.send(true).unwrap();
    assert_pending!(response.poll());

    assert_request_eq!(handle, "6").send_error(Boom("no answer"));
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
fn a_response_fails_with_closed_when_the_inner_service_goes_away_during_the_check() {
    let (mut service, handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(8);
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());

    drop(handle);
    open.send(true).unwrap();
    let err = assert_ready_err!(response.poll());
    assert!(err.is::<Closed>(), "unexpected error: {err}");
}

#[tokio::test]
async fn dropping_the_response_future_after_the_check_leaves_the_service_usable() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(1);
    let mut first = task::spawn(service.call(request));
    open.send(true).unwrap();
    assert_pending!(first.poll());
    drop(first);
    // The request had reached the inner service; answering is harmless.
    assert_request_eq!(handle, "1").send_response("one".to_string());

    // Dropped before it was ever polled: the check never ran.
    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(2);
    drop(service.call(request));
    assert!(open.is_closed());

    assert_ready_ok!(service.poll_ready());
    let (open, request) = gate(3);
    let mut last = task::spawn(service.call(request));
    open.send(true).unwrap();
    assert_pending!(last.poll());
    assert_request_eq!(handle, "3").send_response("three".to_string());
    assert_eq!(assert_ready_ok!(last.poll()), "three");
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
fn calling_without_readiness_panics_in_the_inner_service_once_the_check_passes() {
    let (mut service, _handle) = new_service();
    let (open, request) = gate(1);
    // The call itself only starts the check.
    let mut response = task::spawn(service.call(request));
    assert_pending!(response.poll());
    open.send(true).unwrap();
    let _ = response.poll();
}
