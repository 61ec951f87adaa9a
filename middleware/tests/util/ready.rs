//! `ServiceExt::ready` / `Ready` and `ServiceExt::ready_oneshot` /
//! `ReadyOneshot`.

use donjon::Service;
use donjon::util::{Ready, ReadyOneshot, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Counting, Echo, PendingOnce};

#[tokio::test]
async fn ready_resolves_to_the_service_once_it_is_ready() {
    let (mut service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut ready = task::spawn(service.ready());
    assert_pending!(ready.poll());
    assert!(!ready.is_woken());

    handle.allow(1);
    assert!(ready.is_woken());
    let service = assert_ready_ok!(ready.poll());

    // The reservation taken while waiting is the one the call uses.
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn ready_oneshot_resolves_to_the_service_by_value_once_it_is_ready() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut ready = task::spawn(service.ready_oneshot());
    assert_pending!(ready.poll());

    handle.allow(1);
    assert!(ready.is_woken());
    let mut service = assert_ready_ok!(ready.poll());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn ready_polls_readiness_again_on_each_poll_until_ready() {
    let mut service = Counting::new(PendingOnce::new());
    let counts = service.counts();

    let mut ready = task::spawn(ServiceExt::<u8>::ready(&mut service));
    assert_pending!(ready.poll());
    assert!(ready.is_woken(), "the service woke the task itself");
    assert_ready_ok!(ready.poll());
    assert_eq!(counts.poll_ready(), 2);
    assert_eq!(counts.calls(), 0, "waiting for readiness never calls");
}

#[test]
fn ready_resolves_to_the_readiness_error() {
    let (mut service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut ready = task::spawn(service.ready());
    assert_pending!(ready.poll());

    handle.send_error("boom");
    assert!(ready.is_woken());
    let error = assert_ready_err!(ready.poll());
    assert_eq!(error.to_string(), "boom");
}

#[test]
fn ready_oneshot_resolves_to_the_readiness_error() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    handle.send_error("boom");

    let mut ready = task::spawn(service.ready_oneshot());
    let error = assert_ready_err!(ready.poll());
    assert_eq!(error.to_string(), "boom");
}

#[test]
fn ready_fails_with_closed_when_the_mock_handle_is_dropped_while_waiting() {
    let (mut service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut ready = task::spawn(service.ready());
    assert_pending!(ready.poll());

    drop(handle);
    assert!(
        ready.is_woken(),
        "dropping the handle wakes the waiting task"
    );
    let error = assert_ready_err!(ready.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
fn ready_oneshot_fails_with_closed_when_the_mock_handle_is_gone() {
    let (service, handle) = mock::pair::<&str, &str>();
    drop(handle);

    let mut ready = task::spawn(service.ready_oneshot());
    let error = assert_ready_err!(ready.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn dropping_a_pending_ready_future_leaves_the_service_usable() {
    let (mut service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut ready = task::spawn(service.ready());
    assert_pending!(ready.poll());
    drop(ready);

    handle.allow(1);
    let mut response = task::spawn(service.ready().await.unwrap().call("again"));
    assert_request_eq!(handle, "again").send_response("fine");
    assert_eq!(assert_ready_ok!(response.poll()), "fine");
}

#[test]
#[should_panic(expected = "poll after Poll::Ready")]
fn ready_panics_when_polled_after_it_resolved() {
    let mut service = Echo;
    let mut ready = task::spawn(ServiceExt::<u8>::ready(&mut service));
    assert_ready_ok!(ready.poll());
    let _ = ready.poll();
}

#[test]
#[should_panic(expected = "poll after Poll::Ready")]
fn ready_oneshot_panics_when_polled_after_it_resolved() {
    let mut ready = task::spawn(ServiceExt::<u8>::ready_oneshot(Echo));
    assert_ready_ok!(ready.poll());
    let _ = ready.poll();
}

#[test]
fn ready_and_ready_oneshot_can_be_built_with_new() {
    let mut service = Echo;
    let mut ready = task::spawn(Ready::<_, u8>::new(&mut service));
    assert_eq!(*assert_ready_ok!(ready.poll()), Echo);

    let mut ready = task::spawn(ReadyOneshot::<_, u8>::new(Echo));
    assert_eq!(assert_ready_ok!(ready.poll()), Echo);
}

#[test]
fn ready_oneshot_debug_shows_the_service_until_it_is_handed_out() {
    let mut ready = task::spawn(ServiceExt::<u8>::ready_oneshot(Echo));
    assert_eq!(
        format!("{:?}", *ready),
        "ReadyOneshot { inner: Some(Echo) }"
    );
    assert_ready_ok!(ready.poll());
    assert_eq!(format!("{:?}", *ready), "ReadyOneshot { inner: None }");
}

#[test]
fn ready_debug_wraps_the_ready_oneshot_debug() {
    let mut service = Echo;
    let ready = ServiceExt::<u8>::ready(&mut service);
    assert_eq!(
        format!("{ready:?}"),
        "Ready(ReadyOneshot { inner: Some(Echo) })"
    );
}
