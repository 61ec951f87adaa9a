//! Decisions from Redis: exact across processes, at the quota's rate, with
//! the right `retry_after`.

use std::time::Duration;

use donjon::limit::keyed::Decision;
use donjon_test::redis::RedisServer;
use futures::future::join_all;
use tokio::time::Instant;

use crate::support::{admitted, decide, hourly, in_processes, quota, redis_micros, store};

#[test]
fn stores_in_separate_processes_admit_exactly_the_burst_together() {
    let server = RedisServer::start();
    let url = server.url();
    let quota = hourly(50);
    // 4 processes × 8 concurrent callers × 25 attempts: 800 for 50 permits.
    let per_process = in_processes(4, |_, start| {
        let url = url.clone();
        async move {
            let store = store(&url).await;
            start.wait();
            let callers = (0..8).map(|_| admitted(&store, "exact", quota, 25));
            join_all(callers).await.into_iter().sum::<u64>()
        }
    });
    assert_eq!(
        per_process.iter().sum::<u64>(),
        50,
        "admitted per process: {per_process:?}"
    );
}

#[test]
fn a_fleet_hammering_a_key_gets_the_quota_s_rate_and_no_more() {
    let server = RedisServer::start();
    let url = server.url();
    // 200 per second (one every 5 ms), 20 at once.
    let quota = quota(200, Duration::from_secs(1), 20);
    let hammer = Duration::from_secs(1);
    let before = redis_micros(&server);
    let per_process = in_processes(4, |_, start| {
        let url = url.clone();
        async move {
            let store = store(&url).await;
            start.wait();
            let until = Instant::now() + hammer;
            let callers = (0..4).map(|_| async {
                let mut admitted = 0u64;
                while Instant::now() < until {
                    if decide(&store, "rate", quota)
                        .await
                        .expect("redis decides")
                        .is_allowed()
                    {
                        admitted += 1;
                    }
                }
                admitted
            });
            join_all(callers).await.into_iter().sum::<u64>()
        }
    });
    let elapsed = Duration::from_micros(redis_micros(&server) - before);
    let admitted: u64 = per_process.iter().sum();
    // burst + rate × t, over the whole run as Redis timed it.
    let bound = 20.0 + 200.0 * elapsed.as_secs_f64();
    assert!(
        admitted as f64 <= bound,
        "{admitted} admitted in {elapsed:?}: more than burst + rate × t = {bound:.1}"
    );
    assert!(
        admitted as f64 >= 0.9 * bound,
        "{admitted} admitted in {elapsed:?}: under 90% of burst + rate × t = {bound:.1}"
    );
}

#[tokio::test]
async fn retry_after_is_when_redis_would_admit_the_next_request() {
    let server = RedisServer::start();
    let store = store(&server.url()).await;

    // 10 per second, one at a time: one every 100 ms.
    let spaced = quota(10, Duration::from_secs(1), 1);
    assert_eq!(
        decide(&store, "spaced", spaced).await.unwrap(),
        Decision::Allowed
    );
    let sent = Instant::now();
    let Decision::Limited { retry_after } = decide(&store, "spaced", spaced).await.unwrap() else {
        panic!("the second request within 100 ms must be refused");
    };
    let between = sent.elapsed() + Duration::from_millis(5);
    assert!(retry_after <= Duration::from_millis(100), "{retry_after:?}");
    assert!(
        retry_after + between >= Duration::from_millis(100),
        "retry_after {retry_after:?} is early by more than the round trip {between:?}"
    );
    // Waiting that long is enough, and needed: the next one is refused again.
    tokio::time::sleep(retry_after).await;
    assert_eq!(
        decide(&store, "spaced", spaced).await.unwrap(),
        Decision::Allowed
    );
    assert!(!decide(&store, "spaced", spaced).await.unwrap().is_allowed());

    // 3 per hour, 3 at once: the fourth waits one emission interval.
    let slow = quota(3, Duration::from_secs(3600), 3);
    assert_eq!(admitted(&store, "slow", slow, 3).await, 3);
    let Decision::Limited { retry_after } = decide(&store, "slow", slow).await.unwrap() else {
        panic!("the fourth request must be refused");
    };
    // 3 per hour: one every 20 minutes.
    let interval = Duration::from_secs(1200);
    assert!(
        retry_after <= interval && retry_after > interval - Duration::from_secs(1),
        "{retry_after:?}"
    );
}

#[tokio::test]
async fn a_key_expires_in_redis_when_its_limit_has_recovered() {
    let server = RedisServer::start();
    let store = store(&server.url()).await;
    // One every 200 ms, burst 2: after two, the limit recovers in 400 ms.
    let quick = quota(5, Duration::from_secs(1), 2);
    assert_eq!(admitted(&store, "idle", quick, 2).await, 2);
    let ttl: u64 = server
        .command(&["PTTL", "donjon:rate:idle"])
        .unwrap()
        .parse()
        .unwrap();
    assert!(ttl > 300 && ttl <= 400, "PTTL {ttl}");
    let gone = crate::support::eventually(Duration::from_secs(2), || async {
        server.command(&["EXISTS", "donjon:rate:idle"]).unwrap() == "0"
    })
    .await;
    assert!(gone, "the key outlived its limit");
}

#[tokio::test]
async fn the_script_is_loaded_once_and_called_by_its_hash() {
    let server = RedisServer::start();
    let store = store(&server.url()).await;
    crate::support::reset_stats(&server);
    let quota = hourly(100);
    assert_eq!(admitted(&store, "hash", quota, 10).await, 10);
    let stats = server.command(&["INFO", "commandstats"]).unwrap();
    let calls = |command: &str| {
        stats
            .lines()
            .find_map(|line| line.strip_prefix(&format!("cmdstat_{command}:calls=")))
            .map_or(0, |rest| {
                rest.split(',').next().unwrap().parse::<u64>().unwrap()
            })
    };
    // The first EVALSHA finds no script; it is loaded, then called again.
    assert_eq!(calls("script|load"), 1, "{stats}");
    assert_eq!(calls("evalsha"), 11, "{stats}");
    assert_eq!(calls("eval"), 0, "{stats}");
}

#[tokio::test]
async fn shared_rate_limits_in_two_processes_wait_for_redis_s_permits() {
    use donjon::limit::keyed::SharedRateLimit;
    use donjon::{BoxError, Service, ServiceExt, service_fn};

    let server = RedisServer::start();
    let url = server.url();
    // 10 per second, one at a time: one every 100 ms across both.
    let quota = quota(10, Duration::from_secs(1), 1);
    let api = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
    let mut first = SharedRateLimit::new(api, store(&url).await, "partner-api", quota).unwrap();
    let mut second = SharedRateLimit::new(api, store(&url).await, "partner-api", quota).unwrap();
    let start = Instant::now();
    for n in 0..3 {
        assert_eq!(first.ready().await.unwrap().call(n).await.unwrap(), n);
        assert_eq!(second.ready().await.unwrap().call(n).await.unwrap(), n);
    }
    // Six requests, spaced by 100 ms from the first: 500 ms at least.
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(490),
        "six requests in {took:?}"
    );
}
