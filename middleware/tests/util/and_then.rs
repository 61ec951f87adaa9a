//! `AndThen` / `AndThenLayer` / `ServiceExt::and_then`.

use std::any::type_name_of_val;
use std::future::{Ready, ready};

use donjon::util::{AndThen, AndThenLayer, ServiceExt};
use donjon::{BoxError, Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use futures::channel::oneshot;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{AppError, Echo, Tally, assert_readiness_follows_mock};

/// Successes become their length; a response of "reject" fails instead.
fn measure(response: &str) -> Ready<Result<usize, AppError>> {
    ready(match response {
        "reject" => Err(AppError::Mapped("rejected".to_string())),
        text => Ok(text.len()),
    })
}

/// A `Service` over a fresh mock whose responses go through `measure`,
/// counting the closure's runs.
macro_rules! counted_measure {
    ($tally:expr) => {{
        let closure_tally = $tally.clone();
        mock::spawn_with::<&str, &str, _, _>(move |mock| {
            let closure_tally = closure_tally.clone();
            mock.and_then(move |response| {
                closure_tally.bump();
                measure(response)
            })
        })
    }};
}

#[test]
fn and_then_follows_the_inner_readiness() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(AndThenLayer::new(measure));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn and_then_runs_the_closure_on_a_successful_response() {
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
async fn and_then_resolves_to_the_error_of_the_closure_future() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("reject");
    let error = assert_ready_err!(response.poll());
    assert!(
        matches!(&error, AppError::Mapped(text) if text == "rejected"),
        "{error:?}"
    );
}

#[tokio::test]
async fn and_then_skips_the_closure_on_a_response_error_and_converts_it() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    let error = assert_ready_err!(response.poll());
    assert!(
        matches!(&error, AppError::Converted(inner) if inner.to_string() == "failed"),
        "{error:?}"
    );
    assert_eq!(tally.get(), 0);
}

#[tokio::test]
async fn and_then_waits_for_the_future_the_closure_returns() {
    let (tx, rx) = oneshot::channel::<usize>();
    let rx = std::sync::Arc::new(std::sync::Mutex::new(Some(rx)));
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let rx = rx.clone();
        mock.and_then(move |text: &'static str| {
            let rx = rx.lock().unwrap().take().expect("called once");
            async move { Ok::<_, BoxError>(text.len() + rx.await?) }
        })
    });
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("four");
    assert_pending!(
        response.poll(),
        "the inner response is in, the closure's future is not"
    );

    tx.send(100).unwrap();
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), 104);
}

#[test]
fn and_then_converts_readiness_errors_with_into_without_running_the_closure() {
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
fn and_then_converts_closed_when_the_mock_handle_is_dropped() {
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
async fn and_then_dropped_response_future_never_runs_the_closure() {
    let tally = Tally::new();
    let (mut service, mut handle) = counted_measure!(tally);
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));

    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_eq!(tally.get(), 0);
}

#[test]
fn and_then_layer_helper_builds_the_same_layer() {
    let layer = AndThen::<Echo, _>::layer(|n: u8| ready(Ok::<_, BoxError>(n + 1)));
    let mut service = layer.layer(Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1)).poll()), 2);
}

#[test]
fn and_then_debug_shows_the_closure_type_name_and_an_opaque_future() {
    let closure = |n: u8| ready(Ok::<_, BoxError>(n));
    let name = type_name_of_val(&closure);
    let layer = AndThenLayer::new(closure);
    assert_eq!(
        format!("{layer:?}"),
        format!("AndThenLayer {{ f: {name} }}")
    );

    let mut service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("AndThen {{ inner: Echo, f: {name} }}")
    );
    assert_eq!(format!("{:?}", service.call(1)), "AndThenFuture(...)");
}
