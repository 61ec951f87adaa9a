//! `tower_service::Service`: hand-written implementations, the `&mut S` and
//! `Box<S>` impls, trait objects, and the identity of the trait across the
//! crates that re-export it.

use std::convert::Infallible;
use std::task::Poll;

use tokio_test::{assert_pending, assert_ready, assert_ready_ok};
use tower::{BoxError, ServiceExt};
use tower_service::Service;

use super::support::{AddOne, Echo, Instant, Latch, Oops, SlowStart, noop_cx, poll_once};

/// Drives `svc` through the readiness contract by hand, then calls it.
fn ready_and_call<S: Service<u32>>(svc: &mut S, req: u32) -> S::Future {
    loop {
        match svc.poll_ready(&mut noop_cx()) {
            Poll::Ready(Ok(())) => return svc.call(req),
            Poll::Ready(Err(_)) => panic!("not expected to fail"),
            Poll::Pending => {}
        }
    }
}

#[test]
fn hand_written_service_is_called_after_poll_ready() {
    let mut svc = AddOne;
    assert!(matches!(
        svc.poll_ready(&mut noop_cx()),
        Poll::Ready(Ok(()))
    ));
    let mut fut: Instant<u32, Oops> = svc.call(41);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(42)));
    let mut fut = ready_and_call(&mut svc, u32::MAX);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Err(Oops("overflow"))));
}

#[test]
fn stateful_service_pends_and_wakes_itself() {
    let (svc, stats) = SlowStart::new(2);
    let mut svc = tower_test::mock::Spawn::new(svc);
    assert_pending!(svc.poll_ready());
    assert!(svc.is_woken(), "SlowStart wakes its task when it pends");
    assert_pending!(svc.poll_ready());
    assert_ready_ok!(svc.poll_ready());
    // A reservation, once taken, is kept until the call.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = svc.call(21);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(42)));
    assert_eq!((stats.polls(), stats.calls()), (4, 1));
    // The call consumed the reservation.
    assert_pending!(svc.poll_ready());
}

#[test]
fn external_wake_up_reaches_the_task() {
    let (latch, key) = Latch::new();
    let mut svc = tower_test::mock::Spawn::new(latch);
    assert_pending!(svc.poll_ready());
    assert!(!svc.is_woken());
    key.open();
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let mut fut = svc.call("four");
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(4)));
}

fn call_generic<S>(mut svc: S, req: u32) -> S::Future
where
    S: Service<u32>,
{
    ready_and_call(&mut svc, req)
}

#[test]
fn mutable_reference_is_a_service() {
    let (mut svc, stats) = SlowStart::new(1);
    // `&mut S` forwards everything, including the associated types.
    let mut fut: Instant<u32, Oops> = call_generic(&mut svc, 5);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(10)));
    let by_ref: &mut SlowStart = &mut svc;
    let mut fut = call_generic(by_ref, 6);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(12)));
    assert_eq!(stats.calls(), 2);
}

type DynEcho = Box<
    dyn Service<String, Response = String, Error = Infallible, Future = Instant<String, Infallible>>
        + Send,
>;

#[test]
fn boxed_services_and_trait_objects() {
    let mut boxed: Box<AddOne> = Box::new(AddOne);
    let mut fut = call_generic(&mut boxed, 1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(2)));
    let mut fut: Instant<u32, Oops> = call_generic(boxed, 2);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(3)));

    let mut services: Vec<DynEcho> = vec![Box::new(Echo), Box::new(Echo)];
    for svc in &mut services {
        assert!(svc.poll_ready(&mut noop_cx()).is_ready());
        let mut fut = svc.call("hi".to_string());
        assert_eq!(poll_once(&mut fut), Poll::Ready(Ok("hi".to_string())));
    }
}

#[tokio::test]
async fn trait_object_works_with_service_ext() {
    let svc: DynEcho = Box::new(Echo);
    assert_eq!(svc.oneshot("dyn".to_string()).await, Ok("dyn".to_string()));
}

#[test]
fn root_reexports_are_the_same_items() {
    // `tower::Service` is `tower_service::Service`: a type implementing one
    // is usable where the other is required.
    fn needs_root_service<S: tower::Service<u32>>(_: &S) {}
    fn needs_crate_service<S: tower_service::Service<u32>>(_: &S) {}
    needs_root_service(&AddOne);
    needs_crate_service(&tower::service_fn(|n: u32| async move {
        Ok::<_, Infallible>(n)
    }));

    // `tower::Layer` is `tower_layer::Layer`.
    fn needs_root_layer<L: tower::Layer<AddOne>>(l: L) -> L::Service {
        l.layer(AddOne)
    }
    let wrapped: AddOne = needs_root_layer(tower_layer::Identity::new());
    assert_eq!(wrapped, AddOne);

    // The mock implements the same `Service` trait.
    let (mock, _handle) = tower_test::mock::pair::<u32, u32>();
    needs_root_service(&mock);

    // `BoxError` is exactly the boxed trait object.
    let err: BoxError = Box::new(Oops("x"));
    let same: Box<dyn std::error::Error + Send + Sync> = err;
    assert_eq!(same.to_string(), "oops: x");
    fn identity(e: BoxError) -> Box<dyn std::error::Error + Send + Sync> {
        e
    }
    assert!(identity("text".into()).to_string() == "text");
}

type BoxedFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<u32, BoxError>> + Send>>;

#[test]
fn service_trait_is_object_safe_for_any_future_type() {
    let svc = tower::service_fn(|n: u32| async move { Ok::<u32, BoxError>(n * 3) });
    let erased = svc.map_future(|f| -> BoxedFuture { Box::pin(f) });
    let mut object: Box<
        dyn Service<u32, Response = u32, Error = BoxError, Future = BoxedFuture> + Send,
    > = Box::new(erased);
    let mut fut = call_generic(&mut object, 3);
    assert_eq!(assert_ready!(poll_once(&mut fut)).unwrap(), 9);
}
