//! The chaos soak, run small: every check holds, and the faults it injects
//! did happen; and the program's flags.

use std::process::Command;
use std::sync::Arc;

use donjon_examples::soak::{Config, Progress, Report, StackReport, run};

fn stack<'a>(report: &'a Report, name: &str) -> &'a StackReport {
    report
        .stacks
        .iter()
        .find(|stack| stack.name == name)
        .unwrap_or_else(|| panic!("no stack named {name}"))
}

fn errors(stack: &StackReport, kind: &str) -> u64 {
    stack
        .errors
        .iter()
        .find(|(name, _)| *name == kind)
        .map_or(0, |(_, n)| *n)
}

#[test]
fn a_small_soak_passes_every_check_and_injects_every_fault() {
    let config = Config {
        requests: 20_000,
        ..Config::default()
    };
    let progress = Arc::new(Progress::new());
    let report = run(&config, Arc::clone(&progress));
    println!("{report}");
    assert!(
        report.passed(),
        "failed: {:?}",
        report.failures().collect::<Vec<_>>()
    );
    assert_eq!(progress.done(), 20_000);
    assert_eq!(progress.phase(), "done");
    let issued: u64 = report.stacks.iter().map(|stack| stack.issued).sum();
    assert_eq!(issued, 20_000);
    for stack in &report.stacks {
        assert!(
            stack.cancelled > 0,
            "{} had no cancelled request",
            stack.name
        );
        assert!(
            stack.panicked > 0,
            "{} had no panic reach a caller",
            stack.name
        );
    }
    // The faults did what they are there for: the server's breaker opened
    // in the outage, the client's fallback answered and its retries
    // rescued, and the worker's buffer died.
    assert!(errors(stack(&report, "server"), "circuit open") > 0);
    assert!(stack(&report, "client").by_fallback > 0);
    assert!(stack(&report, "client").rescued > 0);
    assert!(errors(stack(&report, "worker"), "buffer failed") > 0);
}

#[test]
fn bad_flags_exit_with_status_2_naming_the_flag() {
    for (args, message) in [
        (
            &["--requests", "abc"][..],
            "soak: --requests expects a positive integer, got 'abc'",
        ),
        (
            &["--concurrency", "0"][..],
            "soak: --concurrency expects a positive integer, got '0'",
        ),
        (&["--bogus"][..], "soak: unknown option '--bogus'"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_soak"))
            .args(args)
            .output()
            .expect("the soak program runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with(message), "{args:?}: {stderr}");
        assert!(
            stderr.contains("Usage: soak [OPTIONS]"),
            "{args:?}: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn help_prints_the_usage_and_exits_with_status_0() {
    let output = Command::new(env!("CARGO_BIN_EXE_soak"))
        .arg("--help")
        .output()
        .expect("the soak program runs");
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Usage: soak [OPTIONS]"), "{stdout}");
    assert!(stdout.contains("--requests <N>"), "{stdout}");
}
