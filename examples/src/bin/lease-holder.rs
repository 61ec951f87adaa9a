//! One process of a fleet, for the fleet-wide concurrency limit's tests
//! (`tests/fleet_leases.rs`): it takes `count` leases of the
//! [`RedisSemaphore`] `key` (of `max` permits, leases of `lease_ms`) with
//! requests that never finish, prints `holding <count>`, and keeps them
//! (renewing the leases) until it is killed.
//!
//! `lease-holder <redis-url> <key> <max> <lease-ms> <count>`

use std::future::pending;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use donjon::{BoxError, Service, ServiceExt, service_fn};
use donjon_redis::{GlobalConcurrencyLimit, OnFailure, RedisSemaphore};

fn usage() -> ExitCode {
    eprintln!("usage: lease-holder <redis-url> <key> <max> <lease-ms> <count>");
    ExitCode::from(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, key, max, lease_ms, count] = args.as_slice() else {
        return usage();
    };
    let (Ok(max), Ok(lease_ms), Ok(count)) = (
        max.parse::<usize>(),
        lease_ms.parse::<u64>(),
        count.parse::<usize>(),
    ) else {
        return usage();
    };
    match hold(url, key, max, Duration::from_millis(lease_ms), count).await {
        Ok(never) => match never {},
        Err(error) => {
            eprintln!("lease-holder: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn hold(
    url: &str,
    key: &str,
    max: usize,
    lease: Duration,
    count: usize,
) -> Result<std::convert::Infallible, BoxError> {
    let connection = donjon_redis::connect(url).await?;
    let semaphore = RedisSemaphore::builder(connection, key, max)
        .with_lease(lease)
        .with_call_timeout(lease / 4)
        .with_on_failure(OnFailure::FailClosed)
        .build()?;
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
    pending().await
}
