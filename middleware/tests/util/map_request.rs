//! `MapRequest` / `MapRequestLayer` / `ServiceExt::map_request`.

use std::any::type_name_of_val;

use donjon::util::{MapRequest, MapRequestLayer, ServiceExt};
use donjon::{Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, Tally, assert_readiness_follows_mock};

#[test]
fn map_request_follows_the_inner_readiness() {
    let (mut service, mut handle) =
        mock::spawn_layer::<String, &str, _>(MapRequestLayer::new(|n: u32| n.to_string()));
    assert_readiness_follows_mock::<u32, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn map_request_rewrites_the_request_before_the_inner_service_sees_it() {
    let (mut service, mut handle) =
        mock::spawn_layer::<String, &str, _>(MapRequestLayer::new(|n: u32| n.to_string()));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call(42));
    assert_request_eq!(handle, "42".to_string()).send_response("answer");
    assert_eq!(assert_ready_ok!(response.poll()), "answer");
}

#[test]
fn map_request_passes_readiness_errors_through_unchanged() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_request(move |request: &'static str| {
            closure_tally.bump();
            request
        })
    });

    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
    assert_eq!(tally.get(), 0);
}

#[tokio::test]
async fn map_request_passes_response_errors_through_unchanged() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapRequestLayer::new(|request: &'static str| request));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "failed");
}

#[test]
fn map_request_reports_closed_when_the_mock_handle_is_dropped() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapRequestLayer::new(|request: &'static str| request));
    handle.allow(0);
    assert_pending!(service.poll_ready());

    drop(handle);
    assert!(service.is_woken());
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn map_request_runs_the_closure_at_call_time_and_keeps_its_state() {
    // `f` is an `FnMut` held by the service, not cloned per call: state it
    // keeps carries over from one call to the next.
    let mut calls = 0;
    let (mut service, mut handle) = mock::spawn_with::<(u32, &str), &str, _, _>(|mock| {
        mock.map_request(move |request: &'static str| {
            calls += 1;
            (calls, request)
        })
    });

    for (expected, request) in [(1, "a"), (2, "b"), (3, "c")] {
        assert_ready_ok!(service.poll_ready());
        let response = service.call(request);
        assert_request_eq!(handle, (expected, request)).send_response("ok");
        assert_eq!(response.await.unwrap(), "ok");
    }
}

#[tokio::test]
async fn map_request_dropped_response_future_leaves_the_request_with_the_mock() {
    let (mut service, mut handle) =
        mock::spawn_layer::<String, &str, _>(MapRequestLayer::new(|n: u32| n.to_string()));
    assert_ready_ok!(service.poll_ready());
    drop(service.call(7));

    assert_request_eq!(handle, "7".to_string()).send_response("nobody listens");
    assert_ready_ok!(service.poll_ready(), "the service stays usable");
}

#[test]
fn map_request_clones_start_without_the_original_reservation() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let service = MapRequest::new(mock, |request: &'static str| request);
    let mut original = mock::Spawn::new(service);
    assert_ready_ok!(original.poll_ready());

    let mut clone = original.clone();
    handle.allow(0);
    assert_pending!(
        clone.poll_ready(),
        "the clone has no reservation of its own"
    );
    assert_ready_ok!(original.poll_ready(), "the original keeps its reservation");
}

#[test]
fn map_request_layer_helper_builds_the_same_layer() {
    let layer = MapRequest::<Echo, _>::layer(|n: u32| n + 1);
    let mut service = layer.layer(Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(1)).poll()), 2);
}

#[test]
fn map_request_debug_shows_the_inner_service_and_the_closure_type_name() {
    let closure = |n: u32| n + 1;
    let name = type_name_of_val(&closure);
    let layer = MapRequestLayer::new(closure);
    assert_eq!(
        format!("{layer:?}"),
        format!("MapRequestLayer {{ f: {name} }}")
    );

    let service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("MapRequest {{ inner: Echo, f: {name} }}")
    );
}
