//! A power-of-two-choices balancer over simulated endpoints of different
//! speeds, compared with round-robin on the same workload.
//!
//! Four endpoints answer after a latency of their own (with some jitter,
//! and one of them with an occasional very slow response). The same
//! requests, with the same concurrency, go once through `donjon`'s p2c
//! balancer (with a peak-EWMA load measure) and once round-robin. The
//! program prints how the requests spread over the endpoints and the
//! latency percentiles of each.
//!
//! Time is tokio's paused clock: the latencies are simulated, so the run is
//! instant and repeatable.
//!
//! Run it with `cargo run -p donjon-examples --bin balance`; add a number of
//! requests and a concurrency to change them (`-- 5000 64`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use donjon::balance::p2c::Balance;
use donjon::buffer::Buffer;
use donjon::discover::ServiceList;
use donjon::load::{CompleteOnResponse, PeakEwma};
use donjon::util::BoxCloneService;
use donjon::{BoxError, ServiceExt, service_fn};
use tokio::time::Instant;

/// An endpoint: its name, its usual latency, and how often (one in how
/// many requests) it is ten times slower.
struct Endpoint {
    name: &'static str,
    latency: Duration,
    slow_one_in: u64,
}

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint {
        name: "fast",
        latency: Duration::from_millis(5),
        slow_one_in: 0,
    },
    Endpoint {
        name: "steady",
        latency: Duration::from_millis(15),
        slow_one_in: 0,
    },
    Endpoint {
        name: "slow",
        latency: Duration::from_millis(60),
        slow_one_in: 0,
    },
    Endpoint {
        name: "spiky",
        latency: Duration::from_millis(10),
        slow_one_in: 5,
    },
];

/// A small deterministic random number generator (xorshift).
fn next_random(state: &AtomicU64) -> u64 {
    let mut x = state.load(Ordering::Relaxed);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.store(x, Ordering::Relaxed);
    x
}

/// A simulated endpoint: answers with its index after its latency.
fn simulated(index: usize, random: Arc<AtomicU64>) -> BoxCloneService<(), usize, BoxError> {
    service_fn(move |()| {
        let endpoint = &ENDPOINTS[index];
        let roll = next_random(&random);
        // Up to 50% jitter, and now and then a response ten times slower.
        let jitter = 1.0 + (roll % 500) as f64 / 1000.0;
        let slow = endpoint.slow_one_in > 0 && roll % endpoint.slow_one_in == 0;
        let factor = if slow { 10.0 } else { jitter };
        let latency = endpoint.latency.mul_f64(factor);
        async move {
            tokio::time::sleep(latency).await;
            Ok::<_, BoxError>(index)
        }
    })
    .boxed_clone()
}

/// What one run measured.
struct Report {
    latencies: Vec<Duration>,
    per_endpoint: [u64; ENDPOINTS.len()],
}

impl Report {
    fn percentile(&self, fraction: f64) -> Duration {
        let index = ((self.latencies.len() as f64 * fraction).ceil() as usize).saturating_sub(1);
        self.latencies[index.min(self.latencies.len() - 1)]
    }
}

/// Sends `requests` requests, `concurrency` at a time, through `service`.
async fn run(
    service: BoxCloneService<(), usize, BoxError>,
    requests: usize,
    concurrency: usize,
) -> Report {
    let next = Arc::new(AtomicU64::new(0));
    let results = Arc::new(Mutex::new((Vec::new(), [0u64; ENDPOINTS.len()])));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let service = service.clone();
        let next = Arc::clone(&next);
        let results = Arc::clone(&results);
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < requests as u64 {
                let start = Instant::now();
                let endpoint = service
                    .clone()
                    .oneshot(())
                    .await
                    .expect("endpoints never fail");
                let mut results = results.lock().expect("no worker panics holding the lock");
                results.0.push(start.elapsed());
                results.1[endpoint] += 1;
            }
        }));
    }
    for worker in workers {
        worker.await.expect("a worker panicked");
    }
    let (mut latencies, per_endpoint) = Arc::try_unwrap(results)
        .unwrap_or_else(|_| unreachable!("every worker is done"))
        .into_inner()
        .expect("no worker panicked holding the lock");
    latencies.sort();
    Report {
        latencies,
        per_endpoint,
    }
}

fn parse_arg(position: usize, default: usize) -> usize {
    match std::env::args().nth(position) {
        None => default,
        Some(text) => match text.parse() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!(
                    "usage: balance [REQUESTS] [CONCURRENCY] (positive numbers), got {text:?}"
                );
                std::process::exit(2);
            }
        },
    }
}

#[tokio::main(flavor = "current_thread", start_paused = true)]
async fn main() {
    let requests = parse_arg(1, 4000);
    let concurrency = parse_arg(2, 32);
    let random = Arc::new(AtomicU64::new(0x2545_f491_4f6c_dd1d));

    // p2c: each endpoint measured by a peak-EWMA of its latency, starting
    // from an estimate of 10 ms (about what a healthy endpoint takes), and
    // the balancer shared by the workers through a buffer.
    let endpoints: Vec<_> = (0..ENDPOINTS.len())
        .map(|index| {
            PeakEwma::new(
                simulated(index, Arc::clone(&random)),
                Duration::from_millis(10),
                Duration::from_secs(1).as_nanos() as f64,
                CompleteOnResponse::default(),
            )
        })
        .collect();
    let balance = Balance::new(ServiceList::new(endpoints));
    let p2c = Buffer::new(balance, concurrency).boxed_clone();
    let p2c = run(p2c, requests, concurrency).await;

    // Round-robin over the same kind of endpoints.
    let endpoints: Vec<_> = (0..ENDPOINTS.len())
        .map(|index| simulated(index, Arc::clone(&random)))
        .collect();
    let turn = Arc::new(AtomicU64::new(0));
    let round_robin = service_fn(move |()| {
        let index = turn.fetch_add(1, Ordering::Relaxed) as usize % endpoints.len();
        endpoints[index].clone().oneshot(())
    })
    .boxed_clone();
    let round_robin = run(round_robin, requests, concurrency).await;

    println!(
        "{requests} requests, {concurrency} at a time, over {} simulated endpoints\n",
        ENDPOINTS.len()
    );
    println!("{:<24} {:>14} {:>14}", "", "p2c (peak EWMA)", "round-robin");
    for (index, endpoint) in ENDPOINTS.iter().enumerate() {
        let share = |report: &Report| {
            format!(
                "{:.1}%",
                100.0 * report.per_endpoint[index] as f64 / requests as f64
            )
        };
        let label = format!(
            "share to {} ({} ms)",
            endpoint.name,
            endpoint.latency.as_millis()
        );
        println!(
            "{label:<24} {:>14} {:>14}",
            share(&p2c),
            share(&round_robin)
        );
    }
    for (label, fraction) in [
        ("p50 latency", 0.5),
        ("p90 latency", 0.9),
        ("p99 latency", 0.99),
        ("max latency", 1.0),
    ] {
        let show = |report: &Report| {
            format!(
                "{:.1} ms",
                report.percentile(fraction).as_secs_f64() * 1000.0
            )
        };
        println!("{label:<24} {:>14} {:>14}", show(&p2c), show(&round_robin));
    }
    println!(
        "\np2c sends most requests to the endpoints that answer fastest, and backs off the spiky \
         one after its slow answers; round-robin gives each the same share, whatever its speed."
    );
}
