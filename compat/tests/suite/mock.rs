//! `tower_test`: `mock::{pair, spawn, spawn_with, spawn_layer}`, `Handle`,
//! `SendResponse`, `Spawn`, the errors, and `assert_request_eq!`.

use std::task::Poll;

use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};
use tower::util::MapRequest;
use tower::{BoxError, Service, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::error::Closed;
use tower_test::mock::future::ResponseFuture;
use tower_test::mock::{self, Handle, Mock, SendResponse, Spawn};

use super::support::{TagLayer, assert_clone, assert_send, assert_sync, assert_unpin, noop_cx};

#[test]
fn pair_delivers_requests_and_responses() {
    let (mut svc, mut handle): (
        Mock<&'static str, &'static str>,
        Handle<&'static str, &'static str>,
    ) = mock::pair();
    assert_pending!(handle.poll_request());
    assert!(svc.poll_ready(&mut noop_cx()).is_ready());
    let fut: ResponseFuture<&'static str> = svc.call("hello");
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    let (req, send): (&'static str, SendResponse<&'static str>) =
        assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "hello");
    send.send_response("world");
    assert!(fut.is_woken());
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[test]
fn spawn_polls_without_an_executor_and_reports_wake_ups() {
    let (mut svc, mut handle): (Spawn<Mock<u32, u32>>, _) = mock::spawn();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    assert!(!svc.is_woken());
    handle.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(1));
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, 1);
    send.send_response(2);
    assert_eq!(assert_ready_ok!(fut.poll()), 2);
    // The one allowed call is spent.
    assert_pending!(svc.poll_ready());
    assert!(
        svc.waker_ref_count() >= 1,
        "the parked mock holds the task's waker"
    );
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_without_poll_ready_panics() {
    let (mut svc, mut handle) = mock::spawn::<(), ()>();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    drop(svc.call(()));
}

#[test]
fn allow_sets_rather_than_adds() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    handle.allow(3);
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(1));
    assert_pending!(svc.poll_ready());
    handle.allow(2);
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(2));
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(3));
    assert_pending!(svc.poll_ready());
}

#[test]
fn a_reservation_survives_allow_zero() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    handle.allow(0);
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(1));
    assert_pending!(svc.poll_ready());
}

#[test]
fn clones_reserve_separately_against_the_same_allowance() {
    let (mut first, mut handle) = mock::spawn::<u32, u32>();
    let mut second = first.clone();
    handle.allow(1);
    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready());
    drop(first.call(1));
    drop(second.call(2));
    assert_pending!(first.poll_ready());
    assert_pending!(second.poll_ready());
    // Both parked clones are woken.
    handle.allow(2);
    assert!(first.is_woken());
    assert!(second.is_woken());
    let (a, _) = assert_ready!(handle.poll_request()).unwrap();
    let (b, _) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!((a, b), (1, 2));
    assert_clone::<Mock<u32, u32>>();
    assert_clone::<Spawn<Mock<u32, u32>>>();
}

#[test]
fn send_error_fails_the_next_poll_ready_only() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.send_error("boom");
    assert!(svc.is_woken());
    let err: BoxError = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.to_string(), "boom");
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
}

#[test]
fn send_error_on_a_response() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(1));
    let (_, send) = assert_ready!(handle.poll_request()).unwrap();
    send.send_error(super::support::Oops("bad response"));
    let err = assert_ready_err!(fut.poll());
    assert_eq!(
        err.downcast_ref(),
        Some(&super::support::Oops("bad response"))
    );
}

#[test]
fn dropped_send_response_closes_the_future() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(1));
    drop(assert_ready!(handle.poll_request()).unwrap());
    let err = assert_ready_err!(fut.poll());
    assert!(err.is::<Closed>());
    assert_eq!(err.to_string(), "service closed");
}

#[test]
fn dropping_the_handle_closes_the_mock() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    drop(handle);
    assert!(svc.is_woken());
    let err = assert_ready_err!(svc.poll_ready());
    assert!(err.is::<Closed>());
    // A call on a closed mock fails its future instead of panicking.
    let mut fut = task::spawn(svc.call(1));
    let err = assert_ready_err!(fut.poll());
    assert!(err.is::<Closed>());
    let closed: &Closed = err.downcast_ref().unwrap();
    assert_eq!(format!("{closed:?}"), "Closed(())");
}

#[tokio::test]
async fn handle_sees_the_end_once_every_mock_is_gone() {
    let (svc, mut handle) = mock::pair::<u32, u32>();
    let clone = svc.clone();
    drop(svc);
    assert!(matches!(handle.poll_request(), Poll::Pending));
    drop(clone);
    assert!(matches!(handle.poll_request(), Poll::Ready(None)));
    assert!(handle.next_request().await.is_none());
}

#[tokio::test]
async fn next_request_waits_for_a_call() {
    let (svc, mut handle) = mock::pair::<u32, u32>();
    let caller = tokio::spawn(svc.oneshot(3));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req, 3);
    send.send_response(30);
    assert_eq!(caller.await.unwrap().unwrap(), 30);
}

#[test]
fn spawn_with_and_spawn_layer_build_around_a_fresh_mock() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<String, String>| {
        MapRequest::new(mock, |n: u32| n.to_string())
    });
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(42));
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "42");
    send.send_response("answer".into());
    assert_eq!(assert_ready_ok!(fut.poll()), "answer");

    let (mut svc, mut handle) = mock::spawn_layer::<String, String, _>(TagLayer("layer"));
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("r:".to_string()));
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "r:layer>");
    send.send_response("ok".into());
    assert_eq!(assert_ready_ok!(fut.poll()), "ok<layer");
}

#[test]
fn spawn_accessors() {
    let (mock, _handle) = mock::pair::<u32, u32>();
    let mut svc: Spawn<Mock<u32, u32>> = Spawn::new(mock);
    let _: &Mock<u32, u32> = svc.get_ref();
    let _: &mut Mock<u32, u32> = svc.get_mut();
    assert_ready_ok!(svc.poll_ready());
    // A clone is a new Spawn, with its own task and no reservation.
    let mut clone = svc.clone();
    assert!(!clone.is_woken());
    assert_ready_ok!(clone.poll_ready());
    let mut inner: Mock<u32, u32> = svc.into_inner();
    drop(inner.call(1));
}

#[tokio::test]
async fn assert_request_eq_with_handle_reference_and_pinned_handle() {
    let (mut svc, mut handle) = mock::spawn::<&'static str, &'static str>();
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("by value");
    assert_request_eq!(handle, "by value").send_response("1");
    assert_eq!(fut.await.unwrap(), "1");

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("by reference");
    let by_ref: &mut Handle<&'static str, &'static str> = &mut handle;
    assert_request_eq!(by_ref, "by reference").send_response("2");
    assert_eq!(fut.await.unwrap(), "2");

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("with message");
    let send: SendResponse<&'static str> =
        assert_request_eq!(handle, "with message", "request number {}", 3);
    send.send_response("3");
    assert_eq!(fut.await.unwrap(), "3");

    futures::pin_mut!(handle);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("pinned");
    assert_request_eq!(handle, "pinned").send_response("4");
    assert_eq!(fut.await.unwrap(), "4");
    // Methods are reachable through the pin.
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.as_mut().allow(1);
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test]
#[should_panic(expected = "expected a request but none was received.")]
async fn assert_request_eq_without_request_panics() {
    let (svc, mut handle) = mock::pair::<u32, u32>();
    drop(svc);
    assert_request_eq!(handle, 1).send_response(1);
}

#[tokio::test]
#[should_panic(expected = "assertion `left == right` failed")]
async fn assert_request_eq_with_another_request_panics() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    assert_ready_ok!(svc.poll_ready());
    let _fut = svc.call(1);
    assert_request_eq!(handle, 2).send_response(1);
}

#[test]
fn auto_traits_of_the_mock_types() {
    assert_send::<Mock<String, String>>();
    assert_sync::<Mock<String, String>>();
    assert_send::<Handle<String, String>>();
    assert_sync::<Handle<String, String>>();
    assert_unpin::<Handle<String, String>>();
    assert_send::<SendResponse<String>>();
    assert_unpin::<ResponseFuture<String>>();
    assert_send::<ResponseFuture<String>>();
    assert_send::<Spawn<Mock<String, String>>>();
    fn is_error<E: std::error::Error + Send + Sync + 'static>() {}
    is_error::<Closed>();
    // The mock's error type is BoxError.
    fn error_is_box_error<S: Service<u32, Error = BoxError>>(_: &S) {}
    let (mock, _handle) = mock::pair::<u32, u32>();
    error_is_box_error(&mock);
}

#[test]
fn dropping_a_parked_mock_releases_its_waker() {
    let (mut first, mut handle) = mock::pair::<u32, u32>();
    let mut second = first.clone();
    handle.allow(0);
    let mut task = task::spawn(());
    assert!(task.enter(|cx, _| first.poll_ready(cx)).is_pending());
    assert!(task.enter(|cx, _| second.poll_ready(cx)).is_pending());
    assert_eq!(task.waker_ref_count(), 3);
    drop(second);
    assert_eq!(task.waker_ref_count(), 2);
    // Waking consumes the remaining parked waker.
    handle.allow(1);
    assert!(task.is_woken());
    assert_eq!(task.waker_ref_count(), 1);
    drop(first);
}

#[test]
fn allow_zero_wakes_nobody() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(0);
    assert!(!svc.is_woken());
    handle.allow(1);
    assert!(svc.is_woken());
}

#[test]
fn answering_a_dropped_future_is_harmless() {
    let (mut svc, mut handle) = mock::spawn::<u32, u32>();
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(1));
    let (_, send) = assert_ready!(handle.poll_request()).unwrap();
    send.send_response(1);
    assert_ready_ok!(svc.poll_ready());
    drop(svc.call(2));
    let (_, send) = assert_ready!(handle.poll_request()).unwrap();
    send.send_error("ignored");
}

#[test]
fn spawn_debug_shows_the_service_and_the_task() {
    let svc = Spawn::new(super::support::AddOne);
    let task = format!("{:?}", task::spawn(()));
    assert_eq!(
        format!("{svc:?}"),
        format!("Spawn {{ inner: AddOne, task: {task} }}")
    );
}

#[test]
fn clone_needs_no_bounds_on_the_message_types() {
    /// Neither `Clone` nor `Debug`.
    #[allow(dead_code, reason = "only used as a type parameter")]
    struct Opaque;
    assert_clone::<Mock<Opaque, Opaque>>();
    assert_clone::<tower::util::BoxCloneService<Opaque, Opaque, Opaque>>();
    assert_clone::<tower::util::BoxCloneSyncService<Opaque, Opaque, Opaque>>();
    assert_clone::<tower::util::BoxLayer<Opaque, Opaque, Opaque, Opaque>>();
    assert_clone::<tower::util::BoxCloneServiceLayer<Opaque, Opaque, Opaque, Opaque>>();
    assert_clone::<tower::util::BoxCloneSyncServiceLayer<Opaque, Opaque, Opaque, Opaque>>();
    super::support::assert_debug::<tower::util::BoxService<Opaque, Opaque, Opaque>>();
}

#[test]
fn closed_response_future_debug() {
    let (mut svc, handle) = mock::pair::<u32, u32>();
    drop(handle);
    let fut = svc.call(1);
    assert_eq!(format!("{fut:?}"), "ResponseFuture { rx: None }");
}
