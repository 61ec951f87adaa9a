//! `tower::filter`: `Filter` and `AsyncFilter` with closure and hand-written
//! predicates, their layers, the builder and `ServiceExt` methods, and the
//! response futures.

use std::future::Future;
use std::num::ParseIntError;
use std::pin::Pin;
use std::time::Duration;

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::filter::future::{AsyncResponseFuture, ResponseFuture};
use tower::filter::{
    AsyncFilter, AsyncFilterLayer, AsyncPredicate, Filter, FilterLayer, Predicate,
};
use tower::layer::util::{Identity, Stack};
use tower::limit::ConcurrencyLimit;
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Mock, Spawn};

use super::support::{
    AddOne, Echo, Instant, Oops, assert_clone, assert_debug, assert_send, assert_sync,
};

/// Lets even numbers through.
fn even(n: u32) -> Result<u32, Oops> {
    if n % 2 == 0 { Ok(n) } else { Err(Oops("odd")) }
}

/// Parses the request: the predicate changes the request type.
fn parse(s: &'static str) -> Result<u32, ParseIntError> {
    s.parse()
}

/// A hand-written predicate: rejects strings longer than its limit.
#[derive(Clone, Copy, Debug)]
struct MaxLen(usize);

impl Predicate<String> for MaxLen {
    type Request = String;

    fn check(&mut self, request: String) -> Result<String, BoxError> {
        if request.len() <= self.0 {
            Ok(request)
        } else {
            Err(Box::new(Oops("too long")))
        }
    }
}

type Checked<T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send>>;

/// A hand-written async predicate: lets through the numbers of its list,
/// after a short pause on tokio's clock; answers with their square.
#[derive(Clone, Debug)]
struct AllowList(&'static [u32]);

impl AsyncPredicate<u32> for AllowList {
    type Future = Checked<u32>;
    type Request = u32;

    fn check(&mut self, request: u32) -> Checked<u32> {
        let allowed = self.0.contains(&request);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            if allowed {
                Ok(request * request)
            } else {
                Err(Box::new(Oops("not on the list")) as BoxError)
            }
        })
    }
}

fn instant_even(n: u32) -> Instant<u32, Oops> {
    std::future::ready(even(n))
}

#[tokio::test]
async fn a_predicate_lets_requests_through_or_rejects_them() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<u32, u32>| Filter::new(mock, even));

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(2);
    assert_request_eq!(handle, 2).send_response(20);
    assert_eq!(fut.await.unwrap(), 20);

    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(3));
    // Rejected at once with the predicate's own error; the inner service
    // sees nothing.
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("odd")));
    assert_pending!(handle.poll_request());

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(4);
    assert_request_eq!(handle, 4).send_response(40);
    assert_eq!(fut.await.unwrap(), 40);
}

#[tokio::test]
async fn readiness_is_forwarded_with_errors_boxed() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<u32, u32>| Filter::new(mock, even));
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    handle.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<u32, u32>| Filter::new(mock, even));
    handle.send_error(Oops("down"));
    let err = assert_ready_err!(svc.poll_ready());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("down")));
}

#[tokio::test]
async fn predicates_may_change_the_request_type() {
    let mut svc: Filter<AddOne, fn(&'static str) -> Result<u32, ParseIntError>> =
        Filter::new(AddOne, parse);
    let fut: ResponseFuture<u32, Instant<u32, Oops>> = svc.ready().await.unwrap().call("41");
    let rsp: Result<u32, BoxError> = fut.await;
    assert_eq!(rsp.unwrap(), 42);
    let err = svc.ready().await.unwrap().call("x").await.unwrap_err();
    assert!(err.is::<ParseIntError>());
    // Errors of the inner service are boxed, not wrapped.
    let err = svc
        .ready()
        .await
        .unwrap()
        .call("4294967295")
        .await
        .unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));

    // `check` runs the predicate alone.
    assert_eq!(svc.check("7").unwrap(), 7);
    assert!(svc.check("seven").is_err());
}

#[tokio::test]
async fn hand_written_predicates_accessors_and_layers() {
    let mut svc: Filter<Echo, MaxLen> = Filter::new(Echo, MaxLen(3));
    let _: &Echo = svc.get_ref();
    let _: &mut Echo = svc.get_mut();
    let rsp = svc.ready().await.unwrap().call("abc".to_string()).await;
    assert_eq!(rsp.unwrap(), "abc");
    let err = svc.clone().oneshot("abcd".to_string()).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("too long")));
    assert_eq!(svc.into_inner(), Echo);

    let layer: FilterLayer<MaxLen> = Filter::<Echo, MaxLen>::layer(MaxLen(1));
    let svc: Filter<Echo, MaxLen> = layer.layer(Echo);
    assert!(svc.oneshot("ab".to_string()).await.is_err());
    const LAYER: FilterLayer<MaxLen> = FilterLayer::new(MaxLen(2));
    assert!(LAYER.layer(Echo).oneshot("ab".to_string()).await.is_ok());

    let builder: ServiceBuilder<Stack<FilterLayer<MaxLen>, Identity>> =
        ServiceBuilder::new().filter(MaxLen(5));
    let svc: Filter<Echo, MaxLen> = builder.service(Echo);
    assert_eq!(svc.oneshot("hello".to_string()).await.unwrap(), "hello");

    let svc: Filter<AddOne, fn(u32) -> Result<u32, Oops>> = AddOne.filter(even);
    assert_eq!(svc.oneshot(2).await.unwrap(), 3);
    let svc = AddOne.filter::<_, &'static str>(parse);
    assert_eq!(svc.oneshot("9").await.unwrap(), 10);
}

#[tokio::test(start_paused = true)]
async fn an_async_predicate_is_awaited_before_the_call() {
    let (mut svc, mut handle) =
        mock::spawn_with(|mock: Mock<u32, u32>| AsyncFilter::new(mock, AllowList(&[2, 3])));

    assert_ready_ok!(svc.poll_ready());
    let fut: AsyncResponseFuture<AllowList, Mock<u32, u32>, u32> = svc.call(3);
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    // The predicate is still at work: nothing reached the inner service.
    assert_pending!(handle.poll_request());
    tokio::time::advance(Duration::from_millis(10)).await;
    assert!(fut.is_woken());
    assert_pending!(fut.poll());
    // The predicate turned 3 into 9.
    assert_request_eq!(handle, 9).send_response(90);
    assert_eq!(assert_ready_ok!(fut.poll()), 90);

    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(4));
    assert_pending!(fut.poll());
    tokio::time::advance(Duration::from_millis(10)).await;
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("not on the list")));
    assert_pending!(handle.poll_request());

    // Errors of the inner service are boxed, not wrapped.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(2));
    assert_pending!(fut.poll());
    tokio::time::advance(Duration::from_millis(10)).await;
    assert_pending!(fut.poll());
    assert_request_eq!(handle, 4).send_error(Oops("inner"));
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("inner")));
}

#[tokio::test]
async fn the_ready_service_travels_with_the_request() {
    let (mock, mut handle) = mock::pair::<u32, u32>();
    let limited = ConcurrencyLimit::new(mock, 1);
    let mut svc = Spawn::new(AsyncFilter::new(limited, |n: u32| async move { even(n) }));

    assert_ready_ok!(svc.poll_ready());
    let fut = svc.call(2);
    // The permit went with the request, even though the predicate has not
    // run yet.
    assert_pending!(svc.poll_ready());
    let mut fut = task::spawn(fut);
    assert_pending!(fut.poll());
    assert_request_eq!(handle, 2).send_response(4);
    assert_eq!(assert_ready_ok!(fut.poll()), 4);
    drop(fut);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());

    // A rejected request gives the permit back too.
    let mut fut = task::spawn(svc.call(3));
    assert_pending!(svc.poll_ready());
    let err = assert_ready_err!(fut.poll());
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("odd")));
    drop(fut);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    assert_pending!(handle.poll_request());
}

#[tokio::test]
async fn async_filter_accessors_layers_and_builder() {
    let mut svc = AsyncFilter::new(AddOne, |n: u32| async move { even(n) });
    let _: &AddOne = svc.get_ref();
    let _: &mut AddOne = svc.get_mut();
    assert_eq!(svc.check(2).await.unwrap(), 2);
    let err = svc.check(3).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("odd")));
    assert_eq!(svc.clone().oneshot(2).await.unwrap(), 3);
    assert!(svc.clone().oneshot(1).await.is_err());
    assert_eq!(svc.into_inner(), AddOne);

    // With an fn item the predicate's future type can be named.
    type Pred = fn(u32) -> Instant<u32, Oops>;
    let mut pred: Pred = instant_even;
    let check: futures::future::ErrInto<Instant<u32, Oops>, BoxError> =
        AsyncPredicate::<u32>::check(&mut pred, 8);
    assert_eq!(check.await.unwrap(), 8);

    let svc: AsyncFilter<AddOne, Pred> = AsyncFilterLayer::new(pred).layer(AddOne);
    let fut: AsyncResponseFuture<Pred, AddOne, u32> = svc.clone().call(6);
    assert_eq!(fut.await.unwrap(), 7);
    const LAYER: AsyncFilterLayer<AllowList> = AsyncFilterLayer::new(AllowList(&[]));
    let _: AsyncFilter<AddOne, AllowList> = LAYER.layer(AddOne);

    // `AsyncFilter::layer` returns the synchronous `FilterLayer`, as in tower.
    let layer: FilterLayer<MaxLen> = AsyncFilter::<Echo, MaxLen>::layer(MaxLen(3));
    let _: Filter<Echo, MaxLen> = layer.layer(Echo);

    let builder: ServiceBuilder<Stack<AsyncFilterLayer<Pred>, Identity>> =
        ServiceBuilder::new().filter_async(pred);
    let svc: AsyncFilter<AddOne, Pred> = builder.service(AddOne);
    assert_eq!(svc.oneshot(10).await.unwrap(), 11);

    let svc: AsyncFilter<AddOne, Pred> = AddOne.filter_async(pred);
    assert_eq!(svc.oneshot(12).await.unwrap(), 13);
    let svc = AddOne.filter_async::<_, u32>(|n: u32| async move { even(n) });
    assert!(svc.oneshot(13).await.is_err());
}

#[test]
fn auto_traits() {
    assert_clone::<Filter<AddOne, MaxLen>>();
    assert_debug::<Filter<AddOne, MaxLen>>();
    assert_send::<Filter<AddOne, MaxLen>>();
    assert_sync::<Filter<AddOne, MaxLen>>();
    assert_clone::<AsyncFilter<AddOne, AllowList>>();
    assert_debug::<AsyncFilter<AddOne, AllowList>>();
    assert_clone::<FilterLayer<MaxLen>>();
    assert_debug::<FilterLayer<MaxLen>>();
    assert_clone::<AsyncFilterLayer<AllowList>>();
    assert_debug::<AsyncFilterLayer<AllowList>>();
    assert_send::<ResponseFuture<u32, Instant<u32, Oops>>>();
    assert_send::<AsyncResponseFuture<AllowList, AddOne, u32>>();
}
