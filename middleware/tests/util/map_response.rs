//! `MapResponse` / `MapResponseLayer` / `ServiceExt::map_response`.

use std::any::type_name_of_val;

use donjon::util::{MapResponse, MapResponseLayer, ServiceExt};
use donjon::{Layer, Service};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, Tally, assert_readiness_follows_mock};

#[test]
fn map_response_follows_the_inner_readiness() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapResponseLayer::new(str::len));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn map_response_rewrites_the_successful_response() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapResponseLayer::new(str::len));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("four");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), 4);
}

#[test]
fn map_response_passes_readiness_errors_through_unchanged() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_response(move |response: &str| {
            closure_tally.bump();
            response.len()
        })
    });

    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
    assert_eq!(tally.get(), 0);
}

#[tokio::test]
async fn map_response_skips_the_closure_on_a_response_error() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_response(move |response: &str| {
            closure_tally.bump();
            response.len()
        })
    });
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error("failed");
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "failed");
    assert_eq!(tally.get(), 0);
}

#[test]
fn map_response_reports_closed_when_the_mock_handle_is_dropped() {
    let (mut service, handle) = mock::spawn_layer::<&str, &str, _>(MapResponseLayer::new(str::len));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn map_response_runs_the_closure_once_per_completed_call() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_response(move |response: &str| {
            closure_tally.bump();
            response.len()
        })
    });

    for (round, text) in [(1, "one"), (2, "three")] {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(text));
        assert_pending!(response.poll());
        assert_pending!(response.poll());
        assert_eq!(
            tally.get(),
            round - 1,
            "not run while the response is pending"
        );

        assert_request_eq!(handle, text).send_response(text);
        assert_eq!(assert_ready_ok!(response.poll()), text.len());
        assert_eq!(tally.get(), round);
    }
}

#[tokio::test]
async fn map_response_gives_each_call_a_fresh_clone_of_the_closure() {
    // The closure is `FnOnce + Clone`: each call gets a copy of the original,
    // so state mutated by one call is not seen by the next.
    let mut seen = 0;
    let count = move |response: &'static str| {
        seen += 1;
        (seen, response)
    };
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(MapResponseLayer::new(count));

    for text in ["a", "b"] {
        assert_ready_ok!(service.poll_ready());
        let response = service.call(text);
        assert_request_eq!(handle, text).send_response(text);
        assert_eq!(response.await.unwrap(), (1, text));
    }
}

#[tokio::test]
async fn map_response_dropped_response_future_never_runs_the_closure() {
    let tally = Tally::new();
    let closure_tally = tally.clone();
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(move |mock| {
        let closure_tally = closure_tally.clone();
        mock.map_response(move |response: &str| {
            closure_tally.bump();
            response.len()
        })
    });
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));

    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_eq!(tally.get(), 0);
    assert_ready_ok!(service.poll_ready(), "the service stays usable");
}

#[test]
fn map_response_layer_helper_builds_the_same_layer() {
    let layer = MapResponse::<Echo, _>::layer(|n: u32| n * 10);
    let mut service = layer.layer(Echo);
    assert_eq!(assert_ready_ok!(task::spawn(service.call(4)).poll()), 40);
}

#[test]
fn map_response_debug_shows_the_closure_type_name_and_an_opaque_future() {
    let closure = |n: u32| n * 10;
    let name = type_name_of_val(&closure);
    let layer = MapResponseLayer::new(closure);
    assert_eq!(
        format!("{layer:?}"),
        format!("MapResponseLayer {{ f: {name} }}")
    );

    let mut service = layer.layer(Echo);
    assert_eq!(
        format!("{service:?}"),
        format!("MapResponse {{ inner: Echo, f: {name} }}")
    );
    assert_eq!(format!("{:?}", service.call(1)), "MapResponseFuture(...)");
}
