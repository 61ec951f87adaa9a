//! The `tracing` events of `donjon::circuit_breaker`, in a test binary of
//! their own: a subscriber set for one test sees every event only when no
//! other test registers the same callsites concurrently without one.
#![cfg(feature = "circuit-breaker")]

mod support;

use std::future::{Ready, poll_fn, ready};
use std::task::{Context, Poll};
use std::time::Duration;

use donjon::circuit_breaker::{CircuitBreaker, Config};
use donjon::{BoxError, Service};
use tokio::time::advance;

use support::Captured;

/// Always ready; fails the requests that say so.
#[derive(Debug, Clone, Copy)]
struct Scripted;

impl Service<bool> for Scripted {
    type Response = ();
    type Error = BoxError;
    type Future = Ready<Result<(), BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, fail: bool) -> Self::Future {
        ready(if fail { Err("fail".into()) } else { Ok(()) })
    }
}

/// Sends each request in turn (`true` fails), ignoring the results.
async fn send_all<S: Service<bool>>(service: &mut S, requests: &[bool]) {
    for &request in requests {
        if poll_fn(|cx| service.poll_ready(cx)).await.is_ok() {
            let _ = service.call(request).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn each_change_of_state_emits_an_event_with_the_figures_that_caused_it() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .without_time()
        .with_target(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let config = Config::new()
        .with_count_window(4)
        .with_minimum_calls(4)
        .with_failure_rate_threshold(0.5)
        .with_open_duration(Duration::from_secs(5));
    let mut breaker = CircuitBreaker::new(Scripted, config);
    let handle = breaker.handle();

    send_all(&mut breaker, &[false, true, false]).await;
    assert!(captured.lines().is_empty(), "no change, no event");
    send_all(&mut breaker, &[true]).await;
    advance(Duration::from_secs(5)).await;
    send_all(&mut breaker, &[false]).await;
    handle.force_open();

    let lines = captured.lines();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let expected = [
        (
            " WARN circuit breaker state changed",
            "from=closed to=open reason=\"failure rate\" calls=4 failures=2 slow_calls=0 \
             failure_rate=0.5 slow_call_rate=0.0 consecutive_failures=1 open_for=Some(5s)",
        ),
        (
            " INFO circuit breaker state changed",
            "from=open to=half-open reason=\"open period over\" calls=4 failures=2",
        ),
        (
            " INFO circuit breaker state changed",
            "from=half-open to=closed reason=\"probes succeeded\" calls=1 failures=0",
        ),
        (
            " WARN circuit breaker state changed",
            "from=closed to=forced-open reason=\"forced open\" calls=0 failures=0",
        ),
    ];
    for (line, (start, fields)) in lines.iter().zip(expected) {
        assert!(line.starts_with(start), "{line}");
        assert!(line.contains(fields), "{line}\ndoes not contain\n{fields}");
    }
}
