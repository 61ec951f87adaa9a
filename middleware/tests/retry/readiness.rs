//! The readiness contract: `Retry::poll_ready` forwards to the inner
//! service, and the response future waits for the inner service's readiness
//! (and its wake-up) before each retry.

use donjon_test::assert_request_eq;
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::support::assert_readiness_follows_mock;
use crate::{Req, RetryErrors, new_service};

#[tokio::test]
async fn poll_ready_follows_the_inner_service_and_its_wake_ups() {
    let (mut service, mut handle) = new_service(RetryErrors::new(1));

    assert_readiness_follows_mock::<Req, _, _, _>(&mut service, &mut handle);
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    assert_pending!(
        service.poll_ready(),
        "the one call the mock allowed is spent"
    );
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn ready_reserves_one_call_that_a_clone_does_not_inherit() {
    let (mut service, mut handle) = new_service(RetryErrors::new(1));

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    assert_ready_ok!(service.poll_ready(), "polling again keeps the reservation");
    handle.allow(0);
    let mut clone = service.clone();
    assert_pending!(clone.poll_ready(), "a clone starts not ready");

    // The reservation taken before `allow(0)` still stands.
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    handle.allow(1);
    assert!(clone.is_woken(), "the waiting clone is woken");
    assert_ready_ok!(clone.poll_ready());
}

#[tokio::test]
async fn a_retry_waits_for_the_inner_service_and_is_woken_by_it() {
    let (mut service, mut handle) = new_service(RetryErrors::new(1));

    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("retry me");
    assert_pending!(response.poll(), "the mock allows no second call yet");
    assert_pending!(handle.poll_request(), "no attempt before the mock is ready");
    assert!(!response.is_woken());

    handle.allow(1);
    assert!(
        response.is_woken(),
        "the mock's wake-up reaches the response"
    );
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}
