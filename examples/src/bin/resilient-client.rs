//! The flagship example: four real HTTP backends on loopback (steady, slow,
//! flaky, and one that goes down half-way), the same workload sent through a
//! naive round-robin client, through the best stack the `tower` crate
//! allows, and through a donjon stack, and the results side by side. See
//! `donjon_examples::resilient_client`.
//!
//! `cargo run -p donjon-examples --bin resilient-client -- --help` lists the
//! flags; `-- --plot FILE.svg` also draws latency and each backend's share of
//! the attempts over time, per client, as an SVG chart.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon_examples::resilient_client::{ClientKind, Report, Scenario, comparison, plot, run};

const USAGE: &str = "\
resilient-client: the same workload through a naive client, tower and donjon

Starts four HTTP backends on loopback (steady, slow, flaky, and doomed, which
goes down during the run), sends the workload through a round-robin client
with no middleware, then through the best stack tower 0.5.3 allows (p2c by
peak EWMA latency, timeout, retries within a budget and after a backoff,
concurrency limit, load shedding), then through donjon (the same, plus a
circuit breaker per endpoint), and prints the three results side by side.

Usage: resilient-client [OPTIONS]

Options:
  --requests <N>          requests per run [default: 4000]
  --concurrency <N>       requests in flight at once [default: 32]
  --latency-ms <MS>       latency of the steady, flaky and doomed backends [default: 10]
  --slow-ms <MS>          latency of the slow backend [default: 200]
  --failure-share <F>     share of requests the flaky backend fails, in [0, 1] [default: 0.3]
  --down-at <F>           fraction of the run after which doomed goes down, in [0, 1] [default: 0.5]
  --timeout-ms <MS>       tower's and donjon's timeout per attempt [default: 100]
  --max-retries <N>       tower's and donjon's retries per request, at most [default: 3]
  --retry-share <F>       tower's and donjon's retry budget, as a share of requests [default: 0.2]
  --plot <FILE.svg>       also draw latency and each backend's share of attempts over time,
                          per client, as an SVG chart in FILE.svg
  -h, --help              print this help
";

/// What the command line asks for.
struct Options {
    scenario: Scenario,
    /// Where to write the chart, if anywhere.
    plot: Option<PathBuf>,
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut scenario = Scenario::default();
    let mut plot = None;
    let mut args = args.peekable();
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
            None => (flag.clone(), None),
        };
        let value = match inline {
            Some(value) => value,
            None => args.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        fn number<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, String> {
            value
                .parse()
                .map_err(|_| format!("{name}: `{value}` is not a valid number"))
        }
        match name.as_str() {
            "--requests" => scenario.requests = number(&name, &value)?,
            "--concurrency" => scenario.concurrency = number(&name, &value)?,
            "--latency-ms" => scenario.latency = Duration::from_millis(number(&name, &value)?),
            "--slow-ms" => scenario.slow_latency = Duration::from_millis(number(&name, &value)?),
            "--failure-share" => scenario.failure_share = number(&name, &value)?,
            "--down-at" => scenario.down_at = number(&name, &value)?,
            "--timeout-ms" => {
                scenario.client.timeout = Duration::from_millis(number(&name, &value)?)
            }
            "--max-retries" => scenario.client.max_retries = number(&name, &value)?,
            "--retry-share" => scenario.client.retry_share = number(&name, &value)?,
            "--plot" => plot = Some(PathBuf::from(value)),
            _ => return Err(format!("unknown option {name}")),
        }
    }
    scenario.validate()?;
    Ok(Some(Options { scenario, plot }))
}

/// Runs one client, drawing a progress bar on stderr when it is a terminal.
async fn run_with_progress(scenario: &Scenario, kind: ClientKind) -> std::io::Result<Report> {
    let completed = Arc::new(AtomicUsize::new(0));
    let total = scenario.requests;
    let label = kind.name();
    let interactive = std::io::stderr().is_terminal();
    let bar = {
        let completed = Arc::clone(&completed);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let done = completed.load(Ordering::Relaxed).min(total);
                if interactive {
                    draw(label, done, total);
                }
                if done == total {
                    break;
                }
            }
        })
    };
    let report = run(scenario, kind, completed).await?;
    // The bar's last tick draws the full bar.
    let _ = bar.await;
    if !interactive {
        draw(label, total, total);
    }
    eprintln!();
    Ok(report)
}

fn draw(label: &str, done: usize, total: usize) {
    const WIDTH: usize = 40;
    let filled = done * WIDTH / total;
    let mut stderr = std::io::stderr().lock();
    let _ = write!(
        stderr,
        "\r{label:>6} [{}{}] {done:>6}/{total} requests",
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
    );
    let _ = stderr.flush();
}

#[tokio::main]
async fn main() -> ExitCode {
    let Options {
        scenario,
        plot: plot_path,
    } = match parse_args(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    println!("{}\n", scenario.summary());
    let mut reports = Vec::new();
    for kind in ClientKind::ALL {
        match run_with_progress(&scenario, kind).await {
            Ok(report) => reports.push(report),
            Err(error) => {
                eprintln!("error: could not start the backends: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    let reports: Vec<&Report> = reports.iter().collect();
    println!();
    print!("{}", comparison(&reports));
    if let Some(path) = plot_path {
        let svg = match plot(&scenario.summary(), &reports) {
            Ok(svg) => svg,
            Err(error) => {
                eprintln!("error: could not draw the chart: {error}");
                return ExitCode::FAILURE;
            }
        };
        if let Err(error) = std::fs::write(&path, svg) {
            eprintln!("error: could not write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("\nchart written to {}", path.display());
    }
    ExitCode::SUCCESS
}
