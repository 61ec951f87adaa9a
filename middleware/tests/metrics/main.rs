//! Integration tests of `donjon::metrics`: `Metrics`, `MetricsLayer`,
//! `error_kind` and `ServiceBuilder::metrics`, read back from a recorder that
//! keeps what it is given.
#![cfg(feature = "metrics")]

#[path = "../support/mod.rs"]
mod support;

use std::time::Duration;

use donjon::BoxError;
use donjon::metrics::{Metrics, MetricsLayer, error_kind};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::Boom;
use support::recorder::Recorded;

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// A `Metrics` named "api" around a fresh mock, its handles taken from a
/// recorder of its own.
fn new_service() -> (Spawn<Metrics<Mock>>, Handle, Recorded) {
    let recorded = Recorded::default();
    let (service, handle) = recorded.with(|| mock::spawn_layer(MetricsLayer::new("api")));
    (service, handle, recorded)
}

const API: &[(&str, &str)] = &[("name", "api")];

// Requests, in flight, durations.

#[tokio::test(start_paused = true)]
async fn a_request_is_counted_in_flight_until_it_answers_and_timed() {
    let (mut service, mut handle, recorded) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_eq!(recorded.counter("donjon_requests_total", API), 1);
    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 1.0);

    tokio::time::advance(Duration::from_millis(250)).await;
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 0.0);
    assert_eq!(
        recorded.histogram("donjon_request_duration_seconds", API),
        [0.25]
    );
    assert_eq!(
        recorded.counter(
            "donjon_request_errors_total",
            &[("name", "api"), ("kind", "other")]
        ),
        0
    );
    assert_eq!(recorded.counter("donjon_requests_cancelled_total", API), 0);
}

#[tokio::test(start_paused = true)]
async fn each_request_is_counted_and_timed_once() {
    let (mut service, mut handle, recorded) = new_service();
    for (i, millis) in [10, 20, 30].into_iter().enumerate() {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        tokio::time::advance(Duration::from_millis(millis)).await;
        assert_request_eq!(handle, "hello").send_response("world");
        assert_ready_ok!(response.poll());
        assert_eq!(recorded.counter("donjon_requests_total", API), i as u64 + 1);
    }
    assert_eq!(
        recorded.histogram("donjon_request_duration_seconds", API),
        [0.01, 0.02, 0.03]
    );
}

#[test]
fn two_instances_are_told_apart_by_their_name() {
    let recorded = Recorded::default();
    let ((mut first, _h1), (mut second, _h2)) = recorded.with(|| {
        (
            mock::spawn_with(|mock: Mock| Metrics::new(mock, "first")),
            mock::spawn_with(|mock: Mock| Metrics::new(mock, String::from("second"))),
        )
    });
    assert_eq!(second.get_ref().name(), "second");
    assert_ready_ok!(first.poll_ready());
    drop(first.call("a"));
    assert_ready_ok!(second.poll_ready());
    drop(second.call("b"));
    assert_ready_ok!(second.poll_ready());
    drop(second.call("c"));
    assert_eq!(
        recorded.counter("donjon_requests_total", &[("name", "first")]),
        1
    );
    assert_eq!(
        recorded.counter("donjon_requests_total", &[("name", "second")]),
        2
    );
}

// Readiness: the inner service's, untouched.

#[test]
fn readiness_is_the_inner_services_pending_then_woken_and_ready() {
    let (mut service, mut handle, recorded) = new_service();
    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(
        service.is_woken(),
        "the inner service's wake-up reaches the caller"
    );
    assert_ready_ok!(service.poll_ready());
    assert_eq!(
        recorded.counter("donjon_requests_total", API),
        0,
        "readiness is not a request"
    );
}

#[test]
fn a_readiness_error_passes_through_unchanged_and_is_no_request() {
    let (mut service, mut handle, recorded) = new_service();
    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Boom>(), "unexpected error: {error}");
    assert_eq!(recorded.counter("donjon_requests_total", API), 0);
}

#[test]
fn a_dropped_inner_service_fails_readiness_as_it_would_alone() {
    let (mut service, handle, _recorded) = new_service();
    drop(handle);
    assert_ready_err!(service.poll_ready());
}

// Errors, by kind.

#[tokio::test]
async fn an_inner_error_passes_through_and_is_counted_as_other() {
    let (mut service, mut handle, recorded) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error(Boom("down"));
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Boom>(), "unexpected error: {error}");
    let other = [("name", "api"), ("kind", "other")];
    assert_eq!(recorded.counter("donjon_request_errors_total", &other), 1);
    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 0.0);
    assert_eq!(
        recorded
            .histogram("donjon_request_duration_seconds", API)
            .len(),
        1
    );
}

#[cfg(feature = "timeout")]
#[tokio::test(start_paused = true)]
async fn a_timeout_below_is_counted_as_timeout() {
    use donjon::ServiceBuilder;

    let recorded = Recorded::default();
    let (mut service, _handle) = recorded.with(|| {
        mock::spawn_layer::<&'static str, &'static str, _>(
            ServiceBuilder::new()
                .metrics("api")
                .timeout(Duration::from_secs(1))
                .into_inner(),
        )
    });
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    let error = response.await.expect_err("the request times out");
    assert_eq!(error_kind(&error), "timeout");
    let timeouts = [("name", "api"), ("kind", "timeout")];
    assert_eq!(
        recorded.counter("donjon_request_errors_total", &timeouts),
        1
    );
    assert_eq!(
        recorded.histogram("donjon_request_duration_seconds", API),
        [1.0]
    );
}

#[test]
fn error_kind_knows_donjons_errors_boxed_or_not_and_in_a_chain() {
    assert_eq!(error_kind(&Boom("x")), "other");
    assert_eq!(error_kind(&BoxError::from(Boom("x"))), "other");
    #[cfg(feature = "timeout")]
    {
        use donjon::timeout::error::Elapsed;
        assert_eq!(error_kind(&Elapsed::new()), "timeout");
        assert_eq!(error_kind(&BoxError::from(Elapsed::new())), "timeout");
    }
    #[cfg(feature = "load-shed")]
    {
        use donjon::load_shed::error::Overloaded;
        assert_eq!(error_kind(&BoxError::from(Overloaded::new())), "overloaded");
    }
    #[cfg(feature = "timeout")]
    {
        // An error caused by a timeout is a timeout: the chain of sources
        // is searched.
        #[derive(Debug)]
        struct Wrapped(donjon::timeout::error::Elapsed);
        impl std::fmt::Display for Wrapped {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the backend call failed")
            }
        }
        impl std::error::Error for Wrapped {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let wrapped = Wrapped(donjon::timeout::error::Elapsed::new());
        assert_eq!(error_kind(&BoxError::from(wrapped)), "timeout");
    }
}

// Cancellation.

#[tokio::test]
async fn a_dropped_response_future_is_counted_cancelled_and_leaves_in_flight() {
    let (mut service, _handle, recorded) = new_service();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 1.0);
    drop(response);
    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 0.0);
    assert_eq!(recorded.counter("donjon_requests_cancelled_total", API), 1);
    assert!(
        recorded
            .histogram("donjon_request_duration_seconds", API)
            .is_empty()
    );
}

#[tokio::test]
async fn a_finished_future_dropped_later_is_not_cancelled() {
    let (mut service, mut handle, recorded) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_ready_ok!(response.poll());
    drop(response);
    assert_eq!(recorded.counter("donjon_requests_cancelled_total", API), 0);
    assert_eq!(recorded.gauge("donjon_requests_in_flight", API), 0.0);
}

// Without a recorder.

#[tokio::test]
async fn without_a_recorder_requests_go_through() {
    let (mut service, mut handle) = mock::spawn_layer(MetricsLayer::new("nobody listens"));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

// The circuit breaker's state and transitions.

#[cfg(feature = "circuit-breaker")]
mod circuit_breaker {
    use std::time::Duration;

    use donjon::circuit_breaker::{CircuitBreakerLayer, Config};
    use donjon_test::assert_request_eq;
    use donjon_test::mock;
    use tokio_test::{assert_ready_err, assert_ready_ok, task};

    use super::{Boom, Recorded};

    const STATE: &str = "donjon_circuit_breaker_state";
    const TRANSITIONS: &str = "donjon_circuit_breaker_transitions_total";

    fn state(recorded: &Recorded, state: &str) -> f64 {
        recorded.gauge(STATE, &[("name", "payments"), ("state", state)])
    }

    fn transitions_to(recorded: &Recorded, to: &str) -> u64 {
        recorded.counter(TRANSITIONS, &[("name", "payments"), ("to", to)])
    }

    #[tokio::test(start_paused = true)]
    async fn the_state_gauge_and_transitions_follow_the_breaker_under_its_name() {
        let recorded = Recorded::default();
        let config = Config::new()
            .with_name("payments")
            .with_consecutive_failures(2)
            .with_open_duration(Duration::from_secs(10));
        assert_eq!(config.name(), "payments");
        let (mut service, mut handle) = recorded.with(|| {
            mock::spawn_layer::<&'static str, &'static str, _>(CircuitBreakerLayer::new(config))
        });
        assert_eq!(state(&recorded, "closed"), 1.0);
        assert_eq!(state(&recorded, "open"), 0.0);

        for _ in 0..2 {
            assert_ready_ok!(service.poll_ready());
            let mut response = task::spawn(service.call("pay"));
            assert_request_eq!(handle, "pay").send_error(Boom("declined"));
            assert_ready_err!(response.poll());
        }
        assert_eq!(state(&recorded, "closed"), 0.0);
        assert_eq!(state(&recorded, "open"), 1.0);
        assert_eq!(transitions_to(&recorded, "open"), 1);

        // The open period ends: the next caller is a probe, half-open.
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_ready_ok!(service.poll_ready());
        assert_eq!(state(&recorded, "open"), 0.0);
        assert_eq!(state(&recorded, "half_open"), 1.0);
        assert_eq!(transitions_to(&recorded, "half_open"), 1);
        let mut response = task::spawn(service.call("pay"));
        assert_request_eq!(handle, "pay").send_response("paid");
        assert_ready_ok!(response.poll());
        assert_eq!(state(&recorded, "half_open"), 0.0);
        assert_eq!(state(&recorded, "closed"), 1.0);
        assert_eq!(transitions_to(&recorded, "closed"), 1);
        assert_eq!(transitions_to(&recorded, "open"), 1);
    }

    #[test]
    fn an_unnamed_breaker_reports_as_circuit_breaker() {
        let recorded = Recorded::default();
        let _service = recorded.with(|| {
            mock::spawn_layer::<&'static str, &'static str, _>(CircuitBreakerLayer::new(
                Config::new(),
            ))
        });
        assert_eq!(
            recorded.gauge(STATE, &[("name", "circuit_breaker"), ("state", "closed")]),
            1.0
        );
    }
}

// The other middleware's metrics.
mod others;

// The limits' gauges and counters.

#[cfg(feature = "limit")]
mod limit;
