//! An HTTP client (hyper-util's) behind donjon: p2c balancing over several
//! server addresses, a timeout per attempt, retries within a budget and
//! after a backoff; see `donjon_examples::http_client`.
//!
//! With no arguments it starts three local backends (one of them failing a
//! third of its requests). Given addresses (`http-client 127.0.0.1:3000
//! 127.0.0.1:3001`, say, with `http-server` examples running there), it uses
//! those. It sends 300 requests to `/` all at once: the concurrency limit
//! (100) sheds those beyond it at once, and retries cover the failures of
//! the others.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use donjon::load_shed::error::Overloaded;
use donjon::{BoxError, ServiceExt};
use donjon_examples::backend::{Backend, Behaviour};
use donjon_examples::http_client::{ClientConfig, resilient};
use http::Request;

const REQUESTS: usize = 300;

#[tokio::main]
async fn main() -> Result<ExitCode, BoxError> {
    let mut addrs = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.parse::<SocketAddr>() {
            Ok(addr) => addrs.push(addr),
            Err(_) => {
                eprintln!(
                    "usage: http-client [ADDRESS...]\n`{arg}` is not an address such as 127.0.0.1:3000"
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    // Local backends, unless addresses were given; kept alive until the end.
    let mut backends = Vec::new();
    if addrs.is_empty() {
        let fast = Behaviour::healthy(Duration::from_millis(5), Duration::from_millis(5));
        backends.push(Backend::start("a", fast.clone(), 1).await?);
        backends.push(Backend::start("b", fast.clone(), 2).await?);
        backends.push(Backend::start("c (fails 1 in 3)", fast.failing(0.33), 3).await?);
        addrs = backends.iter().map(Backend::addr).collect();
    }

    let config = ClientConfig {
        concurrency_limit: 100,
        ..ClientConfig::default()
    };
    let (client, stats) = resilient(&addrs, &config);
    let tasks: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let request = Request::get("/")
                .body(Bytes::new())
                .expect("a valid request");
            tokio::spawn(client.clone().oneshot(request))
        })
        .collect();
    let (mut successes, mut shed, mut failures) = (0, 0, 0);
    for task in tasks {
        match task.await? {
            Ok(response) if response.status().is_success() => successes += 1,
            Ok(response) => {
                failures += 1;
                eprintln!("answered {}", response.status());
            }
            Err(error) if error.is::<Overloaded>() => shed += 1,
            Err(error) => {
                failures += 1;
                eprintln!("failed: {error}");
            }
        }
    }

    println!(
        "{REQUESTS} requests: {successes} succeeded, {shed} shed, {failures} failed; {} retries",
        stats.retries()
    );
    for (index, (addr, attempts)) in stats.attempts().into_iter().enumerate() {
        let name = backends.get(index).map_or("", Backend::name);
        println!("  {addr} {name}: {attempts} attempts");
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
