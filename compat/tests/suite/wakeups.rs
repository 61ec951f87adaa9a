//! Readiness through every wrapper: a `Pending` from the inner service
//! comes out as `Pending`, the inner service's wake-up reaches the caller's
//! task, and the call that follows goes through.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};
use tower::util::{
    AndThen, BoxCloneService, BoxCloneSyncService, BoxService, Either, FutureService, MapErr,
    MapFuture, MapRequest, MapResponse, MapResponseLayer, MapResult, Optional, Then,
    UnsyncBoxService,
};
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};
use tower_test::mock;

use super::support::{Instant, Latch, Oops};

/// Wraps a closed [`Latch`] with `wrap`, checks that the wrapper pends and
/// is woken when the latch opens, then calls it with `"four"`.
async fn check<S, F>(wrap: F) -> Result<S::Response, S::Error>
where
    F: FnOnce(Latch) -> S,
    S: Service<&'static str>,
    S::Error: std::fmt::Debug,
{
    let (latch, key) = Latch::new();
    let mut svc = mock::Spawn::new(wrap(latch));
    assert_pending!(svc.poll_ready());
    assert!(!svc.is_woken());
    key.open();
    assert!(
        svc.is_woken(),
        "the wrapper must pass the task's waker down"
    );
    assert!(svc.poll_ready().is_ready());
    svc.call("four").await
}

fn plus(n: usize) -> usize {
    n + 1
}

#[tokio::test]
async fn combinators_forward_wake_ups() {
    assert_eq!(
        check(|l| MapRequest::new(l, |s: &'static str| s)).await,
        Ok(4)
    );
    assert_eq!(check(|l| MapResponse::new(l, plus)).await, Ok(5));
    assert_eq!(check(|l| MapErr::new(l, |e: Oops| e.0)).await, Ok(4));
    assert_eq!(
        check(|l| MapResult::new(l, |r: Result<usize, Oops>| r)).await,
        Ok(4)
    );
    assert_eq!(
        check(|l| AndThen::new(l, |n: usize| std::future::ready(Ok::<_, Oops>(n * 2)))).await,
        Ok(8)
    );
    assert_eq!(check(|l| Then::new(l, std::future::ready)).await, Ok(4));
    assert_eq!(check(|l| MapFuture::new(l, |f| f)).await, Ok(4));
    assert_eq!(
        check(|l| l.map_response(plus).map_err(|e| e.0)).await,
        Ok(5)
    );
}

#[tokio::test]
async fn routing_and_boxing_forward_wake_ups() {
    assert_eq!(check(Either::<Latch, Latch>::Left).await, Ok(4));
    assert_eq!(check(Either::<Latch, Latch>::Right).await, Ok(4));
    assert_eq!(check(|l| Optional::new(Some(l))).await.unwrap(), 4);
    assert_eq!(check(BoxService::new).await, Ok(4));
    assert_eq!(check(UnsyncBoxService::new).await, Ok(4));
    assert_eq!(check(BoxCloneService::new).await, Ok(4));
    assert_eq!(check(BoxCloneSyncService::new).await, Ok(4));
    assert_eq!(check(Box::new).await, Ok(4));
    assert_eq!(
        check(|l| FutureService::new(std::future::ready(Ok::<_, Oops>(l)))).await,
        Ok(4)
    );
    assert_eq!(
        check(|l| {
            ServiceBuilder::new()
                .boxed()
                .map_request(|s: &'static str| s)
                .option_layer(Some(MapResponseLayer::new(plus as fn(usize) -> usize)))
                .map_response(plus)
                .map_err(|e: Oops| e.0)
                .service(l)
        })
        .await,
        Ok(6)
    );
}

#[test]
fn readiness_futures_are_woken() {
    let (mut latch, key) = Latch::new();
    {
        let mut ready = task::spawn(latch.ready());
        assert_pending!(ready.poll());
        key.open();
        assert!(ready.is_woken());
        assert_ready_ok!(ready.poll());
    }

    let (latch, key) = Latch::new();
    let mut oneshot = task::spawn(latch.oneshot("three"));
    assert_pending!(oneshot.poll());
    key.open();
    assert!(oneshot.is_woken());
    assert_eq!(assert_ready!(oneshot.poll()), Ok(5));

    let (latch, key) = Latch::new();
    let mut ready = task::spawn(latch.ready_oneshot());
    assert_pending!(ready.poll());
    key.open();
    assert!(ready.is_woken());
    let mut svc: Latch = assert_ready_ok!(ready.poll());
    let mut fut: Instant<usize, Oops> = svc.call("x");
    assert_eq!(
        super::support::poll_once(&mut fut),
        std::task::Poll::Ready(Ok(1))
    );
}

#[tokio::test(start_paused = true)]
async fn map_future_can_add_a_timeout() {
    type Timed = Pin<Box<dyn Future<Output = Result<u32, BoxError>> + Send>>;
    let (svc, mut handle) = mock::pair::<u32, u32>();
    let svc = svc.map_future(|fut| -> Timed {
        Box::pin(async move { tokio::time::timeout(Duration::from_secs(1), fut).await? })
    });

    let slow = tokio::spawn(svc.clone().oneshot(1));
    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req, 1);
    tokio::time::advance(Duration::from_millis(1001)).await;
    let err = slow.await.unwrap().unwrap_err();
    assert!(err.is::<tokio::time::error::Elapsed>());
    send.send_response(10);

    let quick = tokio::spawn(svc.oneshot(2));
    let (_, send) = handle.next_request().await.unwrap();
    tokio::time::advance(Duration::from_millis(999)).await;
    send.send_response(20);
    assert_eq!(quick.await.unwrap().unwrap(), 20);
}
