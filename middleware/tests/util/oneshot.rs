//! `ServiceExt::oneshot` / `Oneshot`.

use donjon::util::{Oneshot, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Counting, Echo, PendingOnce, Unanswered};

#[test]
fn oneshot_calls_the_service_only_after_it_reported_ready() {
    // `PendingOnce` panics if called before its `poll_ready` said `Ready`.
    let service = Counting::new(PendingOnce::new());
    let counts = service.counts();

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());
    assert!(oneshot.is_woken(), "the service woke the task itself");
    assert_eq!(counts.calls(), 0, "not called while not ready");

    assert_eq!(assert_ready_ok!(oneshot.poll()), "hello");
    assert_eq!(counts.poll_ready(), 2);
    assert_eq!(counts.calls(), 1);
}

#[tokio::test]
async fn oneshot_drives_the_service_to_readiness_when_awaited() {
    let response = PendingOnce::new().oneshot(7_u32).await.unwrap();
    assert_eq!(response, 7);
}

#[tokio::test]
async fn oneshot_waits_for_capacity_then_sends_the_request_and_resolves_to_the_response() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());
    assert!(
        handle.poll_request().is_pending(),
        "nothing sent before ready"
    );

    handle.allow(1);
    assert!(oneshot.is_woken());
    assert_pending!(oneshot.poll(), "waiting for the response");

    let send_response = assert_request_eq!(handle, "hello");
    assert!(!oneshot.is_woken());
    send_response.send_response("world");
    assert!(oneshot.is_woken());
    assert_eq!(assert_ready_ok!(oneshot.poll()), "world");
}

#[test]
fn oneshot_resolves_to_the_readiness_error() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());

    handle.send_error("boom");
    assert!(oneshot.is_woken());
    assert_eq!(assert_ready_err!(oneshot.poll()).to_string(), "boom");
    assert!(
        handle.poll_request().is_pending(),
        "the request never reached the mock"
    );
}

#[tokio::test]
async fn oneshot_resolves_to_the_response_error() {
    let (service, mut handle) = mock::pair::<&str, &str>();

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());
    assert_request_eq!(handle, "hello").send_error("failed");

    assert!(oneshot.is_woken());
    assert_eq!(assert_ready_err!(oneshot.poll()).to_string(), "failed");
}

#[test]
fn oneshot_fails_with_closed_when_the_mock_handle_is_dropped_before_the_call() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());

    drop(handle);
    assert!(oneshot.is_woken());
    let error = assert_ready_err!(oneshot.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn oneshot_fails_with_closed_when_the_request_is_dropped_unanswered() {
    let (service, mut handle) = mock::pair::<&str, &str>();

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());
    drop(assert_request_eq!(handle, "hello"));

    assert!(oneshot.is_woken());
    let error = assert_ready_err!(oneshot.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn dropping_the_oneshot_after_the_call_leaves_the_request_with_the_mock() {
    let (service, mut handle) = mock::pair::<&str, &str>();

    let mut oneshot = task::spawn(service.oneshot("hello"));
    assert_pending!(oneshot.poll());
    drop(oneshot);

    // The request was sent before the caller gave up; answering it is
    // harmless, and the service went with the future.
    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert!(handle.next_request().await.is_none());
}

#[test]
fn dropping_an_unpolled_oneshot_never_calls_the_service() {
    let (service, mut handle) = mock::pair::<&str, &str>();
    let oneshot = service.oneshot("hello");
    drop(oneshot);
    assert!(
        matches!(handle.poll_request(), std::task::Poll::Ready(None)),
        "no request, and the service was dropped"
    );
}

#[test]
#[should_panic(expected = "polled after complete")]
fn oneshot_panics_when_polled_after_it_resolved() {
    let mut oneshot = task::spawn(Echo.oneshot(1_u8));
    assert_ready_ok!(oneshot.poll());
    let _ = oneshot.poll();
}

#[test]
fn oneshot_debug_shows_each_state() {
    let mut oneshot = task::spawn(Oneshot::new(Unanswered, 5_u8));
    assert_eq!(
        oneshot.enter(|_, oneshot| format!("{oneshot:?}")),
        "Oneshot { state: State::NotReady(Unanswered, 5) }"
    );

    assert_pending!(oneshot.poll());
    assert_eq!(
        oneshot.enter(|_, oneshot| format!("{oneshot:?}")),
        r#"Oneshot { state: State::Called("S::Future") }"#
    );

    let mut oneshot = task::spawn(Oneshot::new(Echo, 5_u8));
    assert_ready_ok!(oneshot.poll());
    assert_eq!(
        oneshot.enter(|_, oneshot| format!("{oneshot:?}")),
        "Oneshot { state: State::Done }"
    );
}
