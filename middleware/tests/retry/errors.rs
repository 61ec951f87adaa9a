//! Inner errors reach the caller unchanged (`Retry` does not box them), a
//! readiness error between attempts ends the response, and a closed inner
//! service (the mock's handle dropped) fails callers instead of hanging.

use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::retry::Retry;
use donjon::{BoxError, Service, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, Counting};
use crate::{PLENTY, Req, Res, RetryErrors, new_service};

/// Fails with `Boom`, whose type is its error type (not boxed): readiness
/// with `Boom("readiness")` unless `ready`, every response with
/// `Boom("response")`.
#[derive(Clone, Copy, Debug)]
struct Failing {
    ready: bool,
}

impl Service<Req> for Failing {
    type Response = Res;
    type Error = Boom;
    type Future = Ready<Result<Res, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        if self.ready {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(Boom("readiness")))
        }
    }

    fn call(&mut self, _: Req) -> Self::Future {
        ready(Err(Boom("response")))
    }
}

/// Checks at compile time that `S` answers `Req` with `Res` and fails with
/// exactly `E`.
fn assert_error_type<S, E>(_: &S)
where
    S: Service<Req, Response = Res, Error = E>,
{
}

#[test]
fn the_error_type_is_the_inner_services() {
    let (mock, _handle) = mock::pair::<Req, Res>();
    assert_error_type::<_, BoxError>(&Retry::new(RetryErrors::new(1), mock));
    assert_error_type::<_, Boom>(&Retry::new(RetryErrors::new(1), Failing { ready: true }));
}

#[tokio::test]
async fn response_errors_keep_their_type_and_value_after_the_last_retry() {
    let inner = Counting::new(Failing { ready: true });
    let counts = inner.counts();
    let service = Retry::new(RetryErrors::new(2), inner);

    let error: Boom = service.oneshot("hello").await.unwrap_err();
    assert_eq!(error, Boom("response"));
    assert_eq!(counts.calls(), 3, "the first attempt and two retries");
    assert_eq!(
        counts.poll_ready(),
        3,
        "readiness is checked before every attempt"
    );
}

#[test]
fn readiness_errors_keep_their_type_and_value() {
    let mut service = Spawn::new(Retry::new(RetryErrors::new(2), Failing { ready: false }));
    let error: Boom = assert_ready_err!(service.poll_ready());
    assert_eq!(error, Boom("readiness"));
}

#[tokio::test]
async fn a_readiness_error_of_the_mock_reaches_the_caller_unwrapped() {
    let (mut service, mut handle) = new_service(RetryErrors::new(1));

    handle.send_error(Boom("readiness"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));
}

#[tokio::test]
async fn a_response_error_the_policy_accepts_reaches_the_caller_unwrapped() {
    let (mut service, mut handle) = new_service(RetryErrors::new(0));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error(Boom("response"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

#[tokio::test]
async fn a_readiness_error_between_attempts_ends_the_response_with_it() {
    let policy = RetryErrors::new(PLENTY);
    let seen = policy.seen();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    handle.send_error(Boom("readiness"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("readiness")));
    assert_eq!(seen.retries(), 1, "the policy saw only the first attempt");
    assert_pending!(handle.poll_request(), "no second attempt was sent");
}

#[tokio::test]
async fn a_dropped_inner_service_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service(RetryErrors::new(1));

    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "expected Closed, got {error}");
}

#[tokio::test]
async fn an_inner_service_dropped_during_an_attempt_ends_the_response_with_closed() {
    // A policy with retries to spare stops at once: the retry finds the
    // inner service closed.
    let policy = RetryErrors::new(PLENTY);
    let seen = policy.seen();
    let (mut service, handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    drop(handle);
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "expected Closed, got {error}");
    assert_eq!(
        seen.retries(),
        1,
        "the failed attempt was offered for retry"
    );
}

#[tokio::test]
async fn an_inner_service_dropped_while_a_retry_waits_wakes_and_fails_it_with_closed() {
    let (mut service, mut handle) = new_service(RetryErrors::new(PLENTY));

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(response.poll(), "waiting for the mock to be ready");

    drop(handle);
    assert!(response.is_woken(), "closing the mock wakes the response");
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "expected Closed, got {error}");
}
