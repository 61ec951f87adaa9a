//! The failure policies, with Redis stopped, paused and restarted: each
//! does what its docs say, no decision waits much past the call timeout,
//! and the store goes back to Redis's decisions when Redis is back.

use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::Decision;
use donjon_redis::{OnFailure, RedisStore};
use donjon_test::redis::RedisServer;
use futures::future::join_all;

use crate::support::{connect, decide, eventually, hourly, timed_decide};

const CALL_TIMEOUT: Duration = Duration::from_millis(100);

/// Generous: the call timeout, and a loaded machine's scheduling.
const PROMPT: Duration = Duration::from_secs(1);

async fn store_with(server: &RedisServer, on_failure: OnFailure) -> RedisStore {
    RedisStore::builder(connect(&server.url()).await)
        .with_call_timeout(CALL_TIMEOUT)
        .with_on_failure(on_failure)
        .build()
        .expect("valid settings")
}

/// Whether `store` decides with Redis again: on a fresh key of a quota of 4
/// per hour, Redis admits exactly 4 of 5 requests, which no policy does
/// (fail open admits 5, fail closed none, a local quarter 1).
async fn decides_with_redis(store: &RedisStore, attempt: &mut u32) -> bool {
    *attempt += 1;
    let key = format!("recovery-{attempt}");
    let mut pattern = Vec::new();
    for _ in 0..5 {
        pattern.push(matches!(
            decide(store, &key, hourly(4)).await,
            Ok(Decision::Allowed)
        ));
    }
    pattern == [true, true, true, true, false]
}

/// Restarts `server` and waits, a few seconds at most, for `store` to
/// decide with Redis again.
async fn restart_and_recover(server: &mut RedisServer, store: &RedisStore) {
    server.restart();
    let mut attempt = 0;
    let mut recovered = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::time::Instant::now() < deadline {
        if decides_with_redis(store, &mut attempt).await {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        recovered,
        "the store did not go back to Redis within 10 s of its restart"
    );
}

#[tokio::test]
async fn fail_open_admits_while_redis_is_away_then_recovers() {
    let mut server = RedisServer::start();
    let store = store_with(&server, OnFailure::FailOpen).await;
    let quota = hourly(1);
    assert_eq!(
        decide(&store, "open", quota).await.unwrap(),
        Decision::Allowed
    );
    assert!(!decide(&store, "open", quota).await.unwrap().is_allowed());

    server.stop();
    for _ in 0..5 {
        let (decision, took) = timed_decide(&store, "open", quota).await;
        assert_eq!(decision.unwrap(), Decision::Allowed);
        assert!(took < PROMPT, "a decision took {took:?}");
    }
    restart_and_recover(&mut server, &store).await;
}

#[tokio::test]
async fn fail_closed_errors_while_redis_is_away_then_recovers() {
    let mut server = RedisServer::start();
    let store = store_with(&server, OnFailure::FailClosed).await;
    let quota = hourly(100);
    assert_eq!(
        decide(&store, "closed", quota).await.unwrap(),
        Decision::Allowed
    );

    server.stop();
    for _ in 0..5 {
        let (decision, took) = timed_decide(&store, "closed", quota).await;
        let error = decision.unwrap_err();
        assert!(
            error.is_unavailable() && (error.is_timeout() || error.is_redis()),
            "{error}"
        );
        if error.is_redis() {
            assert!(error.redis_error().is_some());
            assert!(std::error::Error::source(&error).is_some());
        }
        assert!(took < PROMPT, "a decision took {took:?}");
    }
    restart_and_recover(&mut server, &store).await;
}

#[tokio::test]
async fn fail_closed_times_out_while_redis_is_paused() {
    let server = RedisServer::start();
    let store = store_with(&server, OnFailure::FailClosed).await;
    let quota = hourly(100);
    assert_eq!(
        decide(&store, "paused", quota).await.unwrap(),
        Decision::Allowed
    );

    server.command(&["CLIENT", "PAUSE", "2000", "ALL"]).unwrap();
    for _ in 0..3 {
        let (decision, took) = timed_decide(&store, "paused", quota).await;
        let error = decision.unwrap_err();
        assert!(error.is_timeout(), "{error}");
        assert_eq!(error.to_string(), "redis did not answer within 100ms");
        assert!(
            took < PROMPT,
            "a decision took {took:?} while Redis was paused"
        );
    }
    // Redis answers again when the pause is over.
    let answers = eventually(Duration::from_secs(5), || async {
        decide(&store, "after-pause", quota).await.is_ok()
    })
    .await;
    assert!(answers, "no decision from Redis after its pause");
}

#[tokio::test]
async fn local_falls_back_to_the_quota_divided_among_the_replicas() {
    let mut server = RedisServer::start();
    let store = store_with(&server, OnFailure::Local { replicas: 4 }).await;
    // 40 per hour across 4 replicas: 10 per hour each while Redis is away.
    let quota = Quota::new(40, Duration::from_secs(3600)).unwrap();
    assert_eq!(
        decide(&store, "local", quota).await.unwrap(),
        Decision::Allowed
    );

    server.stop();
    let decisions = join_all((0..20).map(|_| timed_decide(&store, "local", quota))).await;
    let mut admitted = 0;
    for (decision, took) in decisions {
        assert!(took < PROMPT, "a decision took {took:?}");
        if decision.expect("the local limit decides").is_allowed() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10);
    restart_and_recover(&mut server, &store).await;
}

#[tokio::test]
async fn local_falls_back_while_redis_is_paused() {
    let server = RedisServer::start();
    let store = store_with(&server, OnFailure::Local { replicas: 2 }).await;
    let quota = hourly(6);
    assert_eq!(
        decide(&store, "warm", quota).await.unwrap(),
        Decision::Allowed
    );

    server.command(&["CLIENT", "PAUSE", "3000", "ALL"]).unwrap();
    let decisions = join_all((0..6).map(|_| timed_decide(&store, "paused-local", quota))).await;
    let mut admitted = 0;
    for (decision, took) in decisions {
        assert!(
            took < PROMPT,
            "a decision took {took:?} while Redis was paused"
        );
        admitted += u32::from(decision.unwrap().is_allowed());
    }
    // Half of the burst of 6.
    assert_eq!(admitted, 3);
}

#[tokio::test]
async fn batching_stores_fall_back_too() {
    let mut server = RedisServer::start();
    let store = RedisStore::builder(connect(&server.url()).await)
        .with_call_timeout(CALL_TIMEOUT)
        .with_on_failure(OnFailure::FailClosed)
        .with_batch(5)
        .build()
        .unwrap();
    let quota = hourly(100);
    assert_eq!(
        decide(&store, "batched", quota).await.unwrap(),
        Decision::Allowed
    );
    server.stop();
    // The 4 permits held are used; then Redis is needed, and fails.
    for _ in 0..4 {
        assert_eq!(
            decide(&store, "batched", quota).await.unwrap(),
            Decision::Allowed
        );
    }
    let (decision, took) = timed_decide(&store, "batched", quota).await;
    assert!(decision.unwrap_err().is_unavailable());
    assert!(took < PROMPT, "a decision took {took:?}");
    server.restart();
    let back = eventually(Duration::from_secs(10), || async {
        decide(&store, "batched-again", quota).await.is_ok()
    })
    .await;
    assert!(back, "the batching store did not go back to Redis");
}
