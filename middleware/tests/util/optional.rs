//! `Optional`, its response future and its `None` error.

use donjon::BoxError;
use donjon::util::Optional;
use donjon::util::error::optional::None as Missing;
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, assert_readiness_follows_mock};

type MockService = Mock<&'static str, &'static str>;

#[test]
fn optional_with_a_service_follows_its_readiness() {
    let (mut service, mut handle) = mock::spawn_with(|mock: MockService| Optional::new(Some(mock)));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn optional_with_a_service_forwards_requests_and_responses() {
    let (mut service, mut handle) = mock::spawn_with(|mock: MockService| Optional::new(Some(mock)));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn optional_with_a_service_boxes_its_errors_unchanged() {
    let (mut service, mut handle) = mock::spawn_with(|mock: MockService| Optional::new(Some(mock)));

    handle.send_error("boom");
    let error: BoxError = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "boom");

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.to_string(), "failed");
    assert!(!error.is::<Missing>());
}

#[test]
fn optional_with_a_service_reports_closed_when_the_mock_handle_is_dropped() {
    let (mut service, handle) = mock::spawn_with(|mock: MockService| Optional::new(Some(mock)));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn optional_with_a_service_dropped_response_future_leaves_the_request_with_the_mock() {
    let (mut service, mut handle) = mock::spawn_with(|mock: MockService| Optional::new(Some(mock)));
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_ready_ok!(service.poll_ready(), "the service stays usable");
}

#[test]
fn optional_without_a_service_is_always_ready() {
    let mut service = Spawn::new(Optional::new(None::<MockService>));
    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
    }
    assert!(!service.is_woken());
}

#[test]
fn optional_without_a_service_fails_each_call_at_once_with_none() {
    let mut service = Spawn::new(Optional::new(None::<MockService>));
    for _ in 0..2 {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        let error = assert_ready_err!(response.poll());
        assert!(error.is::<Missing>(), "unexpected error: {error}");
        assert_eq!(error.to_string(), "None");
    }
}

#[test]
fn optional_debug_shows_the_inner_option() {
    let service = Optional::new::<u8>(Some(Echo));
    assert_eq!(format!("{service:?}"), "Optional { inner: Some(Echo) }");
    let service = Optional::new::<u8>(None::<Echo>);
    assert_eq!(format!("{service:?}"), "Optional { inner: None }");
}

#[test]
fn optional_none_error_is_a_std_error() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Missing>();
}
