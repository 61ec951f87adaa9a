//! The middleware modules' item paths, generic parameters spelled with
//! turbofish, auto traits of services and response futures, and the
//! `Debug` output the API fixes for opaque futures.

use std::convert::Infallible;
use std::future::Ready;
use std::time::Duration;

use tower::retry::Policy;
use tower::util::rng::HasherRng;
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use tower_test::mock::{self, Mock};

use super::support::{AddOne, Instant, Oops, assert_send, assert_sync, assert_unpin, poll_once};

type Req = &'static str;
type MockFuture = mock::future::ResponseFuture<Req>;
type Add = Instant<u32, Oops>;

#[derive(Clone, Copy, Debug)]
struct Never;

impl Policy<u32, u32, Oops> for Never {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut u32, _: &mut Result<u32, Oops>) -> Option<Ready<()>> {
        None
    }

    fn clone_request(&mut self, req: &u32) -> Option<u32> {
        Some(*req)
    }
}

fn keep(n: u32) -> Result<u32, Oops> {
    Ok(n)
}

fn keep_async(n: u32) -> Add {
    std::future::ready(Ok(n))
}

type Keep = fn(u32) -> Result<u32, Oops>;
type KeepAsync = fn(u32) -> Add;
type Pick = fn(&u32, &[AddOne]) -> usize;

fn first(_: &u32, _: &[AddOne]) -> usize {
    0
}

#[test]
fn every_item_at_its_path() {
    let _: Option<tower::buffer::Buffer<u32, Add>> = None;
    let _: Option<tower::buffer::BufferLayer<u32>> = None;
    let _: Option<tower::buffer::future::ResponseFuture<Add>> = None;
    let _: Option<tower::buffer::error::ServiceError> = None;
    let _: Option<tower::buffer::error::Closed> = None;

    let _: Option<tower::limit::ConcurrencyLimit<AddOne>> = None;
    let _: Option<tower::limit::ConcurrencyLimitLayer> = None;
    let _: Option<tower::limit::GlobalConcurrencyLimitLayer> = None;
    let _: Option<tower::limit::RateLimit<AddOne>> = None;
    let _: Option<tower::limit::RateLimitLayer> = None;
    let _: Option<tower::limit::concurrency::ConcurrencyLimit<AddOne>> = None;
    let _: Option<tower::limit::concurrency::ConcurrencyLimitLayer> = None;
    let _: Option<tower::limit::concurrency::GlobalConcurrencyLimitLayer> = None;
    let _: Option<tower::limit::concurrency::future::ResponseFuture<Add>> = None;
    let _: Option<tower::limit::rate::Rate> = None;
    let _: Option<tower::limit::rate::RateLimit<AddOne>> = None;
    let _: Option<tower::limit::rate::RateLimitLayer> = None;

    let _: Option<tower::load_shed::LoadShed<AddOne>> = None;
    let _: Option<tower::load_shed::LoadShedLayer> = None;
    let _: Option<tower::load_shed::error::Overloaded> = None;
    let _: Option<tower::load_shed::future::ResponseFuture<Add>> = None;

    let _: Option<tower::timeout::Timeout<AddOne>> = None;
    let _: Option<tower::timeout::TimeoutLayer> = None;
    let _: Option<tower::timeout::error::Elapsed> = None;
    let _: Option<tower::timeout::future::ResponseFuture<Add>> = None;

    let _: Option<tower::filter::Filter<AddOne, Keep>> = None;
    let _: Option<tower::filter::AsyncFilter<AddOne, KeepAsync>> = None;
    let _: Option<tower::filter::FilterLayer<Keep>> = None;
    let _: Option<tower::filter::AsyncFilterLayer<KeepAsync>> = None;
    let _: Option<tower::filter::future::ResponseFuture<u32, Add>> = None;
    let _: Option<tower::filter::future::AsyncResponseFuture<KeepAsync, AddOne, u32>> = None;

    let _: Option<tower::retry::Retry<Never, AddOne>> = None;
    let _: Option<tower::retry::RetryLayer<Never>> = None;
    let _: Option<tower::retry::future::ResponseFuture<Never, AddOne, u32>> = None;
    let _: Option<tower::retry::backoff::ExponentialBackoffMaker> = None;
    let _: Option<tower::retry::backoff::ExponentialBackoffMaker<HasherRng>> = None;
    let _: Option<tower::retry::backoff::ExponentialBackoff> = None;
    let _: Option<tower::retry::backoff::InvalidBackoff> = None;
    let _: Option<tower::retry::budget::TpsBudget> = None;
    let _: Option<tower::retry::budget::tps_budget::TpsBudget> = None;

    let _: Option<tower::make::Shared<AddOne>> = None;
    let _: Option<tower::make::IntoService<tower::make::Shared<AddOne>, u32>> = None;
    let _: Option<tower::make::AsService<'static, tower::make::Shared<AddOne>, u32>> = None;
    let _: Option<tower::make::future::SharedFuture<AddOne>> = None;

    let _: Option<tower::reconnect::Reconnect<Mock<Req, AddOne>, Req>> = None;
    let _: Option<tower::reconnect::ResponseFuture<Add, BoxError>> = None;

    let _: Option<tower::spawn_ready::SpawnReady<AddOne>> = None;
    let _: Option<tower::spawn_ready::SpawnReadyLayer> = None;
    let _: Option<tower::spawn_ready::future::ResponseFuture<Add, Oops>> = None;

    let _: Option<tower::steer::Steer<AddOne, Pick, u32>> = None;
}

fn uses_traits<P, A, M, B, C>()
where
    P: tower::filter::Predicate<u32>,
    A: tower::filter::AsyncPredicate<u32>,
    M: tower::make::MakeService<(), u32> + tower::MakeService<(), u32>,
    B: tower::retry::backoff::MakeBackoff,
    C: tower::retry::budget::Budget + tower::steer::Picker<AddOne, u32>,
{
}

#[derive(Debug)]
struct Both;

impl tower::retry::budget::Budget for Both {
    fn deposit(&self) {}

    fn withdraw(&self) -> bool {
        false
    }
}

impl tower::steer::Picker<AddOne, u32> for Both {
    fn pick(&mut self, _: &u32, _: &[AddOne]) -> usize {
        0
    }
}

#[test]
fn every_trait_at_its_path() {
    uses_traits::<
        Keep,
        KeepAsync,
        tower::make::Shared<AddOne>,
        tower::retry::backoff::ExponentialBackoffMaker,
        Both,
    >();
    fn backoff<B: tower::retry::backoff::Backoff>() {}
    fn policy<P: tower::retry::Policy<u32, u32, Oops>>() {}
    policy::<Never>();
    backoff::<tower::retry::backoff::ExponentialBackoff>();
}

#[tokio::test]
async fn generic_parameters_with_turbofish() {
    use tower::buffer::{Buffer, BufferLayer};
    use tower::filter::{AsyncFilter, AsyncFilterLayer, Filter, FilterLayer};
    use tower::limit::{ConcurrencyLimit, RateLimit};
    use tower::load_shed::LoadShed;
    use tower::make::Shared;
    use tower::reconnect::Reconnect;
    use tower::retry::backoff::ExponentialBackoffMaker;
    use tower::retry::{Retry, RetryLayer};
    use tower::spawn_ready::SpawnReady;
    use tower::steer::Steer;
    use tower::timeout::Timeout;

    let buffer = Buffer::<u32, Add>::new::<AddOne>(AddOne, 1);
    assert_eq!(buffer.oneshot(1).await.unwrap(), 2);
    let (buffer, worker) = Buffer::<u32, Add>::pair::<AddOne>(AddOne, 1);
    tokio::spawn(worker);
    assert_eq!(buffer.oneshot(1).await.unwrap(), 2);
    let _ = BufferLayer::<u32>::new(1);

    let svc = ConcurrencyLimit::<AddOne>::new(AddOne, 1);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = RateLimit::<AddOne>::new(
        AddOne,
        tower::limit::rate::Rate::new(1, Duration::from_secs(1)),
    );
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = LoadShed::<AddOne>::new(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let svc = Timeout::<AddOne>::new(AddOne, Duration::from_secs(1));
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);
    let svc = SpawnReady::<AddOne>::new(AddOne);
    assert_eq!(svc.oneshot(1).await.unwrap(), 2);

    let mut svc = Filter::<AddOne, Keep>::new(AddOne, keep);
    assert_eq!(svc.check::<u32>(3).unwrap(), 3);
    let _ = Filter::<AddOne, Keep>::layer(keep);
    let _ = FilterLayer::<Keep>::new(keep);
    let mut svc = AsyncFilter::<AddOne, KeepAsync>::new(AddOne, keep_async);
    assert_eq!(svc.check::<u32>(3).await.unwrap(), 3);
    let _ = AsyncFilter::<AddOne, Keep>::layer(keep);
    let _ = AsyncFilterLayer::<KeepAsync>::new(keep_async);

    let svc = Retry::<Never, AddOne>::new(Never, AddOne);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let _ = RetryLayer::<Never>::new(Never);
    let maker = ExponentialBackoffMaker::<HasherRng>::new(
        Duration::from_millis(1),
        Duration::from_millis(2),
        0.0,
        HasherRng::new(),
    );
    assert!(maker.is_ok());

    let svc = Steer::<AddOne, Pick, u32>::new(vec![AddOne], first);
    assert_eq!(svc.oneshot(1).await, Ok(2));
    let svc = Shared::<AddOne>::new(AddOne);
    let made: Result<AddOne, Infallible> = ServiceExt::<()>::oneshot(svc, ()).await;
    assert_eq!(made, Ok(AddOne));
    let (connector, _connects) = mock::pair::<Req, AddOne>();
    let _ = Reconnect::<Mock<Req, AddOne>, Req>::new(connector, "target");

    let builder = ServiceBuilder::new()
        .buffer::<u32>(1)
        .filter::<Keep>(keep)
        .filter_async::<KeepAsync>(keep_async)
        .retry::<Never>(Never);
    assert_eq!(builder.service(AddOne).oneshot(1).await.unwrap(), 2);
}

#[test]
fn auto_traits_of_services() {
    assert_unpin::<tower::buffer::Buffer<Req, MockFuture>>();
    assert_unpin::<tower::limit::ConcurrencyLimit<AddOne>>();
    assert_unpin::<tower::limit::RateLimit<AddOne>>();
    assert_unpin::<tower::load_shed::LoadShed<AddOne>>();
    assert_unpin::<tower::timeout::Timeout<AddOne>>();
    assert_unpin::<tower::filter::Filter<AddOne, Keep>>();
    assert_unpin::<tower::filter::AsyncFilter<AddOne, KeepAsync>>();
    assert_unpin::<tower::retry::Retry<Never, AddOne>>();
    assert_unpin::<tower::spawn_ready::SpawnReady<AddOne>>();
    assert_unpin::<tower::steer::Steer<AddOne, Pick, u32>>();
    assert_unpin::<tower::reconnect::Reconnect<Mock<Req, AddOne>, Req>>();
    assert_send::<tower::reconnect::Reconnect<Mock<Req, AddOne>, Req>>();
    assert_sync::<tower::reconnect::Reconnect<Mock<Req, AddOne>, Req>>();
    assert_send::<tower::steer::Steer<AddOne, Pick, u32>>();
    assert_sync::<tower::steer::Steer<AddOne, Pick, u32>>();
    assert_send::<tower::filter::AsyncFilter<AddOne, KeepAsync>>();
    assert_sync::<tower::filter::AsyncFilter<AddOne, KeepAsync>>();
    assert_sync::<tower::load_shed::LoadShed<AddOne>>();
}

#[test]
fn auto_traits_of_response_futures() {
    // Futures over `Unpin` futures are `Unpin` themselves (the timeout's
    // holds a timer, so it is not required to be).
    assert_unpin::<tower::buffer::future::ResponseFuture<Add>>();
    assert_unpin::<tower::limit::concurrency::future::ResponseFuture<Add>>();
    assert_unpin::<tower::load_shed::future::ResponseFuture<Add>>();
    assert_unpin::<tower::filter::future::ResponseFuture<u32, Add>>();
    assert_unpin::<tower::filter::future::AsyncResponseFuture<KeepAsync, AddOne, u32>>();
    assert_unpin::<tower::retry::future::ResponseFuture<Never, AddOne, u32>>();
    assert_unpin::<tower::spawn_ready::future::ResponseFuture<Add, Oops>>();
    assert_unpin::<tower::reconnect::ResponseFuture<Add, BoxError>>();
    assert_unpin::<tower::make::future::SharedFuture<AddOne>>();

    assert_send::<tower::buffer::future::ResponseFuture<Add>>();
    assert_sync::<tower::buffer::future::ResponseFuture<Add>>();
    assert_send::<tower::limit::concurrency::future::ResponseFuture<Add>>();
    assert_sync::<tower::limit::concurrency::future::ResponseFuture<Add>>();
    assert_sync::<tower::load_shed::future::ResponseFuture<Add>>();
    assert_send::<tower::timeout::future::ResponseFuture<Add>>();
    assert_sync::<tower::timeout::future::ResponseFuture<Add>>();
    assert_sync::<tower::filter::future::ResponseFuture<u32, Add>>();
    assert_sync::<tower::filter::future::AsyncResponseFuture<KeepAsync, AddOne, u32>>();
    assert_sync::<tower::retry::future::ResponseFuture<Never, AddOne, u32>>();
    assert_send::<tower::spawn_ready::future::ResponseFuture<Add, Oops>>();
    assert_sync::<tower::spawn_ready::future::ResponseFuture<Add, Oops>>();
    assert_sync::<tower::reconnect::ResponseFuture<Add, BoxError>>();
    assert_sync::<tower::make::future::SharedFuture<AddOne>>();
}

#[tokio::test]
async fn futures_can_be_polled_through_pin_new() {
    let mut fut = tower::limit::ConcurrencyLimit::new(AddOne, 1)
        .ready_oneshot()
        .await
        .unwrap()
        .call(1);
    assert_eq!(poll_once(&mut fut), std::task::Poll::Ready(Ok(2)));
    let mut fut = tower::load_shed::LoadShed::new(AddOne).call(1);
    assert!(poll_once(&mut fut).is_ready());
    let mut fut = tower::filter::Filter::new(AddOne, keep as Keep).call(1);
    assert!(poll_once(&mut fut).is_ready());
    let mut fut = tower::retry::Retry::new(Never, AddOne).call(1);
    assert_eq!(poll_once(&mut fut), std::task::Poll::Ready(Ok(2)));
}

#[test]
fn debug_of_opaque_futures() {
    let mut filter = tower::filter::Filter::new(AddOne, keep as Keep);
    let fut = filter.call(1);
    assert_eq!(format!("{fut:?}"), "ResponseFuture(...)");

    let mut shared = tower::make::Shared::new(AddOne);
    let fut = Service::<()>::call(&mut shared, ());
    assert_eq!(format!("{fut:?}"), "SharedFuture(...)");

    let mut shed = tower::load_shed::LoadShed::new(AddOne);
    let fut = shed.call(1);
    assert_eq!(format!("{fut:?}"), "ResponseFuture");
}

#[tokio::test]
async fn debug_of_the_spawn_ready_future() {
    let mut svc = tower::spawn_ready::SpawnReady::new(AddOne);
    let fut = svc.ready().await.unwrap().call(1);
    assert_eq!(format!("{fut:?}"), "ResponseFuture(...)");
}

// Only `Buffer::new` (and layering a buffer), creating a `RateLimit`,
// `Timeout::call`, `ExponentialBackoff::next_backoff` and a `SpawnReady`
// whose inner service is not ready need a runtime; the rest works without.
#[test]
fn middleware_that_needs_no_runtime() {
    use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
    use tower_test::mock::Spawn;

    let mut svc = Spawn::new(tower::limit::ConcurrencyLimit::new(AddOne, 1));
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(poll_once(&mut svc.call(1)), std::task::Poll::Ready(Ok(2)));

    let mut svc = Spawn::new(tower::load_shed::LoadShed::new(AddOne));
    assert_ready_ok!(svc.poll_ready());
    assert!(poll_once(&mut svc.call(1)).is_ready());

    let mut svc = Spawn::new(tower::spawn_ready::SpawnReady::new(AddOne));
    assert_ready_ok!(svc.poll_ready());
    assert!(poll_once(&mut svc.call(1)).is_ready());

    let mut svc = Spawn::new(tower::retry::Retry::new(Never, AddOne));
    assert_ready_ok!(svc.poll_ready());
    assert_eq!(poll_once(&mut svc.call(1)), std::task::Poll::Ready(Ok(2)));

    let (inner, mut handle) = mock::pair::<Req, Req>();
    let (svc, worker) = tower::buffer::Buffer::pair(inner, 1);
    let mut svc = Spawn::new(svc);
    let mut worker = task::spawn(worker);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(worker.poll());
    let (req, send) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(req, "hello");
    send.send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");

    let budget = tower::retry::budget::TpsBudget::new(Duration::from_secs(1), 1, 1.0);
    assert!(tower::retry::budget::Budget::withdraw(&budget));
    let mut maker = tower::retry::backoff::ExponentialBackoffMaker::default();
    let _ = tower::retry::backoff::MakeBackoff::make_backoff(&mut maker);
}
