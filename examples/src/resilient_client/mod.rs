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
//! side.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use donjon::load_shed::error::Overloaded;
use donjon::timeout::error::Elapsed;
use donjon::{BoxError, ServiceExt};
use http::{Request, Response};
use tokio::time::Instant;

use crate::backend::{Backend, Behaviour};
use crate::http_client::{
    ClientConfig, ClientStats, HttpClient, resilient, round_robin, tower_stack,
};

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

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct Report {
    /// The client used.
    pub kind: ClientKind,
    /// Requests sent.
    pub requests: usize,
    /// Requests answered with a 2xx.
    pub successes: usize,
    /// Requests answered with a 5xx.
    pub server_errors: usize,
    /// Requests whose last attempt timed out.
    pub timeouts: usize,
    /// Requests shed by the client's load shedder.
    pub shed: usize,
    /// Requests that failed otherwise (connection refused or reset...).
    pub transport_errors: usize,
    /// Every request's latency, successful or not, sorted.
    pub latencies: Vec<Duration>,
    /// Retries made.
    pub retries: u64,
    /// Attempts per backend, by name.
    pub spread: Vec<(String, u64)>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Report {
    /// Requests that did not get a 2xx.
    pub fn errors(&self) -> usize {
        self.requests - self.successes
    }

    /// The share of requests that got a 2xx.
    pub fn success_rate(&self) -> f64 {
        self.successes as f64 / self.requests as f64
    }

    /// The latency under which `fraction` of the requests finished
    /// (nearest rank).
    pub fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (fraction * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }

    /// The slowest request.
    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }
}

/// How one request ended.
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
    let (outcomes, stats) = match kind {
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
    let elapsed = start.elapsed();
    Ok(report(kind, outcomes, &stats, &backends, elapsed))
}

/// Sends the workload from `scenario.concurrency` tasks, taking the doomed
/// backend down on time.
async fn drive(
    client: impl HttpClient,
    scenario: &Scenario,
    backends: &Arc<Vec<Backend>>,
    completed: Arc<AtomicUsize>,
) -> Vec<(Outcome, Duration)> {
    let requests = scenario.requests;
    let down_after = (scenario.down_at * requests as f64).round() as usize;
    if down_after == 0 {
        backends[3].go_down();
    }
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..scenario.concurrency)
        .map(|_| {
            let mut client = client.clone();
            let next = Arc::clone(&next);
            let completed = Arc::clone(&completed);
            let backends = Arc::clone(backends);
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests {
                    let request = Request::get("/work")
                        .body(Bytes::new())
                        .expect("a valid request");
                    let start = Instant::now();
                    let result = match client.ready().await {
                        Ok(ready) => ready.call(request).await,
                        Err(error) => Err(error),
                    };
                    outcomes.push((classify(&result), start.elapsed()));
                    if completed.fetch_add(1, Ordering::Relaxed) + 1 == down_after {
                        backends[3].go_down();
                    }
                }
                outcomes
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(requests);
    for task in tasks {
        outcomes.extend(task.await.expect("a client task panicked"));
    }
    outcomes
}

fn report(
    kind: ClientKind,
    outcomes: Vec<(Outcome, Duration)>,
    stats: &ClientStats,
    backends: &[Backend],
    elapsed: Duration,
) -> Report {
    let mut report = Report {
        kind,
        requests: outcomes.len(),
        successes: 0,
        server_errors: 0,
        timeouts: 0,
        shed: 0,
        transport_errors: 0,
        latencies: Vec::with_capacity(outcomes.len()),
        retries: stats.retries(),
        spread: backends
            .iter()
            .zip(stats.attempts())
            .map(|(backend, (_addr, attempts))| (backend.name().to_owned(), attempts))
            .collect(),
        elapsed,
    };
    for (outcome, latency) in outcomes {
        match outcome {
            Outcome::Success => report.successes += 1,
            Outcome::ServerError => report.server_errors += 1,
            Outcome::Timeout => report.timeouts += 1,
            Outcome::Shed => report.shed += 1,
            Outcome::Transport => report.transport_errors += 1,
        }
        report.latencies.push(latency);
    }
    report.latencies.sort_unstable();
    report
}

/// A table with one column per report.
pub fn comparison(reports: &[&Report]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, cell: &dyn Fn(&Report) -> String| {
        rows.push((label.to_owned(), reports.iter().map(|r| cell(r)).collect()));
    };
    row("requests", &|r| r.requests.to_string());
    row("successes", &|r| {
        // Rounded down, so that 99.95% does not show as 100%.
        let tenths = (1000.0 * r.success_rate()).floor() / 10.0;
        format!("{} ({tenths:.1}%)", r.successes)
    });
    row("errors", &|r| r.errors().to_string());
    row("  5xx answers", &|r| r.server_errors.to_string());
    row("  timeouts", &|r| r.timeouts.to_string());
    row("  connection", &|r| r.transport_errors.to_string());
    row("  shed", &|r| r.shed.to_string());
    row("p50 latency", &|r| millis(r.percentile(0.50)));
    row("p99 latency", &|r| millis(r.percentile(0.99)));
    row("max latency", &|r| millis(r.max()));
    row("retries", &|r| r.retries.to_string());
    let names: Vec<String> = reports
        .first()
        .map(|r| r.spread.iter().map(|(name, _)| name.clone()).collect())
        .unwrap_or_default();
    for (index, name) in names.iter().enumerate() {
        row(&format!("attempts to {name}"), &|r| {
            let total: u64 = r.spread.iter().map(|(_, n)| n).sum();
            let count = r.spread.get(index).map_or(0, |(_, n)| *n);
            format!(
                "{count} ({:.0}%)",
                100.0 * count as f64 / total.max(1) as f64
            )
        });
    }
    row("run time", &|r| format!("{:.1} s", r.elapsed.as_secs_f64()));

    let label_width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0);
    let column_width = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(String::len))
        .chain(reports.iter().map(|r| r.kind.name().len()))
        .max()
        .unwrap_or(0);
    let mut table = String::new();
    let _ = write!(table, "{:label_width$}", "");
    for report in reports {
        let _ = write!(table, "   {:>column_width$}", report.kind.name());
    }
    table.push('\n');
    for (label, cells) in rows {
        let _ = write!(table, "{label:label_width$}");
        for cell in cells {
            let _ = write!(table, "   {cell:>column_width$}");
        }
        table.push('\n');
    }
    table
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
