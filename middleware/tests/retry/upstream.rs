//! The behaviours upstream's own retry tests check, in our words: retrying
//! errors, the attempt limit, policies that inspect the error, requests
//! that cannot be copied, and a policy that rewrites request and result.

use std::future::{Ready, ready};

use donjon::BoxError;
use donjon::retry::Policy;
use donjon_test::assert_request_eq;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::{PLENTY, Req, Res, RetryErrors, Seen, new_service};

/// Retries every error except the one whose text is `reject`.
#[derive(Clone, Debug)]
struct UnlessError {
    reject: &'static str,
}

impl Policy<Req, Res, BoxError> for UnlessError {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        match result {
            Err(error) if error.to_string() != self.reject => Some(ready(())),
            _ => None,
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req)
    }
}

/// Would retry anything, but never copies the request.
#[derive(Clone, Debug, Default)]
struct CannotClone {
    seen: Seen,
}

impl Policy<Req, Res, BoxError> for CannotClone {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, _: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        self.seen.retries.bump();
        Some(ready(()))
    }

    fn clone_request(&mut self, _: &Req) -> Option<Req> {
        self.seen.clones.bump();
        None
    }
}

/// Retries anything `remaining` times, sending "retrying" instead of the
/// original request; once out of retries, turns the outcome into the error
/// "out of retries".
#[derive(Clone, Debug)]
struct Mutating {
    remaining: usize,
}

impl Policy<Req, Res, BoxError> for Mutating {
    type Future = Ready<()>;

    fn retry(&mut self, req: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        if self.remaining == 0 {
            *result = Err("out of retries".into());
            return None;
        }
        self.remaining -= 1;
        *req = "retrying";
        Some(ready(()))
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req)
    }
}

#[tokio::test]
async fn an_error_is_retried_and_the_next_success_returned() {
    let (mut service, mut handle) = new_service(RetryErrors::new(PLENTY));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(response.poll(), "the error is retried");
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn after_the_allowed_retries_the_last_error_is_returned() {
    let (mut service, mut handle) = new_service(RetryErrors::new(2));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error("retry 2");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error("retry 3");
    assert_eq!(
        assert_ready_err!(response.poll()).to_string(),
        "retry 3",
        "the third error is final"
    );
    assert_pending!(handle.poll_request(), "no fourth attempt");
}

#[tokio::test]
async fn a_policy_inspecting_the_error_stops_on_the_one_it_rejects() {
    let (mut service, mut handle) = new_service(UnlessError { reject: "reject" });

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_pending!(response.poll(), "other errors are retried");
    assert_request_eq!(handle, "hello").send_error("reject");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "reject");
    assert_pending!(handle.poll_request(), "no attempt after the rejected error");
}

#[tokio::test]
async fn an_error_of_a_request_that_cannot_be_copied_is_returned_without_asking_the_policy() {
    let policy = CannotClone::default();
    let seen = policy.seen.clone();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry 1");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "retry 1");
    assert_eq!(seen.clones(), 1, "the policy was asked for a copy");
    assert_eq!(seen.retries(), 0, "retry is never called without a copy");
    assert_pending!(handle.poll_request(), "no second attempt");
}

#[tokio::test]
async fn a_request_that_cannot_be_copied_still_succeeds_on_its_first_attempt() {
    let policy = CannotClone::default();
    let seen = policy.seen.clone();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_eq!(seen.retries(), 0);
}

#[tokio::test]
async fn a_policy_rewrites_the_retried_request_and_the_final_result() {
    let (mut service, mut handle) = new_service(Mutating { remaining: 2 });

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_pending!(response.poll(), "this policy retries successes too");
    assert_request_eq!(handle, "retrying", "the rewritten request is sent").send_response("world");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "retrying").send_response("world");
    assert_eq!(
        assert_ready_err!(response.poll()).to_string(),
        "out of retries",
        "the success was rewritten into an error"
    );
    assert_pending!(handle.poll_request());
}
