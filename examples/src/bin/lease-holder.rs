//! One process of a fleet, for the fleet-wide concurrency limit's tests
//! (`tests/fleet_leases.rs`), in one of two modes:
//!
//! - `lease-holder hold <redis-url> <key> <max> <lease-ms> <count>` takes
//!   `count` leases of the [`RedisSemaphore`] `key` (of `max` permits,
//!   leases of `lease_ms`) with requests that never finish, prints
//!   `holding <count>`, and keeps them (renewing the leases) until it is
//!   killed;
//! - `lease-holder work <redis-url> <key> <max> <lease-ms> <requests> <work-ms>`
//!   sends `requests` requests at once through the limit, each taking
//!   `work_ms`; while it runs, each request counts itself in Redis (key
//!   `<key>:in-flight`, with the most seen at once in `<key>:peak`), so that
//!   the test sees the concurrency of the whole fleet. It prints `done`.

use std::future::pending;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::{GlobalConcurrencyLimit, OnFailure, RedisSemaphore};

fn usage() -> ExitCode {
    eprintln!(
        "usage: lease-holder hold <redis-url> <key> <max> <lease-ms> <count>\n       \
         lease-holder work <redis-url> <key> <max> <lease-ms> <requests> <work-ms>"
    );
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let numbers: Vec<u64> = args.iter().skip(3).map_while(|n| n.parse().ok()).collect();
    let result = match (args.first().map(String::as_str), numbers.as_slice()) {
        (Some("hold"), &[max, lease_ms, count]) if args.len() == 6 => {
            hold(&args[1], &args[2], max, lease_ms, count).await
        }
        (Some("work"), &[max, lease_ms, requests, work_ms]) if args.len() == 7 => {
            work(&args[1], &args[2], max, lease_ms, requests, work_ms).await
        }
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lease-holder: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn semaphore(
    url: &str,
    key: &str,
    max: u64,
    lease_ms: u64,
) -> Result<RedisSemaphore, BoxError> {
    let connection = donjon_redis::connect(url).await?;
    let lease = Duration::from_millis(lease_ms);
    Ok(
        RedisSemaphore::builder(connection, key, usize::try_from(max)?)
            .with_lease(lease)
            .with_call_timeout(lease / 4)
            .with_on_failure(OnFailure::FailClosed)
            .build()?,
    )
}

/// Counts a request in: the fleet's in-flight count, and its peak.
const ENTER: &str = "local n = redis.call('INCR', KEYS[1]) \
    if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end \
    return n";

async fn work(
    url: &str,
    key: &str,
    max: u64,
    lease_ms: u64,
    requests: u64,
    work_ms: u64,
) -> Result<(), BoxError> {
    let semaphore = semaphore(url, key, max, lease_ms).await?;
    let counter = donjon_redis::connect(url).await?;
    let (in_flight, peak) = (format!("{key}:in-flight"), format!("{key}:peak"));
    let enter = redis::Script::new(ENTER);
    let limited = GlobalConcurrencyLimit::new(
        service_fn(move |()| {
            let (mut counter, enter) = (counter.clone(), enter.clone());
            let (in_flight, peak) = (in_flight.clone(), peak.clone());
            async move {
                let _: u64 = enter
                    .key(&in_flight)
                    .key(&peak)
                    .invoke_async(&mut counter)
                    .await?;
                tokio::time::sleep(Duration::from_millis(work_ms)).await;
                let _: i64 = redis::cmd("DECR")
                    .arg(&in_flight)
                    .query_async(&mut counter)
                    .await?;
                Ok::<_, BoxError>(())
            }
        }),
        semaphore,
    );
    let calls: Vec<_> = (0..requests)
        .map(|_| tokio::spawn(limited.clone().oneshot(())))
        .collect();
    for call in calls {
        call.await??;
    }
    // Give the releases, sent from spawned tasks, time to reach Redis
    // before the runtime stops.
    tokio::time::sleep(Duration::from_millis(100)).await;
    println!("done");
    std::io::stdout().flush()?;
    Ok(())
}

async fn hold(url: &str, key: &str, max: u64, lease_ms: u64, count: u64) -> Result<(), BoxError> {
    let semaphore = semaphore(url, key, max, lease_ms).await?;
    // Requests that never finish: their leases are renewed until the
    // process dies.
    let mut limited = GlobalConcurrencyLimit::new(
        service_fn(|()| pending::<Result<(), BoxError>>()),
        semaphore,
    );
    let mut held = Vec::new();
    for _ in 0..count {
        let response = limited.ready().await?.call(());
        held.push(tokio::spawn(response));
    }
    println!("holding {count}");
    std::io::stdout().flush()?;
    pending::<()>().await;
    Ok(())
}
