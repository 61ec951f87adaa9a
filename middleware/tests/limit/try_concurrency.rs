//! `TryConcurrencyLimit`, its layer and `ServiceBuilder::try_concurrency_limit`:
//! a concurrency limit that refuses the requests over it at once.

use donjon::limit::try_concurrency::error::Overloaded;
use donjon::limit::{TryConcurrencyLimit, TryConcurrencyLimitLayer};
use donjon::{BoxError, Service, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, Echo, assert_readiness_follows_mock, ready};
use crate::{Handle, Mock};

/// A refusing limit of `max` around a fresh mock.
fn new_service(max: usize) -> (Spawn<TryConcurrencyLimit<Mock>>, Handle) {
    mock::spawn_layer(TryConcurrencyLimitLayer::new(max))
}

/// Asserts that `error` is the limit's refusal.
fn assert_overloaded(error: &BoxError) {
    assert!(
        error.is::<Overloaded>(),
        "expected Overloaded, got {error:?}"
    );
}

// Refusing.

#[tokio::test]
async fn a_call_over_the_limit_is_refused_at_once_without_reaching_the_service() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let first = service.call("one");

    assert_ready_ok!(
        service.poll_ready(),
        "ready all the same: the call will be refused, not queued"
    );
    let mut refused = task::spawn(service.call("two"));
    let error = assert_ready_err!(refused.poll(), "refused at once");
    assert_overloaded(&error);

    assert_request_eq!(handle, "one").send_response("uno");
    assert_eq!(first.await.unwrap(), "uno");
    assert_pending!(
        handle.poll_request(),
        "the refused call never reached the mock"
    );
}

#[tokio::test]
async fn a_refused_caller_holds_no_permit_and_the_next_caller_gets_the_one_given_back() {
    let (mut service, mut handle) = new_service(1);
    let mut other = service.clone();
    assert_ready_ok!(service.poll_ready());
    let first = service.call("one");
    assert_ready_ok!(other.poll_ready());
    assert_overloaded(&other.call("refused").await.unwrap_err());

    assert_request_eq!(handle, "one").send_response("uno");
    first.await.unwrap();
    // The refused clone stays alive; it holds nothing, so the permit is free.
    assert_ready_ok!(service.poll_ready());
    let second = service.call("two");
    assert_request_eq!(handle, "two").send_response("dos");
    assert_eq!(second.await.unwrap(), "dos");
    drop(other);
}

#[tokio::test]
async fn a_limit_of_zero_refuses_every_request() {
    let (mut service, mut handle) = new_service(0);
    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        assert_overloaded(&service.call("hello").await.unwrap_err());
    }
    assert_pending!(handle.poll_request());
}

#[tokio::test]
async fn clones_share_one_limit() {
    let (mut first, mut handle) = new_service(2);
    let mut second = first.clone();
    let mut third = first.clone();
    assert_ready_ok!(first.poll_ready());
    let one = first.call("one");
    assert_ready_ok!(second.poll_ready());
    let two = second.call("two");
    assert_ready_ok!(third.poll_ready());
    assert_overloaded(&third.call("three").await.unwrap_err());
    for (request, response) in [("one", "1"), ("two", "2")] {
        assert_request_eq!(handle, request).send_response(response);
    }
    assert_eq!((one.await.unwrap(), two.await.unwrap()), ("1", "2"));
}

#[cfg(feature = "load-shed")]
#[tokio::test]
async fn the_refusal_is_load_sheds_overloaded() {
    let (mut service, _handle) = new_service(0);
    assert_ready_ok!(service.poll_ready());
    let error = service.call("hello").await.unwrap_err();
    assert!(error.is::<donjon::load_shed::error::Overloaded>());
    assert_eq!(error.to_string(), "service overloaded");
}

// The readiness contract.

#[test]
fn with_a_permit_readiness_follows_the_inner_service() {
    let (mut service, mut handle) = new_service(1);
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
}

#[tokio::test]
async fn a_permit_is_kept_while_the_inner_service_is_not_ready() {
    let (mut service, mut handle) = new_service(1);
    let mut other = service.clone();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_pending!(service.poll_ready(), "polled again: still one permit");
    assert_ready_ok!(other.poll_ready());
    assert_overloaded(&other.call("refused").await.unwrap_err());

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn call_without_poll_ready_panics() {
    let (mut service, _handle) = new_service(1);
    drop(service.call("hello"));
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn one_poll_ready_allows_one_call() {
    let (mut service, _handle) = new_service(2);
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("one");
    drop(service.call("two"));
}

// Errors.

#[tokio::test]
async fn a_readiness_error_reaches_the_caller_and_frees_the_permit() {
    let (mut service, mut handle) = new_service(1);
    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));

    // The permit came back: a clone gets it.
    let mut other = service.clone();
    assert_ready_ok!(other.poll_ready());
    let response = other.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
}

#[tokio::test]
async fn a_response_error_reaches_the_caller_and_frees_the_permit() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    assert_ready_ok!(service.poll_ready());
    let next = service.call("again");
    assert_request_eq!(handle, "again").send_response("ok");
    assert_eq!(next.await.unwrap(), "ok");
}

#[test]
fn a_dropped_inner_service_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service(1);
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error:?}");
}

// Cancellation.

#[tokio::test]
async fn a_dropped_response_future_frees_its_permit() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    drop(service.call("dropped"));
    assert_ready_ok!(service.poll_ready());
    let response = service.call("next");
    let _ = handle.next_request().await;
    assert_request_eq!(handle, "next").send_response("ok");
    assert_eq!(response.await.unwrap(), "ok");
}

#[test]
fn a_dropped_service_holding_a_permit_frees_it() {
    let (mut service, _handle) = new_service(1);
    let mut other = service.clone();
    assert_ready_ok!(service.poll_ready());
    drop(service);
    assert_ready_ok!(other.poll_ready());
    // It got the permit: its call would reach the mock, not be refused.
    let _ = other.get_ref();
}

#[test]
fn into_inner_gives_back_an_unused_permit() {
    let mut limit = TryConcurrencyLimit::new(Echo, 1);
    let mut other = limit.clone();
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(Service::<&str>::poll_ready(&mut limit, &mut cx).is_ready());
    let _echo: Echo = limit.into_inner();
    assert!(Service::<&str>::poll_ready(&mut other, &mut cx).is_ready());
    let answer = futures::executor::block_on(other.call("hello")).unwrap();
    assert_eq!(
        answer, "hello",
        "the permit was free: the call went through"
    );
}

#[cfg(feature = "load-shed")]
#[tokio::test]
async fn a_caller_shed_while_the_inner_service_is_not_ready_frees_its_permit() {
    use donjon::Layer;
    use donjon::load_shed::LoadShedLayer;

    // A load shed over the limit, the clone kept alive, as a server keeps
    // one per connection.
    let (mock, mut handle) = mock::pair::<&'static str, &'static str>();
    let limit = TryConcurrencyLimit::new(mock, 1);
    let mut shed = task::spawn(());
    let mut kept = LoadShedLayer::new().layer(limit.clone());
    handle.allow(0);
    shed.enter(|cx, _| {
        assert!(kept.poll_ready(cx).is_ready(), "shed: always ready");
    });
    assert_overloaded(&kept.call("shed").await.unwrap_err());

    // The limit holds no permit for the shed caller: another one gets it.
    handle.allow(1);
    let mut other = limit;
    ready(&mut other).await.unwrap();
    let response = other.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
    drop(kept);
}

// Construction.

#[tokio::test]
async fn service_builder_try_concurrency_limit_refuses_over_the_limit() {
    let (mock, _handle) = mock::pair::<&'static str, &'static str>();
    let mut service = ServiceBuilder::new().try_concurrency_limit(1).service(mock);
    ready(&mut service).await.unwrap();
    let _held = service.call("held");
    ready(&mut service).await.unwrap();
    let error = service.call("more").await.unwrap_err();
    assert_overloaded(&error);
}

#[test]
#[should_panic(expected = "a concurrency limit allows at most Semaphore::MAX_PERMITS")]
fn a_limit_above_max_permits_panics() {
    let _ = TryConcurrencyLimit::new(Echo, usize::MAX);
}
