//! `tower::limit`: `ConcurrencyLimit` (with its layers and a shared tokio
//! semaphore) and `RateLimit` (on tokio's paused clock).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::layer::util::{Identity, Stack};
use tower::limit::concurrency::future::ResponseFuture;
use tower::limit::rate::Rate;
use tower::limit::{
    ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer, RateLimit, RateLimitLayer,
};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Handle, Mock, Spawn};

use super::support::{
    AddOne, Instant, Oops, assert_clone, assert_copy, assert_debug, assert_send, assert_sync,
    assert_unpin,
};

type Req = &'static str;

fn limited(max: usize) -> (Spawn<ConcurrencyLimit<Mock<Req, Req>>>, Handle<Req, Req>) {
    mock::spawn_layer(ConcurrencyLimitLayer::new(max))
}

// ---- concurrency -------------------------------------------------------

#[tokio::test]
async fn concurrency_limit_bounds_requests_in_flight() {
    let (mut svc, mut handle) = limited(2);

    assert_ready_ok!(svc.poll_ready());
    let one: ResponseFuture<mock::future::ResponseFuture<Req>> = svc.call("one");
    assert_ready_ok!(svc.poll_ready());
    let two = svc.call("two");
    assert_pending!(svc.poll_ready());
    assert!(!svc.is_woken());

    // Both requests went through; answering them at the mock frees nothing
    // until the caller gets the response.
    assert_request_eq!(handle, "one").send_response("uno");
    assert_request_eq!(handle, "two").send_response("dos");
    assert_pending!(handle.poll_request());
    assert!(!svc.is_woken());

    assert_eq!(one.await.unwrap(), "uno");
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let three = svc.call("three");
    assert_pending!(svc.poll_ready());

    assert_request_eq!(handle, "three").send_response("tres");
    assert_eq!(three.await.unwrap(), "tres");
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(two.await.unwrap(), "dos");
}

#[tokio::test]
async fn wake_ups_come_only_from_finished_responses() {
    let (mut svc, mut handle) = limited(1);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("one"));
    assert_pending!(svc.poll_ready());

    let send = assert_request_eq!(handle, "one");
    assert!(
        !svc.is_woken(),
        "the mock receiving the request frees nothing"
    );
    assert_pending!(fut.poll());
    send.send_response("uno");
    assert!(
        !svc.is_woken(),
        "an answer not yet seen by the caller frees nothing"
    );
    assert_eq!(fut.await.unwrap(), "uno");
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test]
async fn a_limit_of_zero_is_never_ready() {
    let (mut svc, mut handle) = limited(0);
    assert_pending!(svc.poll_ready());
    handle.allow(10);
    assert_pending!(svc.poll_ready());
    assert_pending!(handle.poll_request());
}

#[tokio::test]
async fn a_clone_waits_for_the_reservation_of_another() {
    let (mut s1, mut handle) = limited(1);
    let mut s2 = s1.clone();

    assert_ready_ok!(s1.poll_ready());
    // Polling again keeps the one permit; it does not take another.
    assert_ready_ok!(s1.poll_ready());
    assert_pending!(s2.poll_ready());

    let fut = s1.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert!(!s2.is_woken());
    assert_eq!(fut.await.unwrap(), "world");
    assert!(s2.is_woken());
    assert_ready_ok!(s2.poll_ready());
    assert_pending!(s1.poll_ready());
}

#[tokio::test]
async fn dropping_a_service_with_a_reservation_frees_it() {
    let (mut s1, _handle) = limited(1);
    let mut s2 = s1.clone();
    assert_ready_ok!(s1.poll_ready());
    assert_pending!(s2.poll_ready());
    drop(s1);
    assert!(s2.is_woken());
    assert_ready_ok!(s2.poll_ready());
}

#[tokio::test]
async fn an_error_response_frees_its_permit() {
    let (mut s1, mut handle) = limited(1);
    let mut s2 = s1.clone();
    assert_ready_ok!(s1.poll_ready());
    let fut = s1.call("hello");
    assert_pending!(s2.poll_ready());
    assert_request_eq!(handle, "hello").send_error(Oops("failed"));
    let err = fut.await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("failed")));
    assert!(s2.is_woken());
    assert_ready_ok!(s2.poll_ready());
}

#[tokio::test]
async fn dropping_an_unfinished_response_frees_its_permit() {
    let (mut s1, mut handle) = limited(1);
    let mut s2 = s1.clone();
    assert_ready_ok!(s1.poll_ready());
    let fut = s1.call("hello");
    assert_pending!(s2.poll_ready());
    let _send = assert_request_eq!(handle, "hello");
    drop(fut);
    assert!(s2.is_woken());
    assert_ready_ok!(s2.poll_ready());
}

#[tokio::test]
async fn waiters_are_served_first_in_first_out() {
    let (mut s1, _handle) = limited(1);
    let mut s2 = s1.clone();
    let mut s3 = s1.clone();
    assert_ready_ok!(s1.poll_ready());
    assert_pending!(s2.poll_ready());
    assert_pending!(s3.poll_ready());

    drop(s1);
    assert!(s2.is_woken());
    assert!(!s3.is_woken(), "only the first waiter gets the permit");

    // The first waiter goes away without using the permit: it passes on.
    drop(s2);
    assert!(s3.is_woken());
    assert_ready_ok!(s3.poll_ready());
}

#[test]
#[should_panic(expected = "max requests in-flight; poll_ready must be called first")]
fn concurrency_limit_call_without_poll_ready_panics() {
    let mut svc = ConcurrencyLimit::new(AddOne, 1);
    drop(svc.call(1));
}

#[tokio::test]
async fn layers_and_semaphores() {
    // One `ConcurrencyLimitLayer` gives every service its own semaphore.
    let layer = ConcurrencyLimitLayer::new(1);
    let (a, _ha) = mock::pair::<Req, Req>();
    let (b, _hb) = mock::pair::<Req, Req>();
    let mut a = Spawn::new(layer.layer(a));
    let mut b = Spawn::new(layer.layer(b));
    assert_ready_ok!(a.poll_ready());
    assert_ready_ok!(b.poll_ready());

    // `GlobalConcurrencyLimitLayer` shares one.
    let global = GlobalConcurrencyLimitLayer::new(1);
    let (a, _ha) = mock::pair::<Req, Req>();
    let (b, _hb) = mock::pair::<Req, Req>();
    let mut a: Spawn<ConcurrencyLimit<Mock<Req, Req>>> = Spawn::new(global.layer(a));
    let mut b = Spawn::new(global.clone().layer(b));
    assert_ready_ok!(a.poll_ready());
    assert_pending!(b.poll_ready());
    drop(a);
    assert!(b.is_woken());
    assert_ready_ok!(b.poll_ready());

    // The semaphore is tokio's; the caller can watch it.
    let semaphore = Arc::new(Semaphore::new(2));
    let global = GlobalConcurrencyLimitLayer::with_semaphore(semaphore.clone());
    let (a, _ha) = mock::pair::<Req, Req>();
    let mut a = Spawn::new(global.layer(a));
    let (b, _hb) = mock::pair::<Req, Req>();
    let mut b = Spawn::new(ConcurrencyLimit::with_semaphore(b, semaphore.clone()));
    assert_eq!(semaphore.available_permits(), 2);
    assert_ready_ok!(a.poll_ready());
    assert_eq!(semaphore.available_permits(), 1);
    assert_ready_ok!(b.poll_ready());
    assert_eq!(semaphore.available_permits(), 0);
    drop(a);
    assert_eq!(semaphore.available_permits(), 1);
    drop(b);
    assert_eq!(semaphore.available_permits(), 2);
}

#[tokio::test]
async fn concurrency_limit_types_and_accessors() {
    // Errors are not boxed: the inner error type comes through.
    let mut svc: ConcurrencyLimit<AddOne> = ConcurrencyLimit::new(AddOne, 3);
    let _: &AddOne = svc.get_ref();
    let _: &mut AddOne = svc.get_mut();
    let ready: &mut ConcurrencyLimit<AddOne> = svc.ready().await.unwrap();
    let fut: ResponseFuture<Instant<u32, Oops>> = ready.call(1);
    let rsp: Result<u32, Oops> = fut.await;
    assert_eq!(rsp, Ok(2));
    let err: Oops = svc.clone().oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err, Oops("overflow"));
    assert_eq!(svc.into_inner(), AddOne);

    let builder: ServiceBuilder<Stack<ConcurrencyLimitLayer, Identity>> =
        ServiceBuilder::new().concurrency_limit(2);
    let built: ConcurrencyLimit<AddOne> = builder.service(AddOne);
    assert_eq!(built.oneshot(1).await, Ok(2));

    assert_clone::<ConcurrencyLimit<AddOne>>();
    assert_clone::<ConcurrencyLimitLayer>();
    assert_clone::<GlobalConcurrencyLimitLayer>();
    assert_debug::<ConcurrencyLimit<AddOne>>();
    assert_debug::<ConcurrencyLimitLayer>();
    assert_debug::<GlobalConcurrencyLimitLayer>();
    assert_debug::<ResponseFuture<Instant<u32, Oops>>>();
    assert_send::<ConcurrencyLimit<AddOne>>();
    assert_sync::<ConcurrencyLimit<AddOne>>();
    assert_unpin::<ConcurrencyLimit<AddOne>>();
    assert_send::<ResponseFuture<Instant<u32, Oops>>>();
    let _: ConcurrencyLimitLayer = LIMIT_LAYER;
}

const LIMIT_LAYER: ConcurrencyLimitLayer = ConcurrencyLimitLayer::new(4);

// ---- rate --------------------------------------------------------------

fn rate_limited(num: u64, per: Duration) -> (Spawn<RateLimit<Mock<Req, Req>>>, Handle<Req, Req>) {
    mock::spawn_layer(RateLimitLayer::new(num, per))
}

#[tokio::test(start_paused = true)]
async fn rate_limit_waits_for_the_next_window() {
    let (mut svc, mut handle) = rate_limited(1, Duration::from_millis(100));

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("one");
    assert_request_eq!(handle, "one").send_response("uno");
    assert_eq!(fut.await.unwrap(), "uno");

    assert_pending!(svc.poll_ready());
    assert_pending!(handle.poll_request());

    tokio::time::advance(Duration::from_millis(50)).await;
    assert_pending!(svc.poll_ready());

    tokio::time::advance(Duration::from_millis(51)).await;
    assert!(svc.is_woken(), "the end of the window wakes the caller");
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("two");
    assert_request_eq!(handle, "two").send_response("dos");
    assert_eq!(fut.await.unwrap(), "dos");
}

#[tokio::test(start_paused = true)]
async fn a_new_window_resets_the_remaining_count() {
    let (mut svc, mut handle) = rate_limited(3, Duration::from_millis(100));

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("a");
    assert_request_eq!(handle, "a").send_response("A");
    assert_eq!(fut.await.unwrap(), "A");

    tokio::time::advance(Duration::from_millis(100)).await;

    for (req, rsp) in [("b", "B"), ("c", "C")] {
        assert_ready_ok!(svc.poll_ready());
        let fut = svc.call(req);
        assert_request_eq!(handle, req).send_response(rsp);
        assert_eq!(fut.await.unwrap(), rsp);
    }
    // Two calls into a fresh window of three: one more is allowed.
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn at_most_num_calls_per_window() {
    let (mut svc, mut handle) = rate_limited(2, Duration::from_secs(1));
    for req in ["a", "b"] {
        assert_ready_ok!(svc.poll_ready());
        let fut = svc.call(req);
        assert_request_eq!(handle, req).send_response(req);
        assert_eq!(fut.await.unwrap(), req);
    }
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(999)).await;
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("c");
    assert_request_eq!(handle, "c").send_response("C");
    assert_eq!(fut.await.unwrap(), "C");
}

#[tokio::test(start_paused = true)]
async fn the_next_window_starts_when_readiness_is_seen() {
    let (mut svc, mut handle) = rate_limited(1, Duration::from_millis(100));
    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call("a");
    assert_request_eq!(handle, "a").send_response("A");
    assert_eq!(fut.await.unwrap(), "A");

    // Readiness is seen well after the first window ended...
    tokio::time::advance(Duration::from_millis(250)).await;
    assert_ready_ok!(svc.poll_ready());
    // ...and the call comes a little later: the window began at readiness.
    tokio::time::advance(Duration::from_millis(50)).await;
    let fut = svc.call("b");
    assert_request_eq!(handle, "b").send_response("B");
    assert_eq!(fut.await.unwrap(), "B");
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(49)).await;
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn the_first_window_starts_with_the_first_request() {
    let (mut svc, mut handle) = rate_limited(2, Duration::from_millis(100));
    tokio::time::advance(Duration::from_millis(500)).await;
    for req in ["a", "b"] {
        assert_ready_ok!(svc.poll_ready());
        let fut = svc.call(req);
        assert_request_eq!(handle, req).send_response(req);
        assert_eq!(fut.await.unwrap(), req);
    }
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(99)).await;
    assert_pending!(svc.poll_ready());
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_ready_ok!(svc.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn each_layered_service_has_its_own_budget() {
    let layer = RateLimitLayer::new(1, Duration::from_secs(1));
    let (a, mut ha) = mock::pair::<Req, Req>();
    let (b, _hb) = mock::pair::<Req, Req>();
    let mut a: Spawn<RateLimit<Mock<Req, Req>>> = Spawn::new(layer.layer(a));
    let mut b: Spawn<RateLimit<Mock<Req, Req>>> = Spawn::new(layer.layer(b));

    assert_ready_ok!(a.poll_ready());
    let fut = a.call("a");
    assert_request_eq!(ha, "a").send_response("A");
    assert_eq!(fut.await.unwrap(), "A");
    assert_pending!(a.poll_ready());
    assert_ready_ok!(b.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn rate_limit_readiness_and_errors_are_forwarded() {
    let (mut svc, mut handle) = rate_limited(5, Duration::from_secs(1));
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    let (mut svc, mut handle) = rate_limited(5, Duration::from_secs(1));
    handle.send_error(Oops("down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("down")));
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
async fn rate_limit_call_past_the_budget_without_poll_ready_panics() {
    let mut svc = RateLimit::new(AddOne, Rate::new(1, Duration::from_secs(1)));
    assert!(svc.ready().await.is_ok());
    drop(svc.call(1));
    drop(svc.call(2));
}

#[tokio::test(start_paused = true)]
async fn rate_limit_types_and_accessors() {
    const RATE: Rate = Rate::new(10, Duration::from_secs(1));
    let rate: Rate = RATE;
    let copy = rate;
    let mut svc: RateLimit<AddOne> = RateLimit::new(AddOne, copy);
    let _: &AddOne = svc.get_ref();
    let _: &mut AddOne = svc.get_mut();
    // Response, error and future are the inner service's own.
    let ready: &mut RateLimit<AddOne> = svc.ready().await.unwrap();
    let fut: Instant<u32, Oops> = ready.call(1);
    assert_eq!(fut.await, Ok(2));
    let err: Oops = svc.ready().await.unwrap().call(u32::MAX).await.unwrap_err();
    assert_eq!(err, Oops("overflow"));
    assert_eq!(svc.into_inner(), AddOne);

    const LAYER: RateLimitLayer = RateLimitLayer::new(2, Duration::from_secs(1));
    let layered: RateLimit<AddOne> = LAYER.layer(AddOne);
    assert_eq!(layered.oneshot(1).await, Ok(2));

    let builder: ServiceBuilder<Stack<RateLimitLayer, Identity>> =
        ServiceBuilder::new().rate_limit(5, Duration::from_secs(5));
    let built: RateLimit<AddOne> = builder.service(AddOne);
    assert_eq!(built.oneshot(1).await, Ok(2));

    assert_copy::<Rate>();
    assert_debug::<Rate>();
    assert_clone::<RateLimitLayer>();
    assert_debug::<RateLimitLayer>();
    assert_debug::<RateLimit<AddOne>>();
    assert_send::<RateLimit<AddOne>>();
    assert_sync::<RateLimit<AddOne>>();
    assert_unpin::<RateLimit<AddOne>>();
}

#[test]
#[should_panic]
fn a_rate_of_zero_requests_panics() {
    let _ = Rate::new(0, Duration::from_secs(1));
}

#[test]
#[should_panic]
fn a_rate_over_zero_time_panics() {
    let _ = RateLimitLayer::new(1, Duration::ZERO);
}
