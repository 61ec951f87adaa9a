//! Inner errors: response errors pass through as they are; a readiness
//! error or a panic of the inner service fails every caller, now and later,
//! with a `ServiceError` carrying the cause.

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::buffer::Buffer;
use donjon::buffer::error::{Panicked, ServiceError};
use donjon::{BoxError, Service};
use donjon_test::{assert_request_eq, mock};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, Tally};
use crate::{Msg, assert_panicked, assert_service_error, new_buffer};

#[tokio::test]
async fn response_errors_reach_the_caller_with_their_own_type() {
    let (mut service, mut handle, mut worker) = new_buffer(1);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello 1").send_error(Boom("response"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
    assert!(!error.is::<ServiceError>(), "not wrapped");

    // A response error says nothing about the service: it goes on.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello 2"));
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_eq!(assert_ready_ok!(response.poll()), "world 2");
}

#[tokio::test]
async fn response_futures_are_polled_in_the_callers_task_not_by_the_worker() {
    let (mut service, mut handle, mut worker) = new_buffer(1);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(worker.poll());
    assert_pending!(response.poll());
    let answer = assert_request_eq!(handle, "hello");

    // The worker is idle and not woken by the answer: the caller is.
    assert!(!worker.is_woken());
    answer.send_response("world");
    assert!(!worker.is_woken());
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn a_readiness_error_fails_every_caller_now_and_later() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);
    let mut reserved = service.clone();
    let mut blocked = service.clone();

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("queued"));
    assert_pending!(held.poll());
    assert_pending!(queued.poll());
    assert_ready_ok!(reserved.poll_ready(), "the last place");
    assert_pending!(blocked.poll_ready());

    handle.send_error(Boom("readiness"));
    assert!(worker.is_woken());
    assert_ready!(worker.poll(), "the worker ends");
    assert_ready!(worker.poll(), "and stays ended");

    for (name, response) in [("held", &mut held), ("queued", &mut queued)] {
        assert!(response.is_woken(), "{name}");
        let error = assert_ready_err!(response.poll(), "{name}");
        let source = assert_service_error(&error, "boom: readiness");
        assert_eq!(source.downcast_ref::<Boom>(), Some(&Boom("readiness")));
    }
    assert!(blocked.is_woken());
    assert_service_error(&assert_ready_err!(blocked.poll_ready()), "boom: readiness");

    let mut late = task::spawn(reserved.call("reserved before, sent after"));
    let error = assert_ready_err!(late.poll(), "no waiting on a dead worker");
    assert_service_error(&error, "boom: readiness");

    for caller in [&mut service, &mut reserved, &mut blocked] {
        for _ in 0..2 {
            assert_service_error(&assert_ready_err!(caller.poll_ready()), "boom: readiness");
        }
    }
    let mut clone = service.clone();
    assert_service_error(&assert_ready_err!(clone.poll_ready()), "boom: readiness");

    drop(worker);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the failed service received nothing"
    );
}

#[test]
fn a_place_reserved_before_the_failure_yields_a_response_that_fails_at_once() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready(), "reserved while the worker lives");

    handle.send_error("foobar");
    assert_ready!(worker.poll());
    assert_service_error(&assert_ready_err!(held.poll()), "foobar");

    let mut late = task::spawn(service.call("late"));
    let error = assert_ready_err!(late.poll(), "no waiting on a dead worker");
    assert_service_error(&error, "foobar");
}

#[test]
#[should_panic(expected = "polled after error")]
fn polling_a_failed_response_future_again_panics() {
    let (mut service, _handle, worker) = new_buffer(1);
    assert_ready_ok!(service.poll_ready());
    drop(worker);
    let mut response = task::spawn(service.call("hello"));
    assert_ready_err!(response.poll());
    let _ = response.poll();
}

/// Where [`Panicky`] panics.
#[derive(Clone, Copy, Debug)]
enum PanicIn {
    PollReady,
    Call,
    /// In `poll_ready`, with a payload that is not a string.
    PollReadyWithNumber,
}

/// Panics in `poll_ready` or `call`, as told; counts its drops.
#[derive(Debug)]
struct Panicky {
    panic_in: PanicIn,
    /// Pending (and not woken) until this many polls have been made.
    pending_polls: usize,
    drops: Tally,
}

impl Service<Msg> for Panicky {
    type Response = Msg;
    type Error = BoxError;
    type Future = Ready<Result<Msg, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.pending_polls > 0 {
            self.pending_polls -= 1;
            return Poll::Pending;
        }
        match self.panic_in {
            PanicIn::PollReady => panic!("poll_ready exploded after {} polls", 2),
            PanicIn::PollReadyWithNumber => std::panic::panic_any(42_u32),
            PanicIn::Call => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, request: Msg) -> Self::Future {
        match self.panic_in {
            PanicIn::Call => panic!("call exploded"),
            PanicIn::PollReady | PanicIn::PollReadyWithNumber => ready(Ok(request)),
        }
    }
}

impl Drop for Panicky {
    fn drop(&mut self) {
        self.drops.bump();
    }
}

/// Sends two requests (the first held by the worker, the second queued), a
/// third handle waits for a place, then the worker is polled until the
/// service panics: checks every caller gets the panic as its error, now and
/// later.
fn check_a_panic_fails_every_caller(panic_in: PanicIn, check: impl Fn(&BoxError)) {
    let drops = Tally::new();
    let service = Panicky {
        panic_in,
        pending_polls: 1,
        drops: drops.clone(),
    };
    let (service, worker) = Buffer::pair(service, 1);
    let mut service = mock::Spawn::new(service);
    let mut worker = task::spawn(worker);
    let mut blocked = service.clone();

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(worker.poll(), "the service is not ready yet");
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("queued"));
    assert_pending!(blocked.poll_ready());

    assert_ready!(worker.poll(), "the panic ends the worker, caught");
    assert_ready!(worker.poll(), "and it stays ended");
    drop(worker);
    assert_eq!(
        drops.get(),
        1,
        "the service was dropped once, with the worker"
    );

    check(&assert_ready_err!(held.poll()));
    check(&assert_ready_err!(queued.poll()));
    assert!(blocked.is_woken());
    check(&assert_ready_err!(blocked.poll_ready()));
    check(&assert_ready_err!(service.poll_ready()));
    check(&assert_ready_err!(service.clone().poll_ready()));
}

#[test]
fn a_panic_in_poll_ready_fails_every_caller_with_its_message() {
    check_a_panic_fails_every_caller(PanicIn::PollReady, |error| {
        assert_panicked(error, "poll_ready exploded after 2 polls");
    });
}

#[test]
fn a_panic_in_call_fails_every_caller_with_its_message() {
    check_a_panic_fails_every_caller(PanicIn::Call, |error| {
        assert_panicked(error, "call exploded");
    });
}

#[test]
fn a_panic_without_a_message_still_fails_every_caller() {
    check_a_panic_fails_every_caller(PanicIn::PollReadyWithNumber, |error| {
        let failed = error
            .downcast_ref::<ServiceError>()
            .unwrap_or_else(|| panic!("expected a ServiceError, got {error:?}"));
        let source = std::error::Error::source(failed).expect("a source");
        assert!(source.is::<Panicked>(), "{source:?}");
    });
}
