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
}
