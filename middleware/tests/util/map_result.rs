//! `MapResult` / `MapResultLayer` / `ServiceExt::map_result`.

use std::any::type_name_of_val;

use donjon::util::{MapResult, MapResultLayer, ServiceExt};
use donjon::{BoxError, Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{AppError, Echo, Tally, assert_readiness_follows_mock};

/// Successes become their length; errors are marked as mapped.
fn measure(result: Result<&str, BoxError>) -> Result<usize, AppError> {
    result
        .map(str::len)
        .map_err(|error| AppError::Mapped(error.to_string()))
}

/// A `Service` over a fresh mock whose results go through `measure`,
/// counting the closure's runs.
macro_rules! counted_measure {
    ($tally:expr) => {{
        let closure_tally = $tally.clone();
        mock::spawn_with::<&str, &str, _, _>(move |mock| {
            let closure_tally = closure_tally.clone();
            mock.map_result(move |result| {
                closure_tally.bump();
                measure(result)
            })
        })
    }};
}

#[test]
fn map_result_follows_the_inner_readiness() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapResultLayer::new(measure));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn map_result_rewrites_a_successful_response() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_eq!(tally.get(), 0, "not run while the response is pending");
    assert_request_eq!(handle, "hello").send_response("four");
    assert_eq!(assert_ready_ok!(response.poll()), 4);
    assert_eq!(tally.get(), 1);
}

#[tokio::test]
async fn map_result_rewrites_a_response_error() {
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
    assert_eq!(tally.get(), 1);
}

#[tokio::test]
async fn map_result_can_turn_an_error_into_a_response() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(MapResultLayer::new(
        |result: Result<&'static str, BoxError>| Ok::<_, BoxError>(result.unwrap_or("fallback")),
    ));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_ok!(response.poll()), "fallback");
}

#[test]
fn map_result_converts_readiness_errors_with_from_without_running_the_closure() {
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
fn map_result_converts_closed_when_the_mock_handle_is_dropped() {
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
async fn map_result_dropped_response_future_never_runs_the_closure() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));

    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_eq!(tally.get(), 0);
}

#[test]
fn map_result_layer_helper_builds_the_same_layer() {
    let layer = MapResult::<Echo, _>::layer(|result: Result<u8, BoxError>| result.map(|n| n + 1));
    let mut service = layer.layer(Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1)).poll()), 2);
}

#[test]
fn map_result_debug_shows_the_closure_type_name_and_an_opaque_future() {
    let closure = |result: Result<u8, BoxError>| result;
    let name = type_name_of_val(&closure);
    let layer = MapResultLayer::new(closure);
    assert_eq!(
        format!("{layer:?}"),
        format!("MapResultLayer {{ f: {name} }}")
    );

    let mut service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("MapResult {{ inner: Echo, f: {name} }}")
    );
    assert_eq!(format!("{:?}", service.call(1)), "MapResultFuture(...)");
}
