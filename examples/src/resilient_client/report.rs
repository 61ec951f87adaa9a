//! What one run measured, and the table that compares runs.

use std::fmt::Write as _;
use std::time::Duration;

use tokio::time::Instant;

use super::{ClientKind, Driven, Outcome};
use crate::backend::Backend;
use crate::http_client::ClientStats;

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
    /// Every request, in the order they were sent.
    pub samples: Vec<Sample>,
    /// When each attempt to each backend started, since the run started, in
    /// order; the backends are in the order of [`spread`](Report::spread).
    pub attempt_times: Vec<(String, Vec<Duration>)>,
    /// When the doomed backend went down, since the run started.
    pub down_at: Duration,
}

/// One request of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// When it was sent, since the run started.
    pub sent: Duration,
    /// How long it took to succeed or fail.
    pub latency: Duration,
    /// Whether it was answered with a 2xx.
    pub succeeded: bool,
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
        nearest_rank(&self.latencies, fraction)
    }

    /// The slowest request.
    pub fn max(&self) -> Duration {
        self.latencies.last().copied().unwrap_or_default()
    }

    /// The report of a run that started at `start`.
    pub(super) fn new(
        kind: ClientKind,
        start: Instant,
        driven: Driven,
        stats: &ClientStats,
        backends: &[Backend],
    ) -> Report {
        let since_start = |at: Instant| at.saturating_duration_since(start);
        let mut report = Report {
            kind,
            requests: driven.requests.len(),
            successes: 0,
            server_errors: 0,
            timeouts: 0,
            shed: 0,
            transport_errors: 0,
            latencies: Vec::with_capacity(driven.requests.len()),
            retries: stats.retries(),
            spread: backends
                .iter()
                .zip(stats.attempts())
                .map(|(backend, (_addr, attempts))| (backend.name().to_owned(), attempts))
                .collect(),
            elapsed: since_start(driven.end),
            samples: Vec::with_capacity(driven.requests.len()),
            attempt_times: backends
                .iter()
                .zip(stats.attempt_times())
                .map(|(backend, (_addr, times))| {
                    let times = times.into_iter().map(since_start).collect();
                    (backend.name().to_owned(), times)
                })
                .collect(),
            down_at: since_start(driven.down),
        };
        for request in driven.requests {
            match request.outcome {
                Outcome::Success => report.successes += 1,
                Outcome::ServerError => report.server_errors += 1,
                Outcome::Timeout => report.timeouts += 1,
                Outcome::Shed => report.shed += 1,
                Outcome::Transport => report.transport_errors += 1,
            }
            report.latencies.push(request.latency);
            report.samples.push(Sample {
                sent: since_start(request.sent),
                latency: request.latency,
                succeeded: request.outcome == Outcome::Success,
            });
        }
        report.latencies.sort_unstable();
        report.samples.sort_by_key(|sample| sample.sent);
        report
    }
}

/// The latency under which `fraction` of the `sorted` latencies lie
/// (nearest rank); zero if there are none.
pub(super) fn nearest_rank(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (fraction * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
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
