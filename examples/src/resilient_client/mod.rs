//! The flagship scenario: the same workload sent to four real HTTP backends
//! on loopback, through a naive client, through the best stack the `tower`
//! crate allows, and through donjon.
//!
//! The backends ([`crate::backend`]):
//!
//! - `steady` answers in about 10 ms;
//! - `slow` answers in about 200 ms;
//! - `flaky` answers fast but fails a share of requests with a 500;
//! - `doomed` is like `steady` until part of the workload is done, then goes
//!   down: it stops listening and closes its connections.
//!
//! The naive client ([`RoundRobin`](crate::http_client::RoundRobin)) sends
//! each request to the next backend in turn. The donjon client
//! ([`resilient`]) balances by peak EWMA latency with p2c, keeps a circuit
//! breaker per endpoint (an endpoint whose breaker is open is not ready, and
//! the balancer sends its share elsewhere until a probe closes it), times out
//! each attempt, retries within a budget and after a backoff, and limits and
//! sheds load. The tower client ([`tower_stack`]) is what a tower user would
//! build instead: the same stack from the `tower` crate, with the same
//! settings, but no circuit breaker, which tower does not have. [`run`] drives
//! one client and returns a [`Report`]; [`comparison`] lays reports side by
//! side, and [`plot`] draws them: latency and each backend's share of the
//! attempts over time.

mod plot;
mod report;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, ServiceExt};
use http::{Request, Response};
use tokio::time::Instant;

use crate::backend::{Backend, Behaviour};
use crate::http_client::{ClientConfig, HttpClient, resilient, round_robin, tower_stack};

pub use self::plot::plot;
pub use self::report::{Report, Sample, comparison};

/// The workload and the backends' behaviour.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Requests sent, in total.
    pub requests: usize,
    /// Requests in flight at once (one task each).
    pub concurrency: usize,
    /// How long `steady`, `flaky` and `doomed` take to answer, at least.
    pub latency: Duration,
    /// How long `slow` takes to answer, at least.
    pub slow_latency: Duration,
    /// The share of requests `flaky` fails, in `[0, 1]`.
    pub failure_share: f64,
    /// The fraction of the workload after which `doomed` goes down, in
    /// `[0, 1]`.
    pub down_at: f64,
    /// The tower and donjon clients' configuration (tower ignores the
    /// circuit breakers').
    pub client: ClientConfig,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            requests: 4_000,
            concurrency: 32,
            latency: Duration::from_millis(10),
            slow_latency: Duration::from_millis(200),
            failure_share: 0.3,
            down_at: 0.5,
            client: ClientConfig::default(),
        }
    }
}

impl Scenario {
    /// Checks the numbers, with a message naming the one that is wrong.
    ///
    /// # Errors
    ///
    /// The first value out of range.
    pub fn validate(&self) -> Result<(), String> {
        if self.requests == 0 {
            return Err("the request count must be at least 1".into());
        }
        if self.concurrency == 0 {
            return Err("the concurrency must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.failure_share) {
            return Err(format!(
                "the failure share is a fraction in [0, 1], got {}",
                self.failure_share
            ));
        }
        if !(0.0..=1.0).contains(&self.down_at) {
            return Err(format!(
                "the point where a backend goes down is a fraction of the run in [0, 1], got {}",
                self.down_at
            ));
        }
        if self.client.timeout.is_zero() {
            return Err("the timeout must be longer than zero".into());
        }
        Ok(())
    }

    /// The workload and the backends, in one line.
    pub fn summary(&self) -> String {
        format!(
            "{} requests, {} at a time, to 4 backends on loopback: steady ({} ms), slow ({} ms), \
             flaky (fails {:.0}%), doomed (goes down after {:.0}% of the run)",
            self.requests,
            self.concurrency,
            self.latency.as_millis(),
            self.slow_latency.as_millis(),
            100.0 * self.failure_share,
            100.0 * self.down_at,
        )
    }

    /// The four backends: name and behaviour.
    fn backends(&self) -> [(&'static str, Behaviour); 4] {
        let jitter = self.latency;
        [
            ("steady", Behaviour::healthy(self.latency, jitter)),
            (
                "slow",
                Behaviour::healthy(self.slow_latency, self.slow_latency / 4),
            ),
            (
                "flaky",
                Behaviour::healthy(self.latency, jitter).failing(self.failure_share),
            ),
            ("doomed", Behaviour::healthy(self.latency, jitter)),
        ]
    }
}

/// Which client a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// Round-robin, no middleware.
    Naive,
    /// The best stack of the `tower` crate: like donjon's, without the
    /// circuit breakers.
    Tower,
    /// The donjon stack.
    Donjon,
}

impl ClientKind {
    /// Every kind, in the order the flagship runs and shows them.
    pub const ALL: [ClientKind; 3] = [ClientKind::Naive, ClientKind::Tower, ClientKind::Donjon];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Naive => "naive",
            ClientKind::Tower => "tower",
            ClientKind::Donjon => "donjon",
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Success,
    ServerError,
    Timeout,
    Shed,
    Transport,
}

/// Sorts a result into an [`Outcome`], knowing donjon's and tower's error
/// types.
fn classify(result: &Result<Response<Bytes>, BoxError>) -> Outcome {
    match result {
        Ok(response) if response.status().is_success() => Outcome::Success,
        Ok(_) => Outcome::ServerError,
        Err(error) if error.is::<Elapsed>() || error.is::<tower::timeout::error::Elapsed>() => {
            Outcome::Timeout
        }
        Err(error)
            if error.is::<Overloaded>() || error.is::<tower::load_shed::error::Overloaded>() =>
        {
            Outcome::Shed
        }
        Err(_) => Outcome::Transport,
    }
}

/// Starts fresh backends, sends the workload through the `kind` client, and
/// reports. `completed` counts finished requests as the run goes (for a
/// progress bar).
///
/// # Errors
///
/// If a backend cannot bind a loopback port.
///
/// # Panics
///
/// If the scenario is invalid (see [`Scenario::validate`]).
pub async fn run(
    scenario: &Scenario,
    kind: ClientKind,
    completed: Arc<AtomicUsize>,
) -> io::Result<Report> {
    if let Err(message) = scenario.validate() {
        panic!("invalid scenario: {message}");
    }
    let mut backends = Vec::new();
    for (seed, (name, behaviour)) in scenario.backends().into_iter().enumerate() {
        backends.push(Backend::start(name, behaviour, seed as u64).await?);
    }
    let backends = Arc::new(backends);
    let addrs: Vec<_> = backends.iter().map(Backend::addr).collect();
    let start = Instant::now();
    let (driven, stats) = match kind {
        ClientKind::Naive => {
            let (client, stats) = round_robin(&addrs);
            (drive(client, scenario, &backends, completed).await, stats)
        }
        ClientKind::Tower => {
            let (client, stats) = tower_stack(&addrs, &scenario.client);
            (drive(client, scenario, &backends, completed).await, stats)
        }
        ClientKind::Donjon => {
            let (client, stats) = resilient(&addrs, &scenario.client);
            (drive(client, scenario, &backends, completed).await, stats)
        }
    };
    Ok(Report::new(kind, start, driven, &stats, &backends))
}

/// One request, as [`drive`] saw it.
struct Recorded {
    outcome: Outcome,
    sent: Instant,
    latency: Duration,
}

/// What [`drive`] saw.
struct Driven {
    requests: Vec<Recorded>,
    /// When the doomed backend went down.
    down: Instant,
    /// When the last request finished.
    end: Instant,
}

/// Sends the workload from `scenario.concurrency` tasks, taking the doomed
/// backend down on time.
async fn drive(
    client: impl HttpClient,
    scenario: &Scenario,
    backends: &Arc<Vec<Backend>>,
    completed: Arc<AtomicUsize>,
) -> Driven {
    let requests = scenario.requests;
    let down_after = (scenario.down_at * requests as f64).round() as usize;
    let down = Arc::new(OnceLock::new());
    if down_after == 0 {
        backends[3].go_down();
        down.get_or_init(Instant::now);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..scenario.concurrency)
        .map(|_| {
            let mut client = client.clone();
            let next = Arc::clone(&next);
            let completed = Arc::clone(&completed);
            let backends = Arc::clone(backends);
            let down = Arc::clone(&down);
            tokio::spawn(async move {
                let mut recorded = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let request = Request::get("/work")
                        .body(Bytes::new())
                        .expect("a valid request");
                    let sent = Instant::now();
                    let result = match client.ready().await {
                        Ok(ready) => ready.call(request).await,
                        Err(error) => Err(error),
                    };
                    recorded.push(Recorded {
                        outcome: classify(&result),
                        sent,
                        latency: sent.elapsed(),
                    });
                    if completed.fetch_add(1, Ordering::Relaxed) + 1 == down_after {
                        backends[3].go_down();
                        down.get_or_init(Instant::now);
                    }
                }
                recorded
            })
        })
        .collect();
    let mut recorded = Vec::with_capacity(requests);
    for task in tasks {
        recorded.extend(task.await.expect("a client task panicked"));
    }
    let end = Instant::now();
    Driven {
        requests: recorded,
        // `down_after` is at most `requests`, so the request that makes the
        // count reach it has finished by now.
        down: *down.get().expect("the doomed backend went down"),
        end,
    }
}
