//! Batching: fewer round trips, and an overshoot within the bound the docs
//! state (`burst + rate × t + P × (n − 1)`), which a constructed case
//! reaches.

use std::time::Duration;

use donjon::limit::keyed::Decision;
use donjon_redis::{OnFailure, RedisStore};
use donjon_test::redis::RedisServer;
use futures::future::join_all;
use tokio::time::Instant;

use crate::support::{
    PATIENT, admitted, connect, decide, evalsha_calls, hourly, in_processes, quota, redis_micros,
    reset_stats,
};

async fn batching_store(url: &str, batch: u64, max_age: Duration) -> RedisStore {
    RedisStore::builder(connect(url).await)
        .with_batch(batch)
        .with_batch_max_age(max_age)
        .with_call_timeout(PATIENT)
        .with_on_failure(OnFailure::FailClosed)
        .build()
        .expect("valid settings")
}

#[test]
fn three_batching_stores_stay_within_the_stated_bound() {
    let server = RedisServer::start();
    let url = server.url();
    // 100 per second (one every 10 ms), 20 at once; batches of 10.
    let quota = quota(100, Duration::from_secs(1), 20);
    let (stores, batch) = (3, 10);
    let before = redis_micros(&server);
    let per_process = in_processes(stores, |_, start| {
        let url = url.clone();
        async move {
            let store = batching_store(&url, batch, Duration::from_secs(1)).await;
            start.wait();
            let until = Instant::now() + Duration::from_millis(800);
            let callers = (0..4).map(|_| async {
                let mut admitted = 0u64;
                while Instant::now() < until {
                    match decide(&store, "bounded", quota)
                        .await
                        .expect("redis decides")
                    {
                        Decision::Allowed => admitted += 1,
                        // Refusals are remembered locally: don't spin on them.
                        Decision::Limited { .. } => tokio::task::yield_now().await,
                    }
                }
                admitted
            });
            join_all(callers).await.into_iter().sum::<u64>()
        }
    });
    let elapsed = Duration::from_micros(redis_micros(&server) - before);
    let admitted: u64 = per_process.iter().sum();
    let bound = 20.0 + 100.0 * elapsed.as_secs_f64() + (stores as f64) * (batch - 1) as f64;
    assert!(
        admitted as f64 <= bound,
        "{admitted} admitted in {elapsed:?}: more than burst + rate × t + P × (n − 1) = {bound:.1}"
    );
    // Not refusing what the limit allows either: at least 90% of it was
    // granted, of which each store may still hold up to n − 1 at the end.
    let unbatched = 20.0 + 100.0 * elapsed.as_secs_f64();
    let held_at_end = (stores as f64) * (batch - 1) as f64;
    assert!(
        admitted as f64 + held_at_end >= 0.9 * unbatched,
        "{admitted} admitted in {elapsed:?}, for burst + rate × t = {unbatched:.1}"
    );
}

#[tokio::test]
async fn permits_held_while_the_limit_refills_overshoot_up_to_the_bound() {
    let server = RedisServer::start();
    let url = server.url();
    // 30 per 600 ms (one every 20 ms), a burst of 30; 3 stores with
    // batches of 10, keeping permits long enough for the scenario.
    let quota = quota(30, Duration::from_millis(600), 30);
    let mut stores = Vec::new();
    for _ in 0..3 {
        stores.push(batching_store(&url, 10, Duration::from_secs(30)).await);
    }

    // Each store takes a batch for one request: Redis's burst is spent,
    // and each store holds 9 permits.
    for store in &stores {
        assert_eq!(
            decide(store, "overshoot", quota).await.unwrap(),
            Decision::Allowed
        );
    }
    // Redis's limit refills completely (600 ms), the stores still hold
    // their permits.
    tokio::time::sleep(Duration::from_millis(700)).await;

    let start = redis_micros(&server);
    let mut total = 0;
    for store in &stores {
        total += admitted(store, "overshoot", quota, 60).await;
    }
    let t = Duration::from_micros(redis_micros(&server) - start).as_secs_f64();
    let rate = 50.0; // per second
    let unbatched_bound = 30.0 + rate * t;
    let bound = unbatched_bound + 3.0 * 9.0;
    assert!(
        total as f64 <= bound,
        "{total} admitted in {t:.3} s: over the bound {bound:.1}"
    );
    // The 27 held permits, and a full burst from Redis: more than a single
    // limit would let through in that interval.
    assert!(total >= 57, "{total} admitted in {t:.3} s");
    assert!(
        total as f64 > unbatched_bound,
        "{total} admitted in {t:.3} s: no overshoot past burst + rate × t = {unbatched_bound:.1}"
    );
}

#[tokio::test]
async fn batches_take_fewer_round_trips() {
    let server = RedisServer::start();
    let url = server.url();
    let quota = hourly(1_000);

    reset_stats(&server);
    let single = RedisStore::new(connect(&url).await);
    assert_eq!(admitted(&single, "unbatched", quota, 100).await, 100);
    let unbatched_calls = evalsha_calls(&server);

    reset_stats(&server);
    let batching = batching_store(&url, 10, Duration::from_secs(10)).await;
    assert_eq!(admitted(&batching, "batched", quota, 100).await, 100);
    let batched_calls = evalsha_calls(&server);

    // The first EVALSHA of the unbatched store also loaded the script.
    assert!(
        (100..=101).contains(&unbatched_calls),
        "{unbatched_calls} round trips unbatched"
    );
    assert_eq!(
        batched_calls, 10,
        "{batched_calls} round trips with batches of 10"
    );
}

#[tokio::test]
async fn a_refusal_is_remembered_and_answered_without_a_round_trip() {
    let server = RedisServer::start();
    let store = batching_store(&server.url(), 5, Duration::from_secs(10)).await;
    let quota = hourly(3);
    // The first batch gets the whole burst (3 of the 5 asked for).
    assert_eq!(admitted(&store, "refused", quota, 3).await, 3);
    reset_stats(&server);
    for _ in 0..10 {
        let Decision::Limited { retry_after } = decide(&store, "refused", quota).await.unwrap()
        else {
            panic!("the burst is spent");
        };
        assert!(retry_after > Duration::from_secs(3590), "{retry_after:?}");
    }
    assert_eq!(evalsha_calls(&server), 0);
}

#[tokio::test]
async fn permits_older_than_the_max_age_are_dropped_unused() {
    let server = RedisServer::start();
    let url = server.url();
    let store = batching_store(&url, 10, Duration::from_millis(200)).await;
    let quota = hourly(10);
    // One request takes the whole burst; 9 are held.
    assert_eq!(
        decide(&store, "stale", quota).await.unwrap(),
        Decision::Allowed
    );
    assert_eq!(
        decide(&store, "stale", quota).await.unwrap(),
        Decision::Allowed
    );
    tokio::time::sleep(Duration::from_millis(250)).await;
    // The 8 left are gone, and Redis has none to give.
    assert!(!decide(&store, "stale", quota).await.unwrap().is_allowed());
    let other = RedisStore::new(connect(&url).await);
    assert!(!decide(&other, "stale", quota).await.unwrap().is_allowed());
}

#[tokio::test]
async fn concurrent_requests_of_a_key_share_one_fetch() {
    let server = RedisServer::start();
    let store = batching_store(&server.url(), 10, Duration::from_secs(10)).await;
    let quota = hourly(1_000);
    crate::support::decide(&store, "warm-up", quota)
        .await
        .unwrap();
    reset_stats(&server);
    // 10 requests at once: one fetches, the others wait for its permits.
    let decisions = join_all((0..10).map(|_| decide(&store, "together", quota))).await;
    assert!(
        decisions
            .iter()
            .all(|decision| matches!(decision, Ok(Decision::Allowed)))
    );
    assert_eq!(evalsha_calls(&server), 1);
}
