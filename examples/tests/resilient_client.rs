//! The flagship scenario, run on tokio's paused clock: backend latencies,
//! timeouts and backoffs are virtual, so the outcome does not depend on how
//! busy the machine is. The traffic is real HTTP over loopback.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon_examples::resilient_client::{ClientKind, Report, Scenario, comparison, run};

fn small() -> Scenario {
    Scenario {
        requests: 600,
        concurrency: 16,
        ..Scenario::default()
    }
}

/// The three clients' reports on one scenario.
struct Runs {
    naive: Report,
    tower: Report,
    donjon: Report,
}

async fn run_all(scenario: &Scenario) -> Runs {
    let mut reports = Vec::new();
    for kind in ClientKind::ALL {
        let completed = Arc::new(AtomicUsize::new(0));
        let report = tokio::time::timeout(
            Duration::from_secs(3600),
            run(scenario, kind, Arc::clone(&completed)),
        )
        .await
        .expect("the run finishes")
        .expect("the backends start");
        assert_eq!(
            completed.load(Ordering::Relaxed),
            scenario.requests,
            "every request completes, and is counted once"
        );
        assert_eq!(report.kind, kind);
        reports.push(report);
    }
    println!("{}", comparison(&reports.iter().collect::<Vec<_>>()));
    let [naive, tower, donjon] = <[Report; 3]>::try_from(reports).expect("three reports");
    Runs {
        naive,
        tower,
        donjon,
    }
}

/// Attempts `report`'s client sent to the backend called `name` after the
/// doomed backend went down.
fn attempts_after_down(report: &Report, name: &str) -> usize {
    let (_, times) = report
        .attempt_times
        .iter()
        .find(|(backend, _)| backend == name)
        .expect("a backend of that name");
    times.iter().filter(|at| **at > report.down_at).count()
}

/// Attempts `report`'s client sent to the backend called `name`.
fn attempts(report: &Report, name: &str) -> u64 {
    report
        .spread
        .iter()
        .find(|(backend, _)| backend == name)
        .map(|(_, n)| *n)
        .expect("a backend of that name")
}

#[tokio::test(start_paused = true)]
async fn donjon_succeeds_more_often_and_has_a_lower_p99_than_round_robin() {
    let Runs { naive, donjon, .. } = run_all(&small()).await;
    assert_eq!(naive.requests, 600);
    assert_eq!(donjon.requests, 600);
    assert!(
        donjon.success_rate() > naive.success_rate(),
        "donjon {} vs naive {}",
        donjon.success_rate(),
        naive.success_rate()
    );
    assert!(
        donjon.percentile(0.99) < naive.percentile(0.99),
        "donjon {:?} vs naive {:?}",
        donjon.percentile(0.99),
        naive.percentile(0.99)
    );
}

#[tokio::test(start_paused = true)]
async fn the_naive_client_spreads_evenly_and_suffers_every_fault() {
    let Runs { naive, .. } = run_all(&small()).await;
    let attempts: Vec<u64> = naive.spread.iter().map(|(_, n)| *n).collect();
    assert_eq!(attempts, [150, 150, 150, 150], "round-robin: {naive:?}");
    assert_eq!(naive.retries, 0);
    assert!(naive.server_errors > 0, "the flaky backend's 500s reach it");
    assert!(
        naive.transport_errors > 0,
        "requests to the doomed backend fail once it is down"
    );
    // Every request to the slow backend takes at least 200 ms.
    assert!(naive.percentile(0.99) >= Duration::from_millis(200));
}

#[tokio::test(start_paused = true)]
async fn donjon_steers_away_from_the_slow_backend_and_retries_failures() {
    let Runs { donjon, .. } = run_all(&small()).await;
    steers_away_from_the_slow_backend_and_retries_failures(&donjon);
}

#[tokio::test(start_paused = true)]
async fn tower_steers_away_from_the_slow_backend_and_retries_failures() {
    let Runs { tower, .. } = run_all(&small()).await;
    steers_away_from_the_slow_backend_and_retries_failures(&tower);
}

/// What p2c by peak EWMA and retries within a budget do, in tower's stack
/// as in donjon's.
fn steers_away_from_the_slow_backend_and_retries_failures(report: &Report) {
    assert!(
        attempts(report, "slow") * 10 < attempts(report, "steady"),
        "{}: the slow backend gets far less than the steady one: {:?}",
        report.kind.name(),
        report.spread
    );
    assert!(report.retries > 0, "failed attempts are retried");
    let total: u64 = report.spread.iter().map(|(_, n)| n).sum();
    assert_eq!(
        total,
        report.requests as u64 + report.retries,
        "every attempt is a first try or a retry"
    );
}

#[tokio::test(start_paused = true)]
async fn tower_retries_500s_away_and_has_a_lower_p99_than_round_robin() {
    let Runs { naive, tower, .. } = run_all(&small()).await;
    assert_eq!(tower.requests, 600);
    assert!(
        tower.server_errors < naive.server_errors,
        "retries fix 500s: tower {} vs naive {}",
        tower.server_errors,
        naive.server_errors
    );
    assert!(
        tower.percentile(0.99) < naive.percentile(0.99),
        "tower {:?} vs naive {:?}",
        tower.percentile(0.99),
        naive.percentile(0.99)
    );
}

#[tokio::test(start_paused = true)]
async fn donjon_keeps_traffic_off_the_dead_backend_where_tower_cannot() {
    let Runs { tower, donjon, .. } = run_all(&small()).await;
    // Without circuit breakers, a refused connection looks like a fast
    // answer to peak EWMA, and p2c favours the dead backend.
    assert!(
        attempts(&donjon, "doomed") < attempts(&tower, "doomed"),
        "donjon {:?} vs tower {:?}",
        donjon.spread,
        tower.spread
    );
    let (tower_dead, donjon_dead) = (
        attempts_after_down(&tower, "doomed"),
        attempts_after_down(&donjon, "doomed"),
    );
    assert!(
        donjon_dead * 10 < tower_dead,
        "attempts to doomed once down: donjon {donjon_dead} vs tower {tower_dead}"
    );
    assert!(
        donjon.transport_errors < tower.transport_errors,
        "donjon {} vs tower {} connection errors",
        donjon.transport_errors,
        tower.transport_errors
    );
    assert!(
        donjon.success_rate() > tower.success_rate(),
        "donjon {} vs tower {}",
        donjon.success_rate(),
        tower.success_rate()
    );
}

#[tokio::test(start_paused = true)]
async fn each_run_records_its_requests_and_attempts_over_time_and_when_doomed_went_down() {
    let scenario = small();
    let down_after = 300; // half of 600
    for report in <[Report; 3]>::from(run_all(&scenario).await) {
        let name = report.kind.name();
        assert_eq!(report.samples.len(), report.requests, "{name}");
        assert!(
            report.samples.is_sorted_by_key(|sample| sample.sent),
            "{name}: samples in the order they were sent"
        );
        assert_eq!(
            report.samples.iter().filter(|s| s.succeeded).count(),
            report.successes,
            "{name}"
        );
        assert!(
            report
                .samples
                .iter()
                .all(|sample| sample.sent + sample.latency <= report.elapsed),
            "{name}: every request ends within the run"
        );
        let logged: Vec<(String, u64)> = report
            .attempt_times
            .iter()
            .map(|(backend, times)| (backend.clone(), times.len() as u64))
            .collect();
        assert_eq!(logged, report.spread, "{name}: one time per attempt");
        for (backend, times) in &report.attempt_times {
            assert!(times.is_sorted(), "{name}: {backend}'s attempts in order");
        }
        // Doomed goes down when the 300th request finishes: by then at
        // least 300 were sent, and at most one more per other task.
        let sent_by = report
            .samples
            .iter()
            .filter(|s| s.sent <= report.down_at)
            .count();
        let sent_before = report
            .samples
            .iter()
            .filter(|s| s.sent < report.down_at)
            .count();
        assert!(
            sent_by >= down_after && sent_before < down_after + scenario.concurrency,
            "{name}: down at {:?}, {sent_before} requests sent before, {sent_by} by then",
            report.down_at
        );
    }
}

impl From<Runs> for [Report; 3] {
    fn from(runs: Runs) -> Self {
        [runs.naive, runs.tower, runs.donjon]
    }
}

#[test]
fn an_invalid_scenario_is_refused_with_a_message() {
    let scenario = Scenario {
        failure_share: 1.5,
        ..Scenario::default()
    };
    assert_eq!(
        scenario.validate(),
        Err("the failure share is a fraction in [0, 1], got 1.5".into())
    );
    let scenario = Scenario {
        requests: 0,
        ..Scenario::default()
    };
    assert!(scenario.validate().is_err());
}

#[test]
fn percentiles_are_nearest_rank() {
    let report = Report {
        kind: ClientKind::Naive,
        requests: 100,
        successes: 100,
        server_errors: 0,
        timeouts: 0,
        shed: 0,
        transport_errors: 0,
        latencies: (1..=100).map(Duration::from_millis).collect(),
        retries: 0,
        spread: Vec::new(),
        elapsed: Duration::ZERO,
        samples: Vec::new(),
        attempt_times: Vec::new(),
        down_at: Duration::ZERO,
    };
    assert_eq!(report.percentile(0.50), Duration::from_millis(50));
    assert_eq!(report.percentile(0.99), Duration::from_millis(99));
    assert_eq!(report.percentile(0.0), Duration::from_millis(1));
    assert_eq!(report.max(), Duration::from_millis(100));
    assert_eq!(report.errors(), 0);
}

mod command_line {
    use std::process::Command;

    fn flagship(args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_resilient-client"))
            .args(args)
            .output()
            .expect("the example runs")
    }

    #[test]
    fn help_lists_the_flags() {
        let output = flagship(&["--help"]);
        assert!(output.status.success());
        let usage = String::from_utf8_lossy(&output.stdout);
        for flag in [
            "--requests",
            "--concurrency",
            "--slow-ms",
            "--failure-share",
            "--down-at",
            "--timeout-ms",
            "--plot",
        ] {
            assert!(usage.contains(flag), "{flag} is missing from:\n{usage}");
        }
    }

    #[test]
    fn a_bad_value_is_refused_with_a_message_and_status_2() {
        let output = flagship(&["--requests", "many"]);
        assert_eq!(output.status.code(), Some(2));
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(
            error.contains("--requests: `many` is not a valid number"),
            "{error}"
        );

        let output = flagship(&["--failure-share=2"]);
        assert_eq!(output.status.code(), Some(2));
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(error.contains("fraction in [0, 1], got 2"), "{error}");

        let output = flagship(&["--frobnicate", "1"]);
        assert_eq!(output.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&output.stderr).contains("unknown option --frobnicate"));
    }

    #[test]
    fn a_small_run_prints_three_columns() {
        let output = flagship(&["--requests", "200", "--concurrency", "8"]);
        assert!(output.status.success());
        let table = String::from_utf8_lossy(&output.stdout);
        let header = table
            .lines()
            .find(|line| line.contains("naive"))
            .unwrap_or_else(|| panic!("no header in:\n{table}"));
        assert_eq!(
            header.split_whitespace().collect::<Vec<_>>(),
            ["naive", "tower", "donjon"],
            "the columns, in order"
        );
        for row in ["successes", "p99 latency", "retries", "attempts to doomed"] {
            assert!(table.contains(row), "{row} is missing from:\n{table}");
        }
    }

    #[test]
    fn plot_writes_an_svg_with_two_panels_per_client_and_the_down_marker() {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("flagship-plot.svg");
        let _ = std::fs::remove_file(&path);
        let output = flagship(&[
            "--requests",
            "200",
            "--concurrency",
            "8",
            "--plot",
            path.to_str().expect("a UTF-8 path"),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let svg = std::fs::read_to_string(&path).expect("the chart is written");
        let texts = svg_texts(&svg).unwrap_or_else(|error| panic!("malformed SVG: {error}"));
        let count = |wanted: &str| texts.iter().filter(|text| *text == wanted).count();
        for client in ["naive", "tower", "donjon"] {
            for panel in ["latency", "share of attempts"] {
                let title = format!("{client}: {panel}");
                assert_eq!(count(&title), 1, "{title} in {texts:?}");
            }
        }
        assert_eq!(count("doomed down"), 6, "a marker per panel: {texts:?}");
        for backend in ["steady", "slow", "flaky", "doomed"] {
            assert_eq!(count(backend), 1, "{backend} in the legend: {texts:?}");
        }
    }

    #[test]
    fn the_svg_check_refuses_malformed_documents() {
        let good = "<svg a=\"1\"><g><text x=\"0\">\n a &amp; b \n</text><rect/></g></svg>";
        assert_eq!(svg_texts(good), Ok(vec!["a &amp; b".to_owned()]));
        for bad in [
            "<svg><g></svg>",
            "<svg><text>a</g></svg>",
            "<svg><text>a & b</text></svg>",
            "<svg></svg><svg></svg>",
            "<html></html>",
            "<svg><text>a</text>",
        ] {
            assert!(svg_texts(bad).is_err(), "{bad} passes");
        }
    }

    /// The contents of `svg`'s `<text>` elements, trimmed, once it is
    /// checked to be one `<svg>` element whose tags nest and whose
    /// character data holds no stray `&` or `>`.
    fn svg_texts(svg: &str) -> Result<Vec<String>, String> {
        let mut open: Vec<&str> = Vec::new();
        let mut texts = Vec::new();
        let mut rest = svg.trim();
        if !rest.starts_with("<svg") {
            return Err("it does not start with <svg".into());
        }
        while let Some(start) = rest.find('<') {
            let data = &rest[..start];
            if data.contains('>') || data.split('&').skip(1).any(|s| !s.contains(';')) {
                return Err(format!("bad character data {data:?}"));
            }
            if open.last() == Some(&"text") {
                texts.push(data.trim().to_owned());
            } else if !data.trim().is_empty() && open.is_empty() {
                return Err(format!("text outside the root element: {data:?}"));
            }
            let end = rest[start..].find('>').ok_or("a tag is not closed")? + start;
            let tag = &rest[start + 1..end];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(opened) if opened == name.trim() => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
                if open.is_empty() && !rest[end + 1..].trim().is_empty() {
                    return Err("content after the root element".into());
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().ok_or("an empty tag")?;
                if open.is_empty() && name != "svg" {
                    return Err(format!("the root is <{name}>"));
                }
                open.push(name);
            }
            rest = &rest[end + 1..];
        }
        if open.is_empty() {
            Ok(texts)
        } else {
            Err(format!("unclosed elements: {open:?}"))
        }
    }
}
