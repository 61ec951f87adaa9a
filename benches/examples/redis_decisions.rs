//! Decisions per second of the Redis-backed rate limit, from one process
//! with 64 callers, against a real `redis-server` started on loopback:
//!
//! - `script`: the raw baseline, redis-rs calling the same GCRA script
//!   once per request (`EVALSHA` through a `ConnectionManager`), with no
//!   timeout and no policy;
//! - `store`: donjon-redis's `RedisStore`, one round trip per decision;
//! - `store_batch_N`: the same with batching, taking N permits per round
//!   trip.
//!
//! ```text
//! redis_decisions [--rounds R] [--seconds S] [--batch N]
//! ```
//!
//! Each round measures every configuration for S seconds, in an order that
//! flips every round; the table gives the median decisions per second of
//! each and the median of the per-round ratios to `script`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::{Answer, RateStore};
use donjon_redis::RedisStore;
use donjon_test::redis::RedisServer;
use redis::aio::ConnectionManager;

const CALLERS: usize = 64;
/// Callers spread over this many keys, so that the aggregate limit
/// (one permit per microsecond per key) is far above what is measured.
const KEYS: usize = 8;

const GCRA: &str = include_str!("../../redis/src/rate/gcra.lua");

fn quota() -> Quota {
    Quota::new(1_000_000, Duration::from_secs(1))
        .and_then(|quota| quota.with_burst(1_000_000))
        .expect("a valid quota")
}

#[derive(Clone)]
enum Config {
    Script(ConnectionManager, Arc<redis::Script>),
    Store(RedisStore),
}

async fn decide(config: &mut Config, key: &str, quota: Quota) -> bool {
    match config {
        Config::Script(connection, script) => {
            let interval = quota.emission_interval().as_micros() as u64;
            let tolerance = interval * (quota.burst() - 1);
            let (granted, _wait): (u64, u64) = script
                .key(format!("donjon:bench-raw:{key}"))
                .arg(interval)
                .arg(tolerance)
                .arg(1)
                .invoke_async(connection)
                .await
                .expect("the script runs");
            granted == 1
        }
        Config::Store(store) => match store.acquire(key, quota) {
            Answer::Now(decision) => decision.expect("the store decides").is_allowed(),
            Answer::Later(future) => future.await.expect("the store decides").is_allowed(),
        },
    }
}

/// Runs `CALLERS` callers for `seconds`; returns decisions per second.
async fn measure(config: &Config, seconds: f64) -> f64 {
    let decisions = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let mut config = config.clone();
            let decisions = Arc::clone(&decisions);
            let key = format!("key-{}", caller % KEYS);
            tokio::spawn(async move {
                let mut count = 0u64;
                while Instant::now() < deadline {
                    std::hint::black_box(decide(&mut config, &key, quota()).await);
                    count += 1;
                }
                decisions.fetch_add(count, Ordering::Relaxed);
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("a caller panicked");
    }
    decisions.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut rounds = 7usize;
    let mut seconds = 1.0f64;
    let mut batch = 32u64;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().map(String::as_str).unwrap_or("");
        match flag.as_str() {
            "--rounds" => rounds = value.parse().expect("--rounds takes a number"),
            "--seconds" => seconds = value.parse().expect("--seconds takes a number"),
            "--batch" => batch = value.parse().expect("--batch takes a number"),
            _ => {
                eprintln!("usage: redis_decisions [--rounds R] [--seconds S] [--batch N]");
                std::process::exit(2);
            }
        }
    }

    let server = RedisServer::start();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let connect = || async {
            donjon_redis::connect(&server.url())
                .await
                .expect("the redis-server answers")
        };
        let batched = format!("store_batch_{batch}");
        let configs = vec![
            (
                "script".to_owned(),
                Config::Script(connect().await, Arc::new(redis::Script::new(GCRA))),
            ),
            (
                "store".to_owned(),
                Config::Store(
                    RedisStore::builder(connect().await)
                        .with_prefix("donjon:bench-store:")
                        .build()
                        .expect("a valid configuration"),
                ),
            ),
            (
                batched,
                Config::Store(
                    RedisStore::builder(connect().await)
                        .with_prefix("donjon:bench-batch:")
                        .with_batch(batch)
                        .build()
                        .expect("a valid configuration"),
                ),
            ),
        ];
        // Warm up: scripts loaded, connections up.
        for (_, config) in &configs {
            measure(config, 0.2).await;
        }
        let mut rates = vec![Vec::new(); configs.len()];
        let mut ratios = vec![Vec::new(); configs.len()];
        for round in 0..rounds {
            let mut order: Vec<usize> = (0..configs.len()).collect();
            if round % 2 == 1 {
                order.reverse();
            }
            let mut this_round = vec![0.0; configs.len()];
            for index in order {
                this_round[index] = measure(&configs[index].1, seconds).await;
            }
            for index in 0..configs.len() {
                rates[index].push(this_round[index]);
                ratios[index].push(this_round[index] / this_round[0]);
            }
        }
        println!(
            "{CALLERS} callers over {KEYS} keys, {rounds} rounds of {seconds} s per configuration"
        );
        println!(
            "{:<18}{:>16}{:>14}",
            "configuration", "decisions/s", "/ script"
        );
        for (index, (name, _)) in configs.iter().enumerate() {
            println!(
                "{name:<18}{:>16.0}{:>14.2}",
                median(&mut rates[index]),
                median(&mut ratios[index])
            );
        }
    });
}
