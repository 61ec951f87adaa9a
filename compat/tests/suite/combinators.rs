//! The `tower::util` types used by name: constructors, layers, response
//! futures, `ServiceFn`, `FutureService`, and the readiness futures.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use futures::StreamExt;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::util::future::{
    AndThenFuture, MapErrFuture, MapResponseFuture, MapResultFuture, ThenFuture,
};
use tower::util::{
    AndThen, AndThenLayer, CallAll, CallAllUnordered, FutureService, MapErr, MapErrLayer,
    MapFuture, MapFutureLayer, MapRequest, MapRequestLayer, MapResponse, MapResponseLayer,
    MapResult, MapResultLayer, Oneshot, Ready, ReadyOneshot, ServiceFn, Then, ThenLayer,
    future_service, service_fn,
};
use tower::{Layer, Service, ServiceExt};

use super::support::{AddOne, Instant, Oops, SlowStart, assert_clone, assert_copy, poll_once};

type Ptr = fn(u32) -> u32;

fn double(n: u32) -> u32 {
    n * 2
}

fn ready_twice(n: u32) -> Instant<u32, Oops> {
    std::future::ready(Ok(n * 2))
}

fn keep(r: Result<u32, Oops>) -> Result<u32, Oops> {
    r
}

fn recover(r: Result<u32, Oops>) -> Instant<u32, Oops> {
    std::future::ready(Ok(r.unwrap_or(0)))
}

/// A struct that names a combinator type in a field.
#[derive(Clone, Debug)]
struct Doubled<S> {
    svc: tower::util::MapResponse<S, fn(u32) -> u32>,
}

impl<S: Service<u32, Response = u32>> Doubled<S> {
    fn new(inner: S) -> Self {
        Doubled {
            svc: MapResponse::new(inner, double as Ptr),
        }
    }
}

#[tokio::test]
async fn struct_fields_name_combinator_types() {
    let doubled = Doubled::new(AddOne);
    assert_eq!(doubled.clone().svc.oneshot(1).await, Ok(4));
    let Doubled { svc } = doubled;
    assert_eq!(svc.oneshot(2).await, Ok(6));
}

#[tokio::test]
async fn constructors_and_layers_by_name() {
    let svc: MapRequest<AddOne, Ptr> = MapRequest::new(AddOne, double);
    assert_eq!(svc.oneshot(1).await, Ok(3));
    let layer: MapRequestLayer<Ptr> = MapRequest::<AddOne, Ptr>::layer(double);
    let svc: MapRequest<AddOne, Ptr> = layer.layer(AddOne);
    assert_eq!(svc.oneshot(2).await, Ok(5));
    let svc = MapRequestLayer::new(double as Ptr).layer(AddOne);
    assert_eq!(svc.oneshot(3).await, Ok(7));

    let svc: MapResponse<AddOne, Ptr> = MapResponseLayer::new(double as Ptr).layer(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(4));
    let _: MapResponseLayer<Ptr> = MapResponse::<AddOne, Ptr>::layer(double);

    let to_text: fn(Oops) -> String = |e| e.0.to_string();
    let svc: MapErr<AddOne, fn(Oops) -> String> = MapErr::new(AddOne, to_text);
    assert_eq!(svc.oneshot(u32::MAX).await, Err("overflow".to_string()));
    let svc = MapErrLayer::new(to_text).layer(AddOne);
    assert_eq!(svc.oneshot(u32::MAX).await, Err("overflow".to_string()));
    let _: MapErrLayer<fn(Oops) -> String> = MapErr::<AddOne, _>::layer(to_text);

    let svc: MapResult<AddOne, fn(Result<u32, Oops>) -> Result<u32, Oops>> =
        MapResult::new(AddOne, keep);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = MapResultLayer::new(keep as fn(Result<u32, Oops>) -> Result<u32, Oops>).layer(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _: MapResultLayer<Ptr> = MapResult::<AddOne, Ptr>::layer(double);

    let svc: AndThen<AddOne, fn(u32) -> Instant<u32, Oops>> = AndThen::new(AddOne, ready_twice);
    assert_eq!(svc.oneshot(1).await, Ok(4));
    let svc = AndThenLayer::new(ready_twice as fn(u32) -> Instant<u32, Oops>).layer(AddOne);
    assert_eq!(svc.oneshot(2).await, Ok(6));
    let _: AndThenLayer<Ptr> = AndThen::<AddOne, Ptr>::layer(double);

    let svc: Then<AddOne, fn(Result<u32, Oops>) -> Instant<u32, Oops>> = Then::new(AddOne, recover);
    assert_eq!(svc.oneshot(u32::MAX).await, Ok(0));
    let svc = ThenLayer::new(recover as fn(Result<u32, Oops>) -> Instant<u32, Oops>).layer(AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _: ThenLayer<Ptr> = Then::<AddOne, Ptr>::layer(double);

    type Boxed = Pin<Box<dyn Future<Output = Result<u32, Oops>> + Send>>;
    let boxer: fn(Instant<u32, Oops>) -> Boxed = |f| Box::pin(f);
    let svc: MapFuture<AddOne, fn(Instant<u32, Oops>) -> Boxed> = MapFuture::new(AddOne, boxer);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = MapFutureLayer::new(boxer).layer(AddOne);
    assert_eq!(svc.into_inner(), AddOne);
    let _: MapFutureLayer<Ptr> = MapFuture::<AddOne, Ptr>::layer(double);
}

#[test]
fn layers_clone_the_closure_for_each_service() {
    let offset = 10;
    let layer = MapRequestLayer::new(move |n: u32| n + offset);
    let mut first = layer.layer(AddOne);
    let mut second = layer.layer(AddOne);
    assert!(first.poll_ready(&mut super::support::noop_cx()).is_ready());
    assert!(second.poll_ready(&mut super::support::noop_cx()).is_ready());
    assert_eq!(poll_once(&mut first.call(1)), Poll::Ready(Ok(12)));
    assert_eq!(poll_once(&mut second.call(2)), Poll::Ready(Ok(13)));
    // Services and layers are Clone when their parts are.
    let mut copy = first.clone();
    assert_eq!(poll_once(&mut copy.call(3)), Poll::Ready(Ok(14)));
    assert_clone::<MapRequestLayer<Ptr>>();
    assert_clone::<MapRequest<AddOne, Ptr>>();
    assert_clone::<MapResponse<AddOne, Ptr>>();
    assert_clone::<MapErr<AddOne, Ptr>>();
    assert_clone::<MapResult<AddOne, Ptr>>();
    assert_clone::<AndThen<AddOne, Ptr>>();
    assert_clone::<Then<AddOne, Ptr>>();
    assert_clone::<MapFuture<AddOne, Ptr>>();
    assert_clone::<MapResponseLayer<Ptr>>();
    assert_clone::<MapErrLayer<Ptr>>();
    assert_clone::<MapResultLayer<Ptr>>();
    assert_clone::<AndThenLayer<Ptr>>();
    assert_clone::<ThenLayer<Ptr>>();
    assert_clone::<MapFutureLayer<Ptr>>();
}

#[test]
fn response_futures_have_the_upstream_types() {
    type Fut = Instant<u32, Oops>;

    let mut svc = MapResponse::new(AddOne, double as Ptr);
    let mut fut: MapResponseFuture<Fut, Ptr> = svc.call(1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(4)));

    let mut svc = MapErr::new(AddOne, (|e| e) as fn(Oops) -> Oops);
    let mut fut: MapErrFuture<Fut, fn(Oops) -> Oops> = svc.call(u32::MAX);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Err(Oops("overflow"))));

    let mut svc = MapResult::new(AddOne, keep as fn(Result<u32, Oops>) -> Result<u32, Oops>);
    let mut fut: MapResultFuture<Fut, fn(Result<u32, Oops>) -> Result<u32, Oops>> = svc.call(1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(2)));

    let mut svc = AndThen::new(AddOne, ready_twice as fn(u32) -> Fut);
    let mut fut: AndThenFuture<Fut, Fut, fn(u32) -> Fut> = svc.call(1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(4)));

    let mut svc = Then::new(AddOne, recover as fn(Result<u32, Oops>) -> Fut);
    let mut fut: ThenFuture<Fut, Fut, fn(Result<u32, Oops>) -> Fut> = svc.call(u32::MAX);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(0)));

    // MapRequest and MapFuture have no future of their own.
    let mut svc = MapRequest::new(AddOne, double as Ptr);
    let mut fut: Fut = svc.call(1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(3)));
    let mut svc = MapFuture::new(AddOne, (|f| f) as fn(Fut) -> Fut);
    let mut fut: Fut = svc.call(1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(2)));
}

#[test]
fn response_futures_wait_for_the_inner_future() {
    let (mock, mut handle) = tower_test::mock::pair::<u32, u32>();
    let mut svc = MapResponse::new(mock, double as Ptr);
    assert!(svc.poll_ready(&mut super::support::noop_cx()).is_ready());
    let mut fut = task::spawn(svc.call(1));
    assert_pending!(fut.poll());
    let (_, send) = assert_ready!(handle.poll_request()).unwrap();
    send.send_response(21);
    assert!(fut.is_woken());
    assert_eq!(assert_ready_ok!(fut.poll()), 42);
}

#[tokio::test]
async fn service_fn_by_name() {
    let f: fn(u32) -> Instant<u32, Infallible> = |n| std::future::ready(Ok(n + 1));
    let svc: ServiceFn<fn(u32) -> Instant<u32, Infallible>> = service_fn(f);
    let copy = svc;
    assert_eq!(copy.oneshot(1).await, Ok(2));
    assert_eq!(svc.oneshot(2).await, Ok(3));
    assert_copy::<ServiceFn<fn(u32) -> Instant<u32, Infallible>>>();
    // The root re-export is the same function.
    let root: ServiceFn<_> = tower::service_fn(f);
    let mut svc = root;
    let mut fut: Instant<u32, Infallible> = svc.call(5);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(6)));

    // A closure with state.
    let mut total = 0;
    let mut svc = service_fn(|n: u32| {
        total += n;
        std::future::ready(Ok::<_, Infallible>(total))
    });
    assert_eq!(svc.ready().await.unwrap().call(2).await, Ok(2));
    assert_eq!(svc.ready().await.unwrap().call(3).await, Ok(5));
}

#[tokio::test]
async fn future_service_waits_for_the_service() {
    let (slow, stats) = SlowStart::new(1);
    let (tx, rx) = futures::channel::oneshot::channel::<SlowStart>();
    let make = Box::pin(async move { rx.await.map_err(|_| Oops("canceled")) });
    let svc: FutureService<
        Pin<Box<dyn Future<Output = Result<SlowStart, Oops>> + Send>>,
        SlowStart,
    > = future_service(make);
    let mut svc = tower_test::mock::Spawn::new(svc);
    assert_pending!(svc.poll_ready::<u32>());
    tx.send(slow).unwrap();
    assert!(svc.is_woken());
    // The produced service's own readiness comes next: it pends once.
    assert_pending!(svc.poll_ready::<u32>());
    assert_ready_ok!(svc.poll_ready::<u32>());
    assert_eq!(svc.call(4).await, Ok(8));
    assert_eq!(stats.calls(), 1);

    // An error from the future comes out of poll_ready.
    let failing =
        future_service::<_, AddOne, u32, Oops>(std::future::ready(Err(Oops("no service"))));
    assert_eq!(failing.oneshot(1).await, Err(Oops("no service")));

    // `FutureService::new` is the same.
    let svc: FutureService<Instant<AddOne, Oops>, AddOne> =
        FutureService::new(std::future::ready(Ok(AddOne)));
    assert_eq!(svc.oneshot(1).await, Ok(2));
}

#[test]
#[should_panic(expected = "FutureService::call was called before FutureService::poll_ready")]
fn future_service_call_before_ready_panics() {
    let mut svc = future_service::<_, AddOne, u32, Oops>(std::future::pending());
    drop(svc.call(1));
}

#[tokio::test]
async fn readiness_futures_by_name() {
    let (mut svc, _) = SlowStart::new(1);
    let lent: &mut SlowStart = Ready::new(&mut svc).await.unwrap();
    assert_eq!(lent.call(1).await, Ok(2));
    let mut svc: SlowStart = ReadyOneshot::new(svc).await.unwrap();
    assert_eq!(svc.call(2).await, Ok(4));
    let rsp = Oneshot::new(svc, 3).await;
    assert_eq!(rsp, Ok(6));

    let reqs = futures::stream::iter(vec![1_u32, 2]);
    let all: CallAll<AddOne, _> = CallAll::new(AddOne, reqs);
    assert_eq!(all.collect::<Vec<_>>().await, vec![Ok(2), Ok(3)]);
    let reqs = futures::stream::iter(vec![1_u32, 2]);
    let all: CallAllUnordered<AddOne, _> = CallAllUnordered::new(AddOne, reqs);
    let mut rsps = all.collect::<Vec<_>>().await;
    rsps.sort_by_key(|r| r.unwrap_or(0));
    assert_eq!(rsps, vec![Ok(2), Ok(3)]);
}

#[test]
#[should_panic(expected = "poll after Poll::Ready")]
fn ready_oneshot_polled_after_completion_panics() {
    let mut fut = ReadyOneshot::<AddOne, u32>::new(AddOne);
    assert!(poll_once(&mut fut).is_ready());
    let _ = poll_once(&mut fut);
}

#[test]
#[should_panic(expected = "polled after complete")]
fn oneshot_polled_after_success_panics() {
    let mut fut = Oneshot::new(AddOne, 1);
    assert_eq!(poll_once(&mut fut), Poll::Ready(Ok(2)));
    let _ = poll_once(&mut fut);
}

/// Constructors that are `const fn` upstream.
const IDENTITY_BUILDER: tower::ServiceBuilder<tower::layer::util::Identity> =
    tower::ServiceBuilder::new();
const MAP_REQUEST: MapRequest<AddOne, Ptr> = MapRequest::new(AddOne, double);
const MAP_RESPONSE: MapResponse<AddOne, Ptr> = MapResponse::new(AddOne, double);
const MAP_ERR_LAYER: MapErrLayer<Ptr> = MapErrLayer::new(double);
const THEN_LAYER: ThenLayer<Ptr> = ThenLayer::new(double);
const AND_THEN: AndThen<AddOne, Ptr> = AndThen::new(AddOne, double);
const MAP_RESULT: MapResult<AddOne, Ptr> = MapResult::new(AddOne, double);
const MAP_FUTURE: MapFuture<AddOne, Ptr> = MapFuture::new(AddOne, double);
const STACK: tower::layer::util::Stack<tower::layer::util::Identity, tower::layer::util::Identity> =
    tower::layer::util::Stack::new(
        tower::layer::util::Identity::new(),
        tower::layer::util::Identity::new(),
    );
const FUTURE_SERVICE: FutureService<Option<u8>, AddOne> = FutureService::new(None);

#[tokio::test]
async fn const_constructors() {
    let svc = IDENTITY_BUILDER.layer(STACK).service(MAP_REQUEST);
    assert_eq!(svc.oneshot(1).await, Ok(3));
    assert_eq!(MAP_RESPONSE.oneshot(1).await, Ok(4));
    let _ = (
        MAP_ERR_LAYER,
        THEN_LAYER,
        AND_THEN,
        MAP_RESULT,
        MAP_FUTURE,
        FUTURE_SERVICE,
    );
    const READY_ONESHOT: ReadyOneshot<AddOne, u32> = ReadyOneshot::new(AddOne);
    assert_eq!(READY_ONESHOT.await, Ok(AddOne));
    const ONESHOT: Oneshot<AddOne, u32> = Oneshot::new(AddOne, 7);
    assert_eq!(ONESHOT.await, Ok(8));
    const OPTIONAL: tower::util::Optional<AddOne> = tower::util::Optional::new::<u32>(None);
    assert!(
        OPTIONAL
            .oneshot(1)
            .await
            .unwrap_err()
            .is::<tower::util::error::optional::None>()
    );
}

/// A closure that holds a reference count, to observe its clones.
fn counted<A, R>(tracker: &std::sync::Arc<()>, f: fn(A) -> R) -> impl FnMut(A) -> R + Clone {
    let held = tracker.clone();
    move |a| {
        let _ = &held;
        f(a)
    }
}

#[test]
fn closures_are_cloned_per_call_only_by_the_fn_once_combinators() {
    use std::sync::Arc;
    let clones = |t: &Arc<()>| Arc::strong_count(t) - 1;
    let cx = &mut super::support::noop_cx();

    // MapRequest and MapFuture call their FnMut in place.
    let t = Arc::new(());
    let mut svc = MapRequest::new(AddOne, counted(&t, |n: u32| n));
    assert!(svc.poll_ready(cx).is_ready());
    let fut = svc.call(1);
    assert_eq!(clones(&t), 1);
    drop((fut, svc));
    assert_eq!(clones(&t), 0);
    let mut svc = MapFuture::new(AddOne, counted(&t, |f: Instant<u32, Oops>| f));
    let fut = svc.call(1);
    assert_eq!(clones(&t), 1);
    drop((fut, svc));

    // The others attach a clone of their closure to each response future.
    let mut svc = MapResponse::new(AddOne, counted(&t, |n: u32| n));
    let fut = svc.call(1);
    assert_eq!(clones(&t), 2);
    drop(fut);
    assert_eq!(clones(&t), 1);
    drop(svc);
    let mut svc = MapErr::new(AddOne, counted(&t, |e: Oops| e));
    let fut = svc.call(1);
    assert_eq!(clones(&t), 2);
    drop((fut, svc));
    let mut svc = MapResult::new(AddOne, counted(&t, |r: Result<u32, Oops>| r));
    let fut = svc.call(1);
    assert_eq!(clones(&t), 2);
    drop((fut, svc));
    let mut svc = AndThen::new(
        AddOne,
        counted(&t, |n: u32| std::future::ready(Ok::<u32, Oops>(n))),
    );
    let fut = svc.call(1);
    assert_eq!(clones(&t), 2);
    drop((fut, svc));
    let mut svc = Then::new(AddOne, counted(&t, std::future::ready::<Result<u32, Oops>>));
    let fut = svc.call(1);
    assert_eq!(clones(&t), 2);
    drop((fut, svc));
    assert_eq!(clones(&t), 0);

    // A layer clones its closure into every service it makes.
    let layer = MapResponseLayer::new(counted(&t, |n: u32| n));
    let first = layer.layer(AddOne);
    let second = layer.layer(AddOne);
    assert_eq!(clones(&t), 3);
    drop((layer, first, second));
    assert_eq!(clones(&t), 0);
}

#[test]
fn map_err_runs_its_closure_on_readiness_errors() {
    let mut svc = MapErr::new(super::support::Broken, |e: Oops| format!("{}!", e.0));
    assert_eq!(
        svc.poll_ready(&mut super::support::noop_cx()),
        Poll::Ready(Err("broken!".to_string()))
    );
    // MapResponse passes readiness errors through untouched.
    let mut svc = MapResponse::new(super::support::Broken, double as Ptr);
    assert_eq!(
        svc.poll_ready(&mut super::support::noop_cx()),
        Poll::Ready(Err(Oops("broken")))
    );
}
