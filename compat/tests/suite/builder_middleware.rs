//! `ServiceBuilder`'s middleware methods (`buffer`, `concurrency_limit`,
//! `rate_limit`, `retry`, `timeout`, `load_shed`, `filter`, `filter_async`)
//! composed into the stacks users write, with the resulting types named.

use std::future::Ready;
use std::time::Duration;

use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};
use tower::buffer::{Buffer, BufferLayer};
use tower::filter::{AsyncFilter, AsyncFilterLayer, Filter, FilterLayer};
use tower::layer::util::{Identity, Stack};
use tower::limit::{ConcurrencyLimit, ConcurrencyLimitLayer, RateLimitLayer};
use tower::load_shed::LoadShed;
use tower::load_shed::error::Overloaded;
use tower::retry::{Policy, Retry, RetryLayer};
use tower::timeout::error::Elapsed;
use tower::timeout::{Timeout, TimeoutLayer};
use tower::util::{BoxCloneService, MapRequest, MapRequestLayer, MapResponse, MapResponseLayer};
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use tower_test::assert_request_eq;
use tower_test::mock::{self, Mock, Spawn};

use super::support::{AddOne, Instant, Oops};

type Req = &'static str;
type ToBool = fn(Req) -> bool;

fn is_hello(req: Req) -> bool {
    req == "hello"
}

fn is_world(rsp: Req) -> bool {
    rsp == "world"
}

/// Never retries.
#[derive(Clone, Copy, Debug)]
struct NoRetry;

impl<R, T, E> Policy<R, T, E> for NoRetry {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut R, _: &mut Result<T, E>) -> Option<Ready<()>> {
        None
    }

    fn clone_request(&mut self, _: &R) -> Option<R> {
        None
    }
}

type Inner = MapResponse<MapRequest<Mock<bool, Req>, ToBool>, ToBool>;
type Client = Buffer<
    Req,
    tower::limit::concurrency::future::ResponseFuture<
        tower::retry::future::ResponseFuture<NoRetry, Inner, Req>,
    >,
>;
type ClientLayers = Stack<
    MapRequestLayer<ToBool>,
    Stack<
        MapResponseLayer<ToBool>,
        Stack<
            RetryLayer<NoRetry>,
            Stack<RateLimitLayer, Stack<ConcurrencyLimitLayer, Stack<BufferLayer<Req>, Identity>>>,
        >,
    >,
>;

#[tokio::test]
async fn a_full_client_stack() {
    let builder: ServiceBuilder<ClientLayers> = ServiceBuilder::new()
        .buffer(5)
        .concurrency_limit(5)
        .rate_limit(5, Duration::from_secs(5))
        .retry(NoRetry)
        .map_response(is_world as ToBool)
        .map_request(is_hello as ToBool);
    let (mock, mut handle) = mock::pair::<bool, Req>();
    let mut client: Client = builder.service(mock);

    let fut = client.ready().await.unwrap().call("hello");
    assert_request_eq!(handle, true).send_response("world");
    let rsp: Result<bool, BoxError> = fut.await;
    assert!(rsp.unwrap());

    let fut = client.ready().await.unwrap().call("bye");
    assert_request_eq!(handle, false).send_response("earth");
    assert!(!fut.await.unwrap());
}

/// Retries requests that timed out, once.
#[derive(Clone, Copy, Debug)]
struct RetryTimeouts(usize);

impl Policy<Req, Req, BoxError> for RetryTimeouts {
    type Future = Ready<()>;

    fn retry(&mut self, _: &mut Req, result: &mut Result<Req, BoxError>) -> Option<Ready<()>> {
        match result {
            Err(e) if e.is::<Elapsed>() && self.0 > 0 => {
                self.0 -= 1;
                Some(std::future::ready(()))
            }
            _ => None,
        }
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        Some(*req)
    }
}

#[tokio::test(start_paused = true)]
async fn retry_around_timeout() {
    let builder: ServiceBuilder<Stack<TimeoutLayer, Stack<RetryLayer<RetryTimeouts>, Identity>>> =
        ServiceBuilder::new()
            .retry(RetryTimeouts(1))
            .timeout(Duration::from_millis(100));
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<Req, Req>| builder.service(mock));
    let _: &Spawn<Retry<RetryTimeouts, Timeout<Mock<Req, Req>>>> = &svc;

    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("hello"));
    assert_pending!(fut.poll());
    let (_, _slow) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(100)).await;
    // The first attempt timed out; the second one goes out.
    assert_pending!(fut.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(fut.poll()), "world");

    // Out of retries: the timeout comes through.
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("again"));
    assert_pending!(fut.poll());
    let (_, _slow_first) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(100)).await;
    assert_pending!(fut.poll());
    let (_, _slow_second) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(100)).await;
    let err = assert_ready_err!(fut.poll());
    assert!(err.is::<Elapsed>());
}

#[tokio::test]
async fn load_shed_in_front_of_a_concurrency_limit() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<Req, Req>| {
        ServiceBuilder::new()
            .load_shed()
            .concurrency_limit(1)
            .service(mock)
    });
    let _: &Spawn<LoadShed<ConcurrencyLimit<Mock<Req, Req>>>> = &svc;

    assert_ready_ok!(svc.poll_ready());
    let first = svc.call("first");
    // The limit is reached: the next request is shed, not queued.
    assert_ready_ok!(svc.poll_ready());
    let mut second = task::spawn(svc.call("second"));
    let err = assert_ready_err!(second.poll());
    assert!(err.is::<Overloaded>());

    assert_request_eq!(handle, "first").send_response("done");
    assert_eq!(first.await.unwrap(), "done");
    assert_ready_ok!(svc.poll_ready());
    let third = svc.call("third");
    assert_request_eq!(handle, "third").send_response("done");
    assert_eq!(third.await.unwrap(), "done");
}

#[tokio::test]
async fn boxed_middleware_stack() {
    let svc: BoxCloneService<u32, u32, BoxError> = ServiceBuilder::new()
        .boxed_clone()
        .load_shed()
        .concurrency_limit(2)
        .timeout(Duration::from_secs(1))
        .service(AddOne);
    assert_eq!(svc.clone().oneshot(1).await.unwrap(), 2);
    let err = svc.oneshot(u32::MAX).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("overflow")));
}

#[tokio::test(start_paused = true)]
async fn a_buffer_shares_a_rate_limit_between_clones() {
    let svc = ServiceBuilder::new()
        .buffer(10)
        .rate_limit(2, Duration::from_secs(1))
        .service(AddOne);
    let start = tokio::time::Instant::now();
    let mut answers = Vec::new();
    for n in 0..3 {
        answers.push(svc.clone().oneshot(n).await.unwrap());
    }
    assert_eq!(answers, [1, 2, 3]);
    // The third request had to wait for the next window.
    assert!(tokio::time::Instant::now() - start >= Duration::from_secs(1));
}

fn small(n: u32) -> Result<u32, Oops> {
    if n < 100 { Ok(n) } else { Err(Oops("too big")) }
}

fn odd(n: u32) -> Instant<u32, Oops> {
    std::future::ready(if n % 2 == 1 { Ok(n) } else { Err(Oops("even")) })
}

type Small = fn(u32) -> Result<u32, Oops>;
type Odd = fn(u32) -> Instant<u32, Oops>;

#[tokio::test]
async fn filters_in_a_builder() {
    let builder: ServiceBuilder<
        Stack<AsyncFilterLayer<Odd>, Stack<TimeoutLayer, Stack<FilterLayer<Small>, Identity>>>,
    > = ServiceBuilder::new()
        .filter(small as Small)
        .timeout(Duration::from_secs(1))
        .filter_async(odd as Odd);
    let svc: Filter<Timeout<AsyncFilter<AddOne, Odd>>, Small> = builder.service(AddOne);
    assert_eq!(svc.clone().oneshot(3).await.unwrap(), 4);
    let err = svc.clone().oneshot(300).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("too big")));
    let err = svc.oneshot(4).await.unwrap_err();
    assert_eq!(err.downcast_ref::<Oops>(), Some(&Oops("even")));

    // The same with `ServiceExt`.
    let svc = AddOne.filter_async(odd as Odd).filter(small as Small);
    let _: &Filter<AsyncFilter<AddOne, Odd>, Small> = &svc;
    assert_eq!(svc.oneshot(5).await.unwrap(), 6);
}
