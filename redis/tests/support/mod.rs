//! Helpers shared by the donjon-redis integration tests: "processes" (OS
//! threads with a runtime and a Redis connection of their own), decisions
//! awaited whatever the store answers, and readings of the Redis server
//! under test.
//!
//! Included with `#[path = "../support/mod.rs"] mod support;` from each
//! test crate.
#![allow(
    dead_code,
    reason = "each test crate uses its own subset of these helpers"
)]

use std::future::Future;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::{Answer, Decision, RateStore};
use donjon_redis::RedisStore;
use donjon_redis::error::StoreError;
use donjon_test::redis::RedisServer;
use tokio::time::Instant;

/// A quota of `num` per `per`, with a burst of `burst`.
pub(crate) fn quota(num: u64, per: Duration, burst: u64) -> Quota {
    Quota::new(num, per)
        .and_then(|quota| quota.with_burst(burst))
        .expect("a valid quota")
}

/// One per hour, with a burst of `burst`: nothing refills during a test.
pub(crate) fn hourly(burst: u64) -> Quota {
    quota(1, Duration::from_secs(3600), burst)
}

/// The store's decision for one request of `key`, whether it answers at
/// once or later.
pub(crate) async fn decide(
    store: &RedisStore,
    key: &str,
    quota: Quota,
) -> Result<Decision, StoreError> {
    match store.acquire(key, quota) {
        Answer::Now(decision) => decision,
        Answer::Later(future) => future.await,
    }
}

/// Like [`decide`], with how long the decision took.
pub(crate) async fn timed_decide(
    store: &RedisStore,
    key: &str,
    quota: Quota,
) -> (Result<Decision, StoreError>, Duration) {
    let start = Instant::now();
    let decision = decide(store, key, quota).await;
    (decision, start.elapsed())
}

/// How many of `attempts` requests of `key`, made one after the other, the
/// store admits. Panics on a store error.
pub(crate) async fn admitted(store: &RedisStore, key: &str, quota: Quota, attempts: usize) -> u64 {
    let mut admitted = 0;
    for _ in 0..attempts {
        if decide(store, key, quota)
            .await
            .expect("redis decides")
            .is_allowed()
        {
            admitted += 1;
        }
    }
    admitted
}

/// Runs `work` in `n` OS threads, each with a current-thread runtime of its
/// own (so each opens its own connections: they are separate processes as
/// far as Redis can tell), and returns what each returned.
///
/// `work` gets the thread's index and a barrier of the `n` threads, to wait
/// on once its set-up (connecting) is done, so that they all start
/// together.
pub(crate) fn in_processes<T, F, Fut>(n: usize, work: F) -> Vec<T>
where
    F: Fn(usize, Arc<Barrier>) -> Fut + Sync,
    Fut: Future<Output = T>,
    T: Send,
{
    let barrier = Arc::new(Barrier::new(n));
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n)
            .map(|index| {
                let barrier = Arc::clone(&barrier);
                let work = &work;
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    runtime.block_on(work(index, barrier))
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|thread| thread.join().expect("a process panicked"))
            .collect()
    })
}

/// The call timeout of the stores whose tests are not about timeouts:
/// long enough that a loaded machine never makes Redis look slow.
pub(crate) const PATIENT: std::time::Duration = std::time::Duration::from_secs(5);

/// A store on a connection of its own to `server`, failing closed (so that
/// a failure shows as an error, never as a decision) and patient.
pub(crate) async fn store(server_url: &str) -> RedisStore {
    RedisStore::builder(connect(server_url).await)
        .with_call_timeout(PATIENT)
        .with_on_failure(donjon_redis::OnFailure::FailClosed)
        .build()
        .expect("valid settings")
}

/// A connection manager to `server_url`.
pub(crate) async fn connect(server_url: &str) -> redis::aio::ConnectionManager {
    donjon_redis::connect(server_url)
        .await
        .expect("redis-server is up")
}

/// The Redis server's clock, in microseconds.
pub(crate) fn redis_micros(server: &RedisServer) -> u64 {
    let time = server.command(&["TIME"]).expect("TIME");
    let mut parts = time
        .lines()
        .map(|part| part.parse::<u64>().expect("a number"));
    let (Some(secs), Some(micros)) = (parts.next(), parts.next()) else {
        panic!("TIME answered {time:?}");
    };
    secs * 1_000_000 + micros
}

/// How many times `EVALSHA` ran since the statistics were reset: one per
/// round trip of a store (two when Redis had to be sent the script).
pub(crate) fn evalsha_calls(server: &RedisServer) -> u64 {
    let stats = server
        .command(&["INFO", "commandstats"])
        .expect("INFO commandstats");
    stats
        .lines()
        .find_map(|line| line.strip_prefix("cmdstat_evalsha:calls="))
        .map_or(0, |rest| {
            rest.split(',')
                .next()
                .and_then(|calls| calls.parse().ok())
                .expect("a count of calls")
        })
}

/// Resets the command statistics of `server`.
pub(crate) fn reset_stats(server: &RedisServer) {
    server
        .command(&["CONFIG", "RESETSTAT"])
        .expect("CONFIG RESETSTAT");
}

/// Waits, polling every 20 ms for up to `within`, until `check` holds;
/// returns whether it did.
pub(crate) async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
