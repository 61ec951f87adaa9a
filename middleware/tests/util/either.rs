//! `Either` as a service and as a layer, and `option_layer`.

use donjon::layer::util::Identity;
use donjon::util::{Either, MapRequestLayer, option_layer};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Echo, assert_readiness_follows_mock};

type MockService = Mock<&'static str, &'static str>;
type EitherMock = Either<MockService, MockService>;

#[tokio::test]
async fn either_left_sends_requests_to_the_left_service_only() {
    let (left, mut left_handle) = mock::pair();
    let (right, mut right_handle) = mock::pair::<&str, &str>();
    drop(right);
    let mut service = Spawn::new(EitherMock::Left(left));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(left_handle, "hello").send_response("from the left");
    assert_eq!(assert_ready_ok!(response.poll()), "from the left");
    assert!(right_handle.next_request().await.is_none());
}

#[tokio::test]
async fn either_right_sends_requests_to_the_right_service_only() {
    let (left, mut left_handle) = mock::pair::<&str, &str>();
    let (right, mut right_handle) = mock::pair();
    drop(left);
    let mut service = Spawn::new(EitherMock::Right(right));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(right_handle, "hello").send_response("from the right");
    assert_eq!(assert_ready_ok!(response.poll()), "from the right");
    assert!(left_handle.next_request().await.is_none());
}

#[test]
fn either_follows_the_readiness_of_the_side_it_holds() {
    let (left, mut handle) = mock::pair();
    let mut service = Spawn::new(EitherMock::Left(left));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);

    let (right, mut handle) = mock::pair();
    let mut service = Spawn::new(EitherMock::Right(right));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[test]
fn either_forwards_readiness_errors_and_closed() {
    let (left, mut handle) = mock::pair();
    let mut service = Spawn::new(EitherMock::Left(left));
    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn either_response_future_forwards_the_response_error() {
    let (right, mut handle) = mock::pair();
    let mut service = Spawn::new(EitherMock::Right(right));
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_error("failed");
    assert!(response.is_woken());
    assert_eq!(assert_ready_err!(response.poll()).to_string(), "failed");
}

#[tokio::test]
async fn either_dropped_response_future_leaves_the_request_with_the_mock() {
    let (left, mut handle) = mock::pair();
    let mut service = Spawn::new(EitherMock::Left(left));
    assert_ready_ok!(service.poll_ready());
    drop(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("nobody listens");
    assert_ready_ok!(service.poll_ready(), "the service stays usable");
}

type Shout = MapRequestLayer<fn(&'static str) -> &'static str>;

fn shout(request: &'static str) -> &'static str {
    match request {
        "hello" => "HELLO",
        other => other,
    }
}

#[tokio::test]
async fn either_as_a_layer_applies_the_layer_it_holds() {
    let layer: Either<Shout, Identity> = Either::Left(MapRequestLayer::new(shout));
    let (mut service, mut handle) = mock::spawn_layer(layer);
    assert!(matches!(service.get_ref(), Either::Left(_)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "HELLO").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");

    let layer: Either<Shout, Identity> = Either::Right(Identity::new());
    let (mut service, mut handle) = mock::spawn_layer(layer);
    assert!(matches!(service.get_ref(), Either::Right(_)));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[tokio::test]
async fn option_layer_with_some_applies_the_layer() {
    let layer = option_layer(Some(MapRequestLayer::new(shout)));
    assert!(matches!(layer, Either::Left(_)));
    let (mut service, mut handle) = mock::spawn_layer(layer);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "HELLO").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[tokio::test]
async fn option_layer_with_none_leaves_the_service_as_it_is() {
    let layer = option_layer(None::<Shout>);
    assert!(matches!(layer, Either::Right(_)));
    let (mut service, mut handle) = mock::spawn_layer(layer);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[test]
fn either_is_copy_and_its_debug_names_the_side() {
    let left: Either<Echo, Echo> = Either::Left(Echo);
    let copy = left;
    assert_eq!(format!("{left:?}"), "Left(Echo)");
    assert_eq!(format!("{copy:?}"), "Left(Echo)");
    assert_eq!(
        format!("{:?}", Either::<Echo, Echo>::Right(Echo)),
        "Right(Echo)"
    );
}
