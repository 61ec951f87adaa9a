//! The failure policies of the fleet-wide limit, with Redis stopped and
//! restarted.

use std::future::pending;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::error::StoreError;
use donjon_redis::{GlobalConcurrencyLimit, OnFailure};
use donjon_test::redis::RedisServer;
use tokio::time::Instant;

use crate::{held, semaphore_with};

const LEASE: Duration = Duration::from_millis(600);

fn echo() -> impl Service<u32, Response = u32, Error = BoxError, Future: Send> + Clone {
    service_fn(|n: u32| async move { Ok::<_, BoxError>(n) })
}

#[tokio::test]
async fn fail_closed_fails_calls_promptly_while_redis_is_away_then_recovers() {
    let mut server = RedisServer::start();
    let semaphore = semaphore_with(&server.url(), "closed", 2, LEASE, OnFailure::FailClosed).await;
    let mut service = GlobalConcurrencyLimit::new(echo(), semaphore.clone());
    assert_eq!(service.ready().await.unwrap().call(1).await.unwrap(), 1);

    server.stop();
    for n in 0..3 {
        let start = Instant::now();
        // Ready, so that a balancer does not drop the service...
        service.ready().await.unwrap();
        // ...and the call fails with the store's error.
        let error = service.call(n).await.unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "took {:?}",
            start.elapsed()
        );
        let error = error.downcast_ref::<StoreError>().expect("a StoreError");
        assert!(error.is_timeout() || error.is_redis(), "{error}");
    }

    server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ready = service.ready().await.unwrap();
        if ready.call(7).await.is_ok() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the limit did not go back to Redis"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Leases are taken again.
    let mut slow = GlobalConcurrencyLimit::new(
        service_fn(|()| pending::<Result<(), BoxError>>()),
        semaphore.clone(),
    );
    let _response = slow.ready().await.unwrap().call(());
    assert_eq!(held(&semaphore).await, 1);
}

#[tokio::test]
async fn fail_open_lets_requests_through_while_redis_is_away() {
    let mut server = RedisServer::start();
    let semaphore = semaphore_with(&server.url(), "open", 1, LEASE, OnFailure::FailOpen).await;
    let service = GlobalConcurrencyLimit::new(
        service_fn(|()| pending::<Result<(), BoxError>>()),
        semaphore.clone(),
    );
    server.stop();
    // More than the limit of 1 at once: nothing holds them back.
    let mut responses = Vec::new();
    for _ in 0..3 {
        let mut service = service.clone();
        let start = Instant::now();
        service.ready().await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(1));
        responses.push(service.call(()));
    }
    assert_eq!(responses.len(), 3);
}

#[tokio::test]
async fn local_limits_each_process_to_its_share_while_redis_is_away() {
    let mut server = RedisServer::start();
    // 4 across 2 replicas: 2 at once in this process while Redis is away.
    let semaphore = semaphore_with(
        &server.url(),
        "local",
        4,
        LEASE,
        OnFailure::Local { replicas: 2 },
    )
    .await;
    let service = GlobalConcurrencyLimit::new(
        service_fn(|()| pending::<Result<(), BoxError>>()),
        semaphore,
    );
    server.stop();
    let mut responses = Vec::new();
    for _ in 0..2 {
        let mut service = service.clone();
        service.ready().await.unwrap();
        responses.push(service.call(()));
    }
    // The third waits for a local permit.
    let mut third = service.clone();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), third.ready())
            .await
            .is_err()
    );
    // A request that ends gives its local permit back.
    responses.pop();
    tokio::time::timeout(Duration::from_secs(1), third.ready())
        .await
        .expect("a local permit was given back")
        .unwrap();
}
