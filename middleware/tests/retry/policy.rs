//! How `Retry` uses its policy: a copy of the request for each attempt,
//! `retry` only for copied requests, the request and result as the policy
//! leaves them, and a policy clone of its own for each response future that
//! may retry (none for a request the policy does not copy).

use std::future::{Ready, ready};

use donjon::BoxError;
use donjon::retry::{Policy, RetryLayer};
use donjon_test::assert_request_eq;
use donjon_test::mock;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::{Req, Res, RetryErrors, Seen, new_service};

/// Retries errors once, sending "last" instead; refuses to copy "last", so
/// the retry is the last attempt.
#[derive(Clone, Debug, Default)]
struct LastAttempt {
    seen: Seen,
}

impl Policy<Req, Res, BoxError> for LastAttempt {
    type Future = Ready<()>;

    fn retry(&mut self, req: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        self.seen.retries.bump();
        if result.is_err() {
            *req = "last";
            Some(ready(()))
        } else {
            None
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        self.seen.clones.bump();
        (*req != "last").then_some(*req)
    }
}

/// Retries errors up to `retries_left` times, appending a `+` to the
/// request for each retry.
#[derive(Clone, Debug)]
struct MarkRetries {
    retries_left: usize,
}

impl Policy<String, String, BoxError> for MarkRetries {
    type Future = Ready<()>;

    fn retry(
        &mut self,
        req: &mut String,
        result: &mut Result<String, BoxError>,
    ) -> Option<Ready<()>> {
        if result.is_ok() || self.retries_left == 0 {
            return None;
        }
        self.retries_left -= 1;
        req.push('+');
        Some(ready(()))
    }

    fn clone_request(&mut self, req: &String) -> Option<String> {
        Some(req.clone())
    }
}

/// Never retries; answers errors with "fallback" instead.
#[derive(Clone, Copy, Debug)]
struct Fallback;

impl Policy<Req, Res, BoxError> for Fallback {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        if result.is_err() {
            *result = Ok("fallback");
        }
        None
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(req)
    }
}

#[tokio::test]
async fn the_policy_copies_the_request_before_each_attempt_and_judges_each_outcome() {
    let policy = RetryErrors::new(2);
    let seen = policy.seen();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_eq!((seen.clones(), seen.retries()), (1, 0), "copied at call");
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(response.poll());
    assert_eq!(
        (seen.clones(), seen.retries()),
        (2, 1),
        "copied again to retry"
    );
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_eq!(
        (seen.clones(), seen.retries()),
        (2, 2),
        "the success was judged"
    );
}

#[tokio::test]
async fn retry_is_not_called_for_an_attempt_whose_request_could_not_be_copied() {
    let policy = LastAttempt::default();
    let seen = policy.seen.clone();
    let (mut service, mut handle) = new_service(policy);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "last").send_error("second");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "second");
    assert_eq!(seen.clones(), 2, "asked to copy \"hello\", then \"last\"");
    assert_eq!(seen.retries(), 1, "only the first attempt was judged");
    assert_pending!(handle.poll_request(), "no third attempt");
}

#[tokio::test]
async fn each_attempt_sends_the_request_as_the_policy_left_it() {
    let (mut service, mut handle) =
        mock::spawn_layer::<String, String, _>(RetryLayer::new(MarkRetries { retries_left: 2 }));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello".to_string()));
    assert_request_eq!(handle, "hello").send_error("first");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello+").send_error("second");
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello++").send_response("world".to_string());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn the_policy_can_turn_an_error_into_a_success() {
    let (mut service, mut handle) = new_service(Fallback);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_ok!(response.poll()), "fallback");
    assert_pending!(handle.poll_request(), "no retry");
}

#[tokio::test]
async fn each_response_future_has_its_own_attempt_allowance() {
    // One retry per request: if the requests shared the policy, the second
    // would find the allowance spent.
    let (mut service, mut handle) = new_service(RetryErrors::new(1));

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "first").send_error("first 1");
    assert_request_eq!(handle, "second").send_error("second 1");
    assert_pending!(first.poll(), "the first request is retried");
    assert_pending!(second.poll(), "the second request is retried too");
    assert_request_eq!(handle, "first").send_error("first 2");
    assert_request_eq!(handle, "second").send_error("second 2");
    assert_eq!(assert_ready_err!(first.poll()).to_string(), "first 2");
    assert_eq!(assert_ready_err!(second.poll()).to_string(), "second 2");

    // The service's own policy was not spent either.
    assert_ready_ok!(service.poll_ready());
    let mut third = task::spawn(service.call("third"));
    assert_request_eq!(handle, "third").send_error("third 1");
    assert_pending!(third.poll(), "a later request is retried as well");
    assert_request_eq!(handle, "third").send_response("done");
    assert_eq!(assert_ready_ok!(third.poll()), "done");
}

/// Copies no request, and counts its clones.
#[derive(Debug, Default)]
struct NeverCopies {
    clones: crate::support::Tally,
}

impl Clone for NeverCopies {
    fn clone(&self) -> Self {
        self.clones.bump();
        NeverCopies {
            clones: self.clones.clone(),
        }
    }
}

impl Policy<Req, Res, BoxError> for NeverCopies {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, _: &mut Result<Res, BoxError>) -> Option<Ready<()>> {
        panic!("retry is only asked about copied requests");
    }

    fn clone_request(&mut self, _: &Req) -> Option<Req> {
        None
    }
}

#[tokio::test]
async fn a_request_the_policy_does_not_copy_is_answered_without_asking_the_policy() {
    let policy = NeverCopies::default();
    let clones = policy.clones.clone();
    let (mut service, mut handle) = new_service(policy);
    let before = clones.get();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_ready_err!(response.poll(), "not retried: the error goes back");
    assert_eq!(
        clones.get(),
        before + 1,
        "the policy is cloned once per call, as tower's Retry does, copy or not"
    );
}
