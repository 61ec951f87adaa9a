//! `MapErr` / `MapErrLayer` / `ServiceExt::map_err`.

use std::any::type_name_of_val;

use donjon::util::{MapErr, MapErrLayer, ServiceExt};
use donjon::{BoxError, Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, Tally, assert_readiness_follows_mock};

fn describe(error: BoxError) -> String {
    format!("mapped: {error}")
}

#[test]
fn map_err_follows_the_inner_readiness() {
    let (mut service, mut handle) = mock::spawn_layer::<&str, &str, _>(MapErrLayer::new(describe));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn map_err_leaves_successful_responses_alone() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_err(move |error: BoxError| {
            closure_tally.bump();
            describe(error)
        })
    });
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_eq!(tally.get(), 0);
}

#[test]
fn map_err_applies_the_closure_to_readiness_errors() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_err(move |error: BoxError| {
            closure_tally.bump();
            describe(error)
        })
    });

    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()), "mapped: boom");
    assert_eq!(tally.get(), 1, "once for the one error");
}

#[tokio::test]
async fn map_err_applies_the_closure_once_to_a_response_error() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_err(move |error: BoxError| {
            closure_tally.bump();
            describe(error)
        })
    });
    assert_ready_ok!(service.poll_ready());
    assert_eq!(tally.get(), 0, "a successful poll_ready does not run it");

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_eq!(tally.get(), 0);
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_err!(response.poll()), "mapped: failed");
    assert_eq!(tally.get(), 1);
}

#[test]
fn map_err_hands_the_closed_error_to_the_closure_when_the_mock_handle_is_dropped() {
    let (mut service, handle) =
        mock::spawn_layer::<&str, &str, _>(MapErrLayer::new(|error: BoxError| {
            error.is::<Closed>()
        }));
    drop(handle);
    assert!(
        assert_ready_err!(service.poll_ready()),
        "the closure saw `Closed`"
    );
}

#[tokio::test]
async fn map_err_dropped_response_future_never_runs_the_closure() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_err(move |error: BoxError| {
            closure_tally.bump();
            describe(error)
        })
    });
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));

    assert_request_eq!(handle, "hello").send_error("nobody listens");
    assert_eq!(tally.get(), 0);
}

#[test]
fn map_err_layer_helper_builds_the_same_layer() {
    let layer = MapErr::<Echo, _>::layer(describe);
    let mut service = Layer::<Echo>::layer(&layer, Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1_u8)).poll()), 1);
}

#[test]
fn map_err_debug_shows_the_closure_type_name_and_an_opaque_future() {
    let closure = |error: BoxError| error.to_string();
    let name = type_name_of_val(&closure);
    let layer = MapErrLayer::new(closure);
    assert_eq!(format!("{layer:?}"), format!("MapErrLayer {{ f: {name} }}"));

    let mut service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("MapErr {{ inner: Echo, f: {name} }}")
    );
    assert_eq!(format!("{:?}", service.call(1_u8)), "MapErrFuture(...)");
}
