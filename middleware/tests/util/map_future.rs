//! `MapFuture` / `MapFutureLayer` / `ServiceExt::map_future`.

use std::any::type_name_of_val;

use donjon::util::{MapFuture, MapFutureLayer, ServiceExt};
use donjon::{BoxError, Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed, future::ResponseFuture};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{AppError, Echo, Tally, assert_readiness_follows_mock};

type MockFuture = ResponseFuture<&'static str>;

/// Wraps the mock's future into one that answers with the length and marks
/// errors as mapped.
fn measure(future: MockFuture) -> BoxFuture<'static, Result<usize, AppError>> {
    async move {
        future
            .await
            .map(str::len)
            .map_err(|error| AppError::Mapped(error.to_string()))
    }
    .boxed()
}

/// A `Service` over a fresh mock whose futures go through `measure`,
/// counting the closure's runs.
macro_rules! counted_measure {
    ($tally:expr) => {{
        let closure_tally = $tally.clone();
        mock::spawn_with::<&str, &str, _, _>(move |mock| {
            let closure_tally = closure_tally.clone();
            mock.map_future(move |future| {
                closure_tally.bump();
                measure(future)
            })
        })
    }};
}

#[test]
fn map_future_follows_the_inner_readiness() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapFutureLayer::new(measure));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn map_future_hands_the_inner_future_to_the_closure_at_call_time() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_eq!(tally.get(), 1, "run by `call`, before the future is polled");
    assert_pending!(response.poll());

    assert_request_eq!(handle, "hello").send_response("four");
    assert!(
        response.is_woken(),
        "the wrapped future still gets wake-ups"
    );
    assert_eq!(assert_ready_ok!(response.poll()), 4);
    assert_eq!(tally.get(), 1);
}

#[tokio::test]
async fn map_future_response_error_goes_through_the_returned_future() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    let error = assert_ready_err!(response.poll());
    assert!(
        matches!(&error, AppError::Mapped(text) if text == "failed"),
        "{error:?}"
    );
}

#[test]
fn map_future_converts_readiness_errors_with_from_without_running_the_closure() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);

    handle.send_error("boom");
    let error = assert_ready_err!(service.poll_ready());
    assert!(
        matches!(&error, AppError::Converted(inner) if inner.to_string() == "boom"),
        "{error:?}"
    );
    assert_eq!(tally.get(), 0);
}

#[test]
fn map_future_converts_closed_when_the_mock_handle_is_dropped() {
    let tally = Tally::new();
    let (mut service, handle) = counted_measure!(tally);
    drop(handle);

    let error = assert_ready_err!(service.poll_ready());
    assert!(
        matches!(&error, AppError::Converted(inner) if inner.is::<Closed>()),
        "{error:?}"
    );
    assert_eq!(tally.get(), 0);
}

#[tokio::test]
async fn map_future_dropped_response_future_leaves_the_request_with_the_mock() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));

    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_eq!(tally.get(), 1);
    assert_ready_ok!(service.poll_ready(), "the service stays usable");
}

#[test]
fn map_future_gives_access_to_the_inner_service() {
    let mut service = MapFuture::new(Echo, |future: std::future::Ready<Result<u8, BoxError>>| {
        future
    });
    assert_eq!(*service.get_ref(), Echo);
    assert_eq!(*service.get_mut(), Echo);
    assert_eq!(service.into_inner(), Echo);
}

#[test]
fn map_future_layer_helper_builds_the_same_layer() {
    let layer = MapFuture::<Echo, _>::layer(|future: std::future::Ready<Result<u8, BoxError>>| {
        future.map(|result| result.map(|n| n + 1))
    });
    let mut service = layer.layer(Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1)).poll()), 2);
}

#[test]
fn map_future_debug_shows_the_closure_type_name() {
    let closure = |future: std::future::Ready<Result<u8, BoxError>>| future;
    let name = type_name_of_val(&closure);
    let layer = MapFutureLayer::new(closure);
    assert_eq!(
        format!("{layer:?}"),
        format!("MapFutureLayer {{ f: {name} }}")
    );

    let service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("MapFuture {{ inner: Echo, f: {name} }}")
    );
}
