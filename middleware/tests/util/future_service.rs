//! `future_service` / `FutureService`.

use std::any::type_name;
use std::future::{Ready, ready};

use donjon::BoxError;
use donjon::util::{FutureService, future_service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, Spawn, error::Closed};
use futures::FutureExt;
use futures::channel::oneshot;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, assert_readiness_follows_mock};

type MockService = Mock<&'static str, &'static str>;

#[tokio::test]
async fn future_service_is_not_ready_until_its_future_produces_the_service() {
    let (tx, rx) = oneshot::channel::<Result<MockService, BoxError>>();
    let make = rx.map(|sent| sent.expect("the sender is kept until it sends"));
    let mut service = Spawn::new(future_service(make));

    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    let (mock, mut handle) = mock::pair();
    tx.send(Ok(mock)).unwrap();
    assert!(
        service.is_woken(),
        "the future's wake-up reaches the caller"
    );
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn future_service_follows_the_readiness_of_the_produced_service() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = Spawn::new(future_service(ready(Ok::<_, BoxError>(mock))));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[test]
fn future_service_returns_the_future_error_from_poll_ready() {
    let make = ready(Err::<MockService, BoxError>("cannot connect".into()));
    let mut service = Spawn::new(future_service(make));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.to_string(), "cannot connect");
}

#[test]
fn future_service_returns_the_produced_service_readiness_error() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = Spawn::new(future_service(ready(Ok::<_, BoxError>(mock))));
    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
}

#[test]
fn future_service_fails_with_closed_when_the_produced_mock_is_orphaned() {
    let (mock, handle) = mock::pair::<&str, &str>();
    let mut service = Spawn::new(future_service(ready(Ok::<_, BoxError>(mock))));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn future_service_response_error_reaches_the_caller() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = Spawn::new(future_service(ready(Ok::<_, BoxError>(mock))));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "failed");
}

#[test]
#[should_panic(expected = "FutureService::call was called before FutureService::poll_ready")]
fn future_service_call_before_the_service_exists_panics() {
    let (_tx, rx) = oneshot::channel::<Result<MockService, BoxError>>();
    let make = rx.map(|sent| sent.expect("never sent"));
    let mut service = future_service(make);
    drop(donjon::Service::call(&mut service, "too early"));
}

type ReadyEcho = Ready<Result<Echo, BoxError>>;

#[test]
fn future_service_debug_names_the_future_type_then_shows_the_service() {
    let mut service = Spawn::new(FutureService::<ReadyEcho, Echo>::new(ready(Ok(Echo))));
    assert_eq!(
        format!("{:?}", service.get_ref()),
        format!(
            "FutureService {{ state: State::Future(<{}>) }}",
            type_name::<ReadyEcho>()
        ),
    );

    assert_ready_ok!(service.poll_ready::<u8>());
    assert_eq!(
        format!("{:?}", service.get_ref()),
        "FutureService { state: State::Service(Echo) }"
    );
}

#[test]
fn future_service_debug_type_name_is_the_full_future_path() {
    let service = FutureService::<ReadyEcho, Echo>::new(ready(Ok(Echo)));
    let text = format!("{service:?}");
    assert!(
        text.starts_with("FutureService { state: State::Future(<core::future::ready::Ready<"),
        "{text}"
    );
}
