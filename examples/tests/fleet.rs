//! The `fleet` example over real HTTP on loopback, against a real
//! redis-server: three axum replicas sharing one limit per API key.
//!
//! These tests run on the real clock (Redis keeps its own); quotas of one
//! request per hour make the counts exact whatever the timing.

use std::time::Duration;

use axum::http::StatusCode;
use donjon::limit::gcra::Quota;
use donjon::limit::keyed::MemoryStore;
use donjon_examples::fleet::{REPLICAS, burst, count, start};
use donjon_redis::{OnFailure, RedisStore};
use donjon_test::redis::RedisServer;

/// `burst` requests per key at once, then one per hour.
fn hourly(burst: u64) -> Quota {
    Quota::new(1, Duration::from_secs(3600))
        .and_then(|quota| quota.with_burst(burst))
        .expect("a valid quota")
}

async fn redis_store(server: &RedisServer, on_failure: OnFailure) -> RedisStore {
    let connection = donjon_redis::connect(&server.url())
        .await
        .expect("the test's redis-server answers");
    RedisStore::builder(connection)
        .with_call_timeout(Duration::from_secs(1))
        .with_on_failure(on_failure)
        .build()
        .expect("a valid configuration")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_each_keys_limit_through_redis() {
    let server = RedisServer::start();
    let store = redis_store(&server, OnFailure::FailClosed).await;
    let addrs = start(|_| store.clone(), hourly(5)).await.expect("ports");

    let keys = ["alice", "bob"];
    let answers = burst(&addrs, &keys, 30).await;
    let counts = count(&answers, &keys);

    // Each key gets its burst of 5 once across the fleet, not once per
    // replica.
    assert_eq!(counts.admitted, vec![5, 5]);
    assert_eq!(counts.limited, vec![25, 25]);
    assert_eq!(counts.other, 0);
    // Every replica took its share of the traffic, and said so.
    for (replica, name) in REPLICAS.iter().enumerate() {
        let answered = counts.admitted_by_replica[replica] + counts.limited_by_replica[replica];
        assert_eq!(answered, 20, "replica {name} answered {answered}");
    }
    for answer in &answers {
        assert_eq!(answer.served_by.as_deref(), Some(REPLICAS[answer.replica]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limited_request_gets_429_with_retry_after() {
    let server = RedisServer::start();
    let store = redis_store(&server, OnFailure::FailClosed).await;
    let addrs = start(|_| store.clone(), hourly(1)).await.expect("ports");

    let answers = burst(&addrs, &["carol"], 3).await;
    let limited: Vec<_> = answers
        .iter()
        .filter(|answer| answer.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!(limited.len(), 2);
    for answer in limited {
        // The next request passes an hour after the first: Redis says so,
        // rounded up to whole seconds.
        let retry_after = answer.retry_after.expect("a Retry-After header");
        assert!(
            (3598..=3600).contains(&retry_after),
            "Retry-After: {retry_after}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_keeping_their_own_limits_let_the_quota_through_once_each() {
    // The problem the shared store solves.
    let addrs = start(|_| MemoryStore::<String>::new(), hourly(5))
        .await
        .expect("ports");
    let keys = ["alice"];
    let counts = count(&burst(&addrs, &keys, 30).await, &keys);
    assert_eq!(counts.admitted, vec![15]);
    assert_eq!(counts.admitted_by_replica, [5, 5, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_each_replica_keeps_its_share_of_the_limit() {
    let mut server = RedisServer::start();
    let store = redis_store(&server, OnFailure::Local { replicas: 3 }).await;
    let addrs = start(|_| store.clone(), hourly(6)).await.expect("ports");
    server.stop();

    let keys = ["dave"];
    let counts = count(&burst(&addrs, &keys, 30).await, &keys);
    // The three replicas share one store (in one process here), which
    // falls back to a limit of a third of the quota: a burst of 2.
    assert_eq!(counts.admitted, vec![2]);
    assert_eq!(counts.limited, vec![28]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_a_fail_closed_fleet_answers_503() {
    let mut server = RedisServer::start();
    let store = redis_store(&server, OnFailure::FailClosed).await;
    let addrs = start(|_| store.clone(), hourly(6)).await.expect("ports");
    server.stop();

    let answers = burst(&addrs, &["erin"], 6).await;
    assert!(
        answers
            .iter()
            .all(|answer| answer.status == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
}

#[test]
fn the_binary_compares_replicas_alone_with_replicas_sharing_redis() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_fleet"))
        .output()
        .expect("the fleet binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // 40 requests per key at once; a burst of 5 per key, then one every
    // 6 s: 15 (three replicas' bursts) alone, 5 shared.
    let alice = stdout
        .lines()
        .find(|line| line.starts_with("key alice"))
        .expect("a line for alice");
    let columns: Vec<&str> = alice.split_whitespace().collect();
    assert_eq!(
        columns,
        ["key", "alice", "15", "/", "25", "5", "/", "35"],
        "{stdout}"
    );
}
