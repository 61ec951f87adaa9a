//! Leases: given back at once, renewed while their request lasts, expiring
//! when nobody renews them.

use std::future::pending;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::GlobalConcurrencyLimit;
use donjon_test::mock::Spawn;
use donjon_test::redis::RedisServer;

use crate::support::eventually;
use crate::{held, semaphore};

/// Long enough that its call timeout (a third) never expires on a loaded
/// machine; short enough to wait for.
const LEASE: Duration = Duration::from_millis(900);

fn never_answers() -> impl Service<(), Response = (), Error = BoxError, Future: Send> + Clone {
    service_fn(|()| pending::<Result<(), BoxError>>())
}

#[tokio::test]
async fn dropped_response_futures_give_their_leases_back_at_once() {
    let server = RedisServer::start();
    let semaphore = semaphore(&server.url(), "drop", 5, Duration::from_secs(10)).await;
    let mut service = GlobalConcurrencyLimit::new(never_answers(), semaphore.clone());
    let mut responses = Vec::new();
    for _ in 0..3 {
        responses.push(service.ready().await.unwrap().call(()));
    }
    assert_eq!(held(&semaphore).await, 3);
    drop(responses);
    // Well before the lease time (10 s): they were given back, not expired.
    let released = eventually(Duration::from_secs(1), || async {
        held(&semaphore).await == 0
    })
    .await;
    assert!(released, "{} leases still held", held(&semaphore).await);
    assert_eq!(
        server.command(&["ZCARD", "donjon:leases:drop"]).unwrap(),
        "0"
    );
}

#[tokio::test]
async fn a_ready_service_dropped_gives_its_lease_back() {
    let server = RedisServer::start();
    let semaphore = semaphore(&server.url(), "ready-drop", 1, Duration::from_secs(10)).await;
    let mut service = GlobalConcurrencyLimit::new(never_answers(), semaphore.clone());
    service.ready().await.unwrap();
    assert_eq!(held(&semaphore).await, 1);
    drop(service);
    assert!(
        eventually(Duration::from_secs(1), || async {
            held(&semaphore).await == 0
        })
        .await
    );
}

#[tokio::test]
async fn a_request_longer_than_its_lease_keeps_it_by_renewing() {
    let server = RedisServer::start();
    let url = server.url();
    let semaphore = semaphore(&url, "renew", 1, LEASE).await;
    let service = GlobalConcurrencyLimit::new(
        service_fn(|()| async {
            tokio::time::sleep(LEASE * 3).await;
            Ok::<_, BoxError>("done")
        }),
        semaphore.clone(),
    );
    let request = tokio::spawn(service.oneshot(()));
    // Another process, with a limit of 1 on the same key.
    let other = semaphore_of_other_process(&url).await;
    let mut waiting = GlobalConcurrencyLimit::new(never_answers(), other);
    assert!(
        eventually(Duration::from_millis(500), || async {
            held(&semaphore).await == 1
        })
        .await
    );
    for _ in 0..12 {
        // Over two lease times, the slot stays taken.
        let refused = tokio::time::timeout(Duration::from_millis(150), waiting.ready()).await;
        assert!(
            refused.is_err(),
            "another process got the renewed lease's permit"
        );
        assert_eq!(held(&semaphore).await, 1);
    }
    assert_eq!(request.await.unwrap().unwrap(), "done");
    // Given back: the other process gets the permit.
    tokio::time::timeout(Duration::from_secs(1), waiting.ready())
        .await
        .expect("the permit was given back")
        .unwrap();
}

async fn semaphore_of_other_process(url: &str) -> donjon_redis::RedisSemaphore {
    semaphore(url, "renew", 1, LEASE).await
}

#[tokio::test]
async fn a_lease_nobody_renews_expires_after_the_lease_time() {
    let server = RedisServer::start();
    let url = server.url();
    let semaphore = semaphore(&url, "crash", 1, LEASE).await;
    let mut service = GlobalConcurrencyLimit::new(never_answers(), semaphore.clone());
    let response = service.ready().await.unwrap().call(());
    // A process that dies: its response future is never polled again (no
    // renewal) and never dropped (no release).
    std::mem::forget(response);
    assert_eq!(held(&semaphore).await, 1);
    let dead = expiries(&server, "donjon:leases:crash");
    assert_eq!(dead.len(), 1);

    let mut other = GlobalConcurrencyLimit::new(never_answers(), semaphore.clone());
    tokio::time::timeout(Duration::from_secs(10), other.ready())
        .await
        .expect("the permit comes back when the lease expires")
        .unwrap();
    // The new lease was taken at its expiry minus the lease time, on
    // Redis's clock: not before the dead one expired.
    let ours = expiries(&server, "donjon:leases:crash");
    assert_eq!(ours.len(), 1, "the dead lease is gone");
    let taken_at = ours[0] - LEASE.as_micros() as u64;
    assert!(
        taken_at >= dead[0],
        "the permit came back {} µs before the lease expired",
        dead[0] - taken_at
    );
}

/// The expiries of the leases on `redis_key`, in microseconds of Redis's
/// clock.
fn expiries(server: &RedisServer, redis_key: &str) -> Vec<u64> {
    server
        .command(&["ZRANGE", redis_key, "0", "-1", "WITHSCORES"])
        .expect("ZRANGE answers")
        .lines()
        .skip(1)
        .step_by(2)
        .map(|score| score.parse::<f64>().expect("a score") as u64)
        .collect()
}

#[tokio::test]
async fn a_lost_lease_lets_its_request_finish() {
    let server = RedisServer::start();
    let semaphore = semaphore(&server.url(), "lost", 1, LEASE).await;
    let service = GlobalConcurrencyLimit::new(
        service_fn(|()| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok::<_, BoxError>(7)
        }),
        semaphore.clone(),
    );
    let request = tokio::spawn(service.oneshot(()));
    assert!(
        eventually(Duration::from_millis(500), || async {
            held(&semaphore).await == 1
        })
        .await
    );
    // An operator (or a Redis failover) wipes the leases.
    server.command(&["DEL", "donjon:leases:lost"]).unwrap();
    assert_eq!(request.await.unwrap().unwrap(), 7);
    // The renewal did not bring it back.
    assert_eq!(held(&semaphore).await, 0);
}

#[tokio::test]
async fn a_lease_granted_to_an_abandoned_poll_ready_is_given_back() {
    let server = RedisServer::start();
    let semaphore = semaphore(&server.url(), "abandoned", 1, Duration::from_secs(3)).await;
    // Redis knows the script: the next EVALSHA grants the lease by itself.
    let mut warm = GlobalConcurrencyLimit::new(never_answers(), semaphore.clone());
    warm.ready().await.unwrap();
    drop(warm);
    assert!(
        eventually(Duration::from_secs(1), || async {
            held(&semaphore).await == 0
        })
        .await
    );
    crate::support::reset_stats(&server);

    let mut service = Spawn::new(GlobalConcurrencyLimit::new(
        never_answers(),
        semaphore.clone(),
    ));
    server.command(&["CLIENT", "PAUSE", "300", "ALL"]).unwrap();
    // The request for a lease is sent, and waits in Redis.
    assert!(service.poll_ready().is_pending());
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(service);
    // When the pause ends, Redis grants the lease, then takes it back.
    let stats = || server.command(&["INFO", "commandstats"]).unwrap();
    let given_back = eventually(Duration::from_secs(2), || async {
        stats().contains("cmdstat_zrem:calls=1,")
    })
    .await;
    assert!(given_back, "no ZREM: {}", stats());
    let stats = stats();
    let evalsha = stats
        .lines()
        .find(|line| line.starts_with("cmdstat_evalsha:"))
        .unwrap_or_default();
    assert!(
        evalsha.starts_with("cmdstat_evalsha:calls=1,") && evalsha.contains("failed_calls=0"),
        "the lease was granted: {stats}"
    );
    assert_eq!(held(&semaphore).await, 0);
}
