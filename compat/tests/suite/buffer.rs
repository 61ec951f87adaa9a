//! `tower::buffer`: `Buffer` (with its worker polled by hand via
//! `Buffer::pair`, or spawned by `Buffer::new`), `BufferLayer`, the errors
//! `ServiceError` and `Closed`, and the response future.

use std::error::Error as _;
use std::future::Future;
use std::task::Poll;

use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};
use tower::buffer::error::{Closed, ServiceError};
use tower::buffer::future::ResponseFuture;
use tower::buffer::{Buffer, BufferLayer};
use tower::layer::util::{Identity, Stack};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Spawn};

use super::probe::SpanProbe;
use super::support::{
    AddOne, Broken, Instant, Oops, assert_clone, assert_copy, assert_debug, assert_send,
    assert_sync,
};

type Req = &'static str;
type MockFuture = mock::future::ResponseFuture<Req>;

/// A buffer over a mock, with its worker in a hand-polled task.
fn buffered(
    bound: usize,
) -> (
    Spawn<Buffer<Req, MockFuture>>,
    Handle<Req, Req>,
    task::Spawn<impl Future<Output = ()>>,
) {
    let (inner, handle) = mock::pair();
    let (svc, worker) = Buffer::pair(inner, bound);
    (Spawn::new(svc), handle, task::spawn(worker))
}

fn assert_closed(err: &BoxError) {
    assert!(err.is::<Closed>(), "expected Closed, got {err:?}");
    assert_eq!(err.to_string(), "buffer's worker closed unexpectedly");
}

fn assert_service_error(err: &BoxError, text: &str) {
    let failed = err
        .downcast_ref::<ServiceError>()
        .unwrap_or_else(|| panic!("expected ServiceError, got {err:?}"));
    assert_eq!(
        failed.to_string(),
        format!("buffered service failed: {text}")
    );
    assert_eq!(failed.source().unwrap().to_string(), text);
}

/// No request reached the inner service (whether or not it is still alive).
fn assert_no_request(handle: &mut Handle<Req, Req>) {
    if let Poll::Ready(Some((req, _))) = handle.poll_request() {
        panic!("the inner service got {req:?}");
    }
}

#[tokio::test]
async fn requests_and_responses_go_through_the_worker() {
    let (mut svc, mut handle, mut worker) = buffered(10);
    assert_ready_ok!(svc.poll_ready());
    let fut: ResponseFuture<MockFuture> = svc.call("hello");
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    // The caller's task polls the inner future, not the worker.
    assert!(fut.is_woken());
    assert!(!worker.is_woken());
    let rsp: Result<Req, BoxError> = assert_ready!(fut.poll());
    assert_eq!(rsp.unwrap(), "world");
}

#[tokio::test]
async fn canceled_requests_are_skipped() {
    let (mut svc, mut handle, mut worker) = buffered(10);
    handle.allow(1);

    assert_ready_ok!(svc.poll_ready());
    let one = svc.call("one");
    assert_ready_ok!(svc.poll_ready());
    let two = svc.call("two");
    assert_ready_ok!(svc.poll_ready());
    let three = svc.call("three");

    // The worker sends "one" and then waits with "two" for the mock.
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "one").send_response("uno");

    // The caller of "two" gives up; the worker moves on to "three".
    drop(two);
    handle.allow(1);
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "three").send_response("tres");
    assert_pending!(handle.poll_request());

    assert_eq!(one.await.unwrap(), "uno");
    assert_eq!(three.await.unwrap(), "tres");
}

#[tokio::test]
async fn requests_wait_for_the_inner_service() {
    let (mut svc, mut handle, mut worker) = buffered(10);
    handle.allow(0);

    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(worker.poll());
    assert_pending!(fut.poll());
    assert_pending!(handle.poll_request());

    handle.allow(1);
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(fut.is_woken());
    assert_eq!(assert_ready_ok!(fut.poll()), "world");
}

#[tokio::test]
async fn response_errors_are_boxed_but_not_wrapped() {
    let (mut svc, mut handle, mut worker) = buffered(10);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    assert_pending!(worker.poll());
    assert_request_eq!(handle, "hello").send_error(Oops("bad request"));
    let err = fut.await.unwrap_err();
    assert!(!err.is::<ServiceError>());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("bad request")));
}

#[tokio::test]
async fn an_inner_readiness_error_becomes_a_service_error() {
    let (mut svc, mut handle, mut worker) = buffered(10);
    handle.send_error("foobar");

    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    // The worker fails and finishes.
    assert_ready!(worker.poll());

    let err = assert_ready_err!(fut.poll());
    assert_service_error(&err, "foobar");
    assert_no_request(&mut handle);

    // The buffer is unusable from now on, with the same error.
    let err = assert_ready_err!(svc.poll_ready());
    assert_service_error(&err, "foobar");
    let mut copy = svc.clone();
    let err = assert_ready_err!(copy.poll_ready());
    assert_service_error(&err, "foobar");
}

// A worker future that has finished still owns the inner service until the
// future itself is dropped (what `Buffer::pair` callers observe).
#[tokio::test]
async fn a_failed_worker_keeps_the_inner_service_until_dropped() {
    let (mut svc, mut handle, mut worker) = buffered(1);
    handle.send_error("foobar");
    assert_ready_ok!(svc.poll_ready());
    let _fut = svc.call("hello");
    assert_ready!(worker.poll());
    assert_pending!(handle.poll_request(), "the inner service is still alive");
    drop(worker);
    assert!(assert_ready!(handle.poll_request()).is_none());
}

#[tokio::test]
async fn a_worker_finished_by_its_handles_keeps_the_inner_service_until_dropped() {
    let (svc, mut handle, mut worker) = buffered(1);
    assert_pending!(worker.poll());
    drop(svc);
    assert_ready!(worker.poll());
    assert_pending!(handle.poll_request(), "the inner service is still alive");
    drop(worker);
    assert!(assert_ready!(handle.poll_request()).is_none());
}

#[tokio::test]
async fn the_service_error_keeps_the_original_error() {
    let (mut svc, mut handle, mut worker) = buffered(1);
    handle.send_error(Oops("original"));
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    assert_ready!(worker.poll());
    let err = fut.await.unwrap_err();
    let failed = err.downcast_ref::<ServiceError>().unwrap();
    let source = failed.source().unwrap();
    assert_eq!(source.downcast_ref::<Oops>(), Some(&Oops("original")));
    assert_eq!(
        failed.to_string(),
        "buffered service failed: oops: original"
    );
}

#[test]
fn a_runtime_shutdown_closes_the_buffer() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let svc: Buffer<u32, Instant<u32, Oops>> = {
        let _entered = rt.enter();
        Buffer::new(AddOne, 1)
    };
    // The worker never ran; the runtime goes away with it.
    drop(rt);
    let mut svc = Spawn::new(svc);
    let err = assert_ready_err!(svc.poll_ready());
    assert_closed(&err);
}

#[test]
#[should_panic]
fn a_bound_of_zero_panics() {
    let _ = Buffer::<u32, Instant<u32, Oops>>::pair(AddOne, 0);
}

#[tokio::test]
async fn a_dropped_worker_makes_poll_ready_fail_with_closed() {
    let (mut svc, _handle, worker) = buffered(1);
    drop(worker);
    let err = assert_ready_err!(svc.poll_ready());
    assert_closed(&err);
    let closed = err.downcast_ref::<Closed>().unwrap();
    assert_eq!(format!("{closed:?}"), "Closed");
    assert!(closed.source().is_none());
}

#[tokio::test]
async fn a_queued_request_fails_with_closed_when_the_worker_is_dropped() {
    let (mut svc, mut handle, worker) = buffered(1);
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("hello");
    drop(worker);
    let err = fut.await.unwrap_err();
    assert_closed(&err);
    // The inner service went away with the worker, without the request.
    assert!(assert_ready!(handle.poll_request()).is_none());
}

#[tokio::test]
async fn callers_wait_for_channel_capacity() {
    let (mut svc, mut handle, mut worker) = buffered(2);
    handle.allow(0);

    // The worker takes the first request off the channel and holds it...
    assert_ready_ok!(svc.poll_ready());
    let one = svc.call("1");
    assert_pending!(worker.poll());
    // ...so two more fit in the channel, and a fourth has to wait.
    assert_ready_ok!(svc.poll_ready());
    let two = svc.call("2");
    assert_ready_ok!(svc.poll_ready());
    let three = svc.call("3");
    assert_pending!(svc.poll_ready());
    assert_pending!(worker.poll());
    assert_pending!(svc.poll_ready());
    assert!(!svc.is_woken());

    // The worker sends "1" and takes "2" off the channel: a slot frees up.
    handle.allow(1);
    assert_pending!(worker.poll());
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let four = svc.call("4");
    assert_pending!(svc.poll_ready());

    handle.allow(3);
    assert_pending!(worker.poll());
    let mut responses = Vec::new();
    for req in ["1", "2", "3", "4"] {
        let send = assert_request_eq!(handle, req);
        responses.push(send);
    }
    for send in responses.into_iter().rev() {
        send.send_response("done");
    }
    for fut in [one, two, three, four] {
        assert_eq!(fut.await.unwrap(), "done");
    }
}

#[tokio::test]
async fn a_dropped_worker_wakes_pending_callers_with_closed() {
    let (mut svc, mut handle, mut worker) = buffered(1);
    handle.allow(0);

    assert_ready_ok!(svc.poll_ready());
    let mut one = task::spawn(svc.call("1"));
    assert_pending!(worker.poll());
    assert_ready_ok!(svc.poll_ready());
    let mut two = task::spawn(svc.call("2"));

    // Two more callers wait for capacity: one by `poll_ready`, one in
    // `ServiceExt::ready`.
    let mut blocked = svc.clone();
    assert_pending!(blocked.poll_ready());
    let mut other = svc.get_ref().clone();
    let mut ready = task::spawn(other.ready());
    assert_pending!(ready.poll());
    assert_pending!(one.poll());
    assert_pending!(two.poll());

    drop(worker);

    assert!(one.is_woken());
    assert_closed(&assert_ready_err!(one.poll()));
    assert_closed(&assert_ready_err!(two.poll()));
    assert!(blocked.is_woken());
    assert_closed(&assert_ready_err!(blocked.poll_ready()));
    assert!(ready.is_woken());
    assert_closed(&assert_ready_err!(ready.poll()));
}

#[tokio::test]
async fn an_inner_failure_wakes_pending_callers_with_the_service_error() {
    let (mut svc, mut handle, mut worker) = buffered(1);
    handle.allow(0);

    assert_ready_ok!(svc.poll_ready());
    let mut one = task::spawn(svc.call("1"));
    assert_pending!(worker.poll());
    assert_ready_ok!(svc.poll_ready());
    let mut two = task::spawn(svc.call("2"));

    let mut blocked = svc.clone();
    assert_pending!(blocked.poll_ready());
    let mut other = svc.get_ref().clone();
    let mut ready = task::spawn(other.ready());
    assert_pending!(ready.poll());
    assert_pending!(one.poll());
    assert_pending!(two.poll());

    handle.send_error("foobar");
    assert!(worker.is_woken());
    assert_ready!(worker.poll());

    assert!(one.is_woken());
    assert_service_error(&assert_ready_err!(one.poll()), "foobar");
    assert!(two.is_woken());
    assert_service_error(&assert_ready_err!(two.poll()), "foobar");
    assert!(blocked.is_woken());
    assert_service_error(&assert_ready_err!(blocked.poll_ready()), "foobar");
    assert!(ready.is_woken());
    assert_service_error(&assert_ready_err!(ready.poll()), "foobar");
    assert_no_request(&mut handle);
}

#[tokio::test]
async fn the_inner_service_runs_in_the_callers_span() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    // Not ready at the first poll: the worker resumes the held request.
    let (probe, seen) = SpanProbe::new(1);
    let (svc, worker) = Buffer::pair(probe, 5);
    let mut svc: Spawn<Buffer<Req, Instant<Req, Oops>>> = Spawn::new(svc);
    let mut worker = task::spawn(worker);

    let span = tracing::info_span!("caller");
    let fut = {
        let _entered = span.enter();
        assert_ready_ok!(svc.poll_ready());
        svc.call("hello")
    };
    assert_pending!(worker.poll());
    assert_eq!(seen.take(), vec![("poll_ready", Some("caller"))]);
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    assert_eq!(
        seen.take(),
        vec![("poll_ready", Some("caller")), ("call", Some("caller"))]
    );
    assert_eq!(fut.await.unwrap(), "hello");

    let other = tracing::info_span!("another");
    let fut = {
        let _entered = other.enter();
        assert_ready_ok!(svc.poll_ready());
        svc.call("again")
    };
    assert_pending!(worker.poll());
    assert_eq!(
        seen.take(),
        vec![("poll_ready", Some("another")), ("call", Some("another"))]
    );
    assert_eq!(fut.await.unwrap(), "again");
}

#[tokio::test]
async fn one_handle_holds_at_most_one_slot() {
    let (mut svc, mut handle, mut worker) = buffered(2);
    let mut second = svc.clone();
    let mut third = svc.clone();

    assert_ready_ok!(svc.poll_ready());
    assert_ready_ok!(svc.poll_ready());
    assert_ready_ok!(svc.poll_ready());
    assert_ready_ok!(second.poll_ready());
    assert_pending!(third.poll_ready());

    let fut = svc.call("hello");
    assert!(!third.is_woken());
    // The worker takes the request off the channel, which frees its slot.
    assert_pending!(worker.poll());
    assert!(third.is_woken());
    assert_ready_ok!(third.poll_ready());

    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(fut.await.unwrap(), "world");
}

#[tokio::test]
async fn dropping_a_handle_gives_its_slot_back() {
    let (mut svc, _handle, _worker) = buffered(1);
    let mut second = svc.clone();
    assert_ready_ok!(svc.poll_ready());
    assert_pending!(second.poll_ready());
    drop(svc);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
}

#[tokio::test]
async fn new_spawns_the_worker_on_the_runtime() {
    let (inner, mut handle) = mock::pair::<Req, Req>();
    let mut svc: Buffer<Req, MockFuture> = Buffer::new(inner, 3);
    let fut = svc.ready().await.unwrap().call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(fut.await.unwrap(), "world");

    // Many callers share one buffer through clones.
    let mut calls = Vec::new();
    for _ in 0..3 {
        calls.push(tokio::spawn(svc.clone().oneshot("clone")));
    }
    for _ in 0..3 {
        assert_request_eq!(handle, "clone").send_response("ok");
    }
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "ok");
    }

    // The type names the request and the inner future only: services of
    // different types with the same future share it.
    let a: Buffer<u32, Instant<u32, Oops>> = Buffer::new(AddOne, 1);
    let b: Buffer<u32, Instant<u32, Oops>> = Buffer::new(Broken, 1);
    let mut both = vec![a, b];
    let b = both.pop().unwrap();
    let a = both.pop().unwrap();
    assert_eq!(a.oneshot(1).await.unwrap(), 2);
    let err = b.oneshot(1).await.unwrap_err();
    assert_service_error(&err, "oops: broken");
}

#[tokio::test]
async fn layers_and_builder() {
    const LAYER: BufferLayer<u32> = BufferLayer::new(5);
    let layer: BufferLayer<u32> = LAYER;
    let copy = layer;
    assert_eq!(format!("{copy:?}"), "BufferLayer { bound: 5 }");
    let svc: Buffer<u32, Instant<u32, Oops>> = layer.layer(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);

    let builder: ServiceBuilder<Stack<BufferLayer<u32>, Identity>> =
        ServiceBuilder::new().buffer(2);
    let svc: Buffer<u32, Instant<u32, Oops>> = builder.service(AddOne);
    assert_eq!(svc.clone().oneshot(41).await.unwrap(), 42);
    let err = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));

    let turbofish = ServiceBuilder::new().buffer::<u32>(1).service(AddOne);
    assert_eq!(turbofish.oneshot(1).await.unwrap(), 2);
}

#[test]
fn auto_traits() {
    assert_clone::<Buffer<Req, MockFuture>>();
    assert_debug::<Buffer<Req, MockFuture>>();
    assert_send::<Buffer<Req, MockFuture>>();
    assert_sync::<Buffer<Req, MockFuture>>();
    assert_send::<ResponseFuture<MockFuture>>();
    assert_debug::<ResponseFuture<MockFuture>>();
    assert_copy::<BufferLayer<Req>>();
    assert_clone::<BufferLayer<std::rc::Rc<u32>>>();
    assert_debug::<BufferLayer<std::rc::Rc<u32>>>();
    assert_send::<BufferLayer<Req>>();
    assert_sync::<BufferLayer<Req>>();
    assert_debug::<ServiceError>();
    assert_send::<ServiceError>();
    assert_sync::<ServiceError>();
    assert_debug::<Closed>();
    assert_send::<Closed>();
    assert_sync::<Closed>();
}
