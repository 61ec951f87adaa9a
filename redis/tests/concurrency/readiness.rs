//! The readiness contract, with a mock inner service and a real Redis:
//! `Pending` from the inner service propagates with its wake-up, one call
//! per `Ready`, a clone does not inherit a lease, inner errors surface,
//! and dropping releases.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Poll;
use std::time::Duration;

use donjon::BoxError;
use donjon_redis::GlobalConcurrencyLimit;
use donjon_test::mock::{self, Mock, Spawn};
use donjon_test::redis::RedisServer;

use crate::support::eventually;
use crate::{held, semaphore};

type Limited = Spawn<GlobalConcurrencyLimit<Mock<&'static str, &'static str>>>;

/// Polls the service whenever it is woken, for up to `within`: `Ready` if
/// it became ready, `Pending` if it was still pending then.
async fn poll_for(service: &mut Limited, within: Duration) -> Poll<Result<(), BoxError>> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let poll = service.poll_ready();
        if poll.is_ready() {
            return poll;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let woken = eventually(left, || {
            let woken = service.is_woken();
            async move { woken }
        })
        .await;
        if !woken {
            return Poll::Pending;
        }
    }
}

/// Long enough for a few round trips to Redis.
const SETTLE: Duration = Duration::from_millis(300);

/// Polls until ready, for up to 2 seconds.
async fn poll_until_ready(service: &mut Limited) -> Poll<Result<(), BoxError>> {
    poll_for(service, Duration::from_secs(2)).await
}

async fn limited(
    server: &RedisServer,
    key: &str,
    max: usize,
) -> (Limited, mock::Handle<&'static str, &'static str>) {
    let semaphore = semaphore(&server.url(), key, max, Duration::from_secs(10)).await;
    mock::spawn_with(move |mock| GlobalConcurrencyLimit::new(mock, semaphore.clone()))
}

#[tokio::test]
async fn a_pending_inner_service_propagates_and_its_wake_up_reaches_the_caller() {
    let server = RedisServer::start();
    let (mut service, mut handle) = limited(&server, "pending", 2).await;
    handle.allow(0);
    assert!(poll_for(&mut service, SETTLE).await.is_pending());
    // The lease is taken, the inner service is not ready.
    assert_eq!(held(service.get_ref().semaphore()).await, 1);
    handle.allow(1);
    assert!(service.is_woken());
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    // Still one lease: polling again while ready takes no other.
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    assert_eq!(held(service.get_ref().semaphore()).await, 1);
}

#[tokio::test]
async fn each_ready_allows_one_call() {
    let server = RedisServer::start();
    let (mut service, mut handle) = limited(&server, "one-call", 5).await;
    assert!(poll_until_ready(&mut service).await.is_ready());
    let response = service.call("first");
    let (request, send) = handle.next_request().await.unwrap();
    assert_eq!(request, "first");
    send.send_response("answer");
    assert_eq!(response.await.unwrap(), "answer");

    // A second call needs another `Ready`.
    let misuse = catch_unwind(AssertUnwindSafe(|| drop(service.call("second"))));
    let panic = misuse.expect_err("call without poll_ready must panic");
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(
        message.contains("poll_ready must return Ready(Ok(())) before each call"),
        "{message}"
    );
    assert!(matches!(handle.poll_request(), Poll::Pending));
}

#[tokio::test]
async fn a_clone_does_not_inherit_the_lease() {
    let server = RedisServer::start();
    let (mut service, _handle) = limited(&server, "clone", 1).await;
    assert!(poll_until_ready(&mut service).await.is_ready());
    let mut clone = Spawn::new(service.get_ref().clone());
    // The one permit is the original's: the clone waits.
    assert!(poll_for(&mut clone, SETTLE).await.is_pending());
    assert_eq!(held(service.get_ref().semaphore()).await, 1);
    // The original keeps its readiness.
    assert!(matches!(service.poll_ready(), Poll::Ready(Ok(()))));
    // Dropped, it gives the permit back, and the clone, retrying, gets it.
    drop(service);
    assert!(poll_until_ready(&mut clone).await.is_ready());
}

#[tokio::test]
async fn an_inner_poll_ready_error_reaches_the_caller() {
    let server = RedisServer::start();
    let (mut service, mut handle) = limited(&server, "inner-error", 1).await;
    handle.send_error("inner broke");
    let Poll::Ready(Err(error)) = poll_until_ready(&mut service).await else {
        panic!("the inner error must reach the caller");
    };
    assert_eq!(error.to_string(), "inner broke");
    let semaphore = service.get_ref().semaphore().clone();
    drop(service);
    assert!(
        eventually(Duration::from_secs(1), || async {
            held(&semaphore).await == 0
        })
        .await
    );
}

#[tokio::test]
async fn an_inner_response_error_reaches_the_caller_and_gives_the_lease_back() {
    let server = RedisServer::start();
    let (mut service, mut handle) = limited(&server, "response-error", 1).await;
    assert!(poll_until_ready(&mut service).await.is_ready());
    let response = service.call("request");
    let (_, send) = handle.next_request().await.unwrap();
    send.send_error("failed request");
    assert_eq!(response.await.unwrap_err().to_string(), "failed request");
    let semaphore = service.get_ref().semaphore().clone();
    assert!(
        eventually(Duration::from_secs(1), || async {
            held(&semaphore).await == 0
        })
        .await
    );
    // And the service takes a new lease for the next call.
    assert!(poll_until_ready(&mut service).await.is_ready());
}

#[tokio::test]
async fn a_dropped_inner_service_fails_the_caller_without_hanging() {
    let server = RedisServer::start();
    let (mut service, handle) = limited(&server, "inner-gone", 1).await;
    drop(handle);
    let settled =
        tokio::time::timeout(Duration::from_secs(2), poll_until_ready(&mut service)).await;
    let Ok(Poll::Ready(Err(error))) = settled else {
        panic!("a closed inner service must fail poll_ready");
    };
    assert!(!error.to_string().is_empty());
}
