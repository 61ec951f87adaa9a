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

async fn run_both(scenario: &Scenario) -> (Report, Report) {
    let mut reports = Vec::new();
    for kind in [ClientKind::Naive, ClientKind::Donjon] {
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
        reports.push(report);
    }
    let donjon = reports.pop().expect("two reports");
    let naive = reports.pop().expect("two reports");
    println!("{}", comparison(&[&naive, &donjon]));
    (naive, donjon)
}

#[tokio::test(start_paused = true)]
async fn donjon_succeeds_more_often_and_has_a_lower_p99_than_round_robin() {
    let (naive, donjon) = run_both(&small()).await;
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
    let (naive, _) = run_both(&small()).await;
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
    let (_, donjon) = run_both(&small()).await;
    let attempts = |name: &str| {
        donjon
            .spread
            .iter()
            .find(|(backend, _)| backend == name)
            .map(|(_, n)| *n)
            .expect("a backend of that name")
    };
    assert!(
        attempts("slow") * 10 < attempts("steady"),
        "the slow backend gets far less than the steady one: {:?}",
        donjon.spread
    );
    assert!(donjon.retries > 0, "failed attempts are retried");
    let total: u64 = donjon.spread.iter().map(|(_, n)| n).sum();
    assert_eq!(
        total,
        donjon.requests as u64 + donjon.retries,
        "every attempt is a first try or a retry"
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
    fn a_small_run_prints_both_columns() {
        let output = flagship(&["--requests", "200", "--concurrency", "8"]);
        assert!(output.status.success());
        let table = String::from_utf8_lossy(&output.stdout);
        for row in [
            "naive",
            "donjon",
            "successes",
            "p99 latency",
            "retries",
            "attempts to doomed",
        ] {
            assert!(table.contains(row), "{row} is missing from:\n{table}");
        }
    }
}
