//! `tower::timeout`: `Timeout`, `TimeoutLayer`, `error::Elapsed` and the
//! response future, driven on tokio's paused clock.

use std::time::Duration;

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::layer::util::{Identity, Stack};
use tower::timeout::error::Elapsed;
use tower::timeout::future::ResponseFuture;
use tower::timeout::{Timeout, TimeoutLayer};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_debug, assert_default, assert_send, assert_sync,
    assert_unpin,
};

type Req = &'static str;

const LIMIT: Duration = Duration::from_millis(100);

// Both constructors are `const fn`s.
const LAYER: TimeoutLayer = TimeoutLayer::new(LIMIT);
const ELAPSED: Elapsed = Elapsed::new();

fn timed() -> (Spawn<Timeout<Mock<Req, Req>>>, Handle<Req, Req>) {
    mock::spawn_layer(LAYER)
}

#[tokio::test(start_paused = true)]
async fn a_timely_response_passes_through() {
    let (mut svc, mut handle) = timed();
    assert_ready_ok!(svc.poll_ready());
    let fut: ResponseFuture<mock::future::ResponseFuture<Req>> = svc.call("hello");
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    tokio::time::advance(Duration::from_millis(60)).await;
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(fut.is_woken());
    let rsp: Req = assert_ready_ok!(fut.poll());
    assert_eq!(rsp, "world");
}

#[tokio::test(start_paused = true)]
async fn a_late_response_elapses() {
    let (mut svc, mut handle) = timed();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(fut.poll());
    // The request reached the inner service at `call`.
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req, "hello");

    tokio::time::advance(Duration::from_millis(99)).await;
    assert_pending!(fut.poll());
    tokio::time::advance(Duration::from_millis(2)).await;
    assert!(fut.is_woken(), "the deadline wakes the caller");
    let err: BoxError = assert_ready_err!(fut.poll());
    assert!(err.is::<Elapsed>());
    assert!(err.downcast_ref::<Elapsed>().is_some());
    assert_eq!(err.to_string(), "request timed out");
    // A response that comes after the deadline goes nowhere.
    send.send_response("too late");
}

#[tokio::test(start_paused = true)]
async fn the_timer_starts_at_call_not_at_first_poll() {
    let (mut svc, _handle) = timed();
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    tokio::time::advance(Duration::from_millis(150)).await;
    // Never polled before the deadline: the first poll already elapses.
    let err = fut.await.unwrap_err();
    assert!(err.is::<Elapsed>());
}

#[tokio::test(start_paused = true)]
async fn a_ready_response_wins_over_a_passed_deadline() {
    let (mut svc, mut handle) = timed();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    tokio::time::advance(Duration::from_millis(500)).await;
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[tokio::test(start_paused = true)]
async fn inner_errors_are_boxed_but_not_wrapped() {
    let (mut svc, mut handle) = timed();
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_error(Oops("inner"));
    let err = assert_ready_err!(fut.poll());
    assert!(!err.is::<Elapsed>());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("inner")));
    assert_eq!(err.to_string(), "oops: inner");
}

#[tokio::test(start_paused = true)]
async fn poll_ready_is_forwarded_and_not_time_bounded() {
    let (mut svc, mut handle) = timed();
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    let (mut svc, mut handle) = timed();
    handle.send_error(Oops("down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("down")));
}

#[tokio::test]
async fn types_accessors_and_layers() {
    let mut svc: Timeout<AddOne> = Timeout::new(AddOne, LIMIT);
    let _: &AddOne = svc.get_ref();
    let _: &mut AddOne = svc.get_mut();
    let copy: Timeout<AddOne> = svc.clone();
    assert_eq!(copy.into_inner(), AddOne);

    // `Error` is boxed; the future is the module's own type.
    let fut: ResponseFuture<Instant<u32, Oops>> = svc.call(1);
    let rsp: Result<u32, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), 2);
    let err = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));

    let layered: Timeout<AddOne> = LAYER.layer(AddOne);
    assert_eq!(layered.oneshot(41).await.unwrap(), 42);

    let builder: ServiceBuilder<Stack<TimeoutLayer, Identity>> =
        ServiceBuilder::new().timeout(Duration::from_secs(1));
    let built: Timeout<AddOne> = builder.service(AddOne);
    assert_eq!(built.oneshot(1).await.unwrap(), 2);

    assert_clone::<Timeout<AddOne>>();
    assert_clone::<TimeoutLayer>();
    assert_debug::<Timeout<AddOne>>();
    assert_debug::<TimeoutLayer>();
    assert_send::<Timeout<AddOne>>();
    assert_sync::<Timeout<AddOne>>();
    assert_send::<ResponseFuture<Instant<u32, Oops>>>();
    assert_debug::<ResponseFuture<Instant<u32, Oops>>>();
}

#[test]
fn elapsed_error() {
    assert_default::<Elapsed>();
    assert_debug::<Elapsed>();
    assert_send::<Elapsed>();
    assert_sync::<Elapsed>();
    assert_unpin::<Elapsed>();
    let err = Elapsed::default();
    assert_eq!(err.to_string(), "request timed out");
    // The text honours width and fill.
    assert_eq!(format!("{ELAPSED:>20}|"), "   request timed out|");
    assert_eq!(format!("{:-<19}|", Elapsed::new()), "request timed out--|");
    let boxed: BoxError = Box::new(Elapsed::new());
    assert!(boxed.is::<Elapsed>());
    assert!(boxed.source().is_none());
    let _: &dyn std::error::Error = &err;
}
