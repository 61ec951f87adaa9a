//! What callers see while the breaker is open: failing fast, or waiting in
//! `poll_ready` until half-open.

use std::time::Duration;

use donjon::circuit_breaker::{CircuitBreaker, Config, OpenBehavior, State};
use donjon_test::mock::{self, Spawn};
use tokio::time::{Instant, advance};
use tokio_test::{assert_pending, assert_ready_ok};

use crate::support::{Boom, Counting, Counts};
use crate::{MS, Mock, MockHandle, circuit_open, mocked};

/// Trips on the first failure and stays open 10 s, with one probe.
fn config(behavior: OpenBehavior) -> Config {
    Config::new()
        .with_consecutive_failures(1)
        .with_open_duration(Duration::from_secs(10))
        .with_open_behavior(behavior)
}

/// A breaker around a counting mock, tripped by one failure.
async fn tripped(
    behavior: OpenBehavior,
) -> (Spawn<CircuitBreaker<Counting<Mock>>>, MockHandle, Counts) {
    let (mut service, mut handle) =
        mock::spawn_with(|mock| CircuitBreaker::new(Counting::new(mock), config(behavior)));
    let counts = service.get_ref().get_ref().counts();
    assert_ready_ok!(service.poll_ready());
    let response = service.call("trip");
    let (_, reply) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
    reply.send_error(Boom("down"));
    response.await.unwrap_err();
    assert_eq!(service.get_ref().handle().state(), State::Open);
    (service, handle, counts)
}

#[tokio::test(start_paused = true)]
async fn failing_fast_is_ready_without_the_inner_service_and_refuses_at_once() {
    let (mut service, mut handle, counts) = tripped(OpenBehavior::FailFast).await;
    let opened = Instant::now();
    let polls = counts.poll_ready();

    handle.allow(0);
    advance(Duration::from_secs(4)).await;
    assert_ready_ok!(service.poll_ready(), "ready although the mock is not");
    let error = service.call("refused").await.unwrap_err();
    let open = circuit_open(&error);
    assert_eq!(open.next_probe_at(), Some(opened + Duration::from_secs(10)));
    assert_eq!(open.retry_after(), Some(Duration::from_secs(6)));
    assert!(!open.is_forced_open());
    assert!(!open.is_half_open());
    assert_eq!(
        error.to_string(),
        "circuit breaker is open; next probe in 6s"
    );

    assert_eq!(
        counts.poll_ready(),
        polls,
        "the inner service was not polled"
    );
    assert_eq!(counts.calls(), 1, "nor called");
    assert_pending!(handle.poll_request());
}

#[tokio::test(start_paused = true)]
async fn not_ready_waits_and_wakes_the_caller_exactly_when_half_open_starts() {
    let (mut service, _handle, counts) = tripped(OpenBehavior::NotReady).await;
    let breaker = service.get_ref().handle();
    let polls = counts.poll_ready();

    assert_pending!(service.poll_ready());
    advance(Duration::from_secs(10) - MS).await;
    assert!(!service.is_woken(), "not woken before the open period ends");
    assert_eq!(breaker.state(), State::Open);
    assert_pending!(service.poll_ready());

    advance(MS).await;
    assert!(service.is_woken(), "woken when it ends");
    assert_eq!(
        counts.poll_ready(),
        polls,
        "the inner service was not polled meanwhile"
    );
    assert_ready_ok!(service.poll_ready());
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(counts.poll_ready(), polls + 1);
}

#[tokio::test(start_paused = true)]
async fn not_ready_callers_wait_for_a_free_probe_slot() {
    let (mut first, _handle, _) = tripped(OpenBehavior::NotReady).await;
    let mut second = first.clone();
    advance(Duration::from_secs(10)).await;

    assert_ready_ok!(first.poll_ready());
    let probe = first.call("probe");
    assert_pending!(second.poll_ready(), "the only probe slot is taken");
    assert_eq!(second.waker_ref_count(), 2, "its waker is registered");

    drop(probe);
    assert!(second.is_woken(), "the dropped probe's slot is free again");
    assert_eq!(second.waker_ref_count(), 1, "and its waker released");
    assert_ready_ok!(second.poll_ready());
    assert_eq!(second.get_ref().handle().state(), State::HalfOpen);
}

#[tokio::test(start_paused = true)]
async fn not_ready_callers_are_woken_by_the_probes_verdict() {
    let (mut first, mut handle, _) = tripped(OpenBehavior::NotReady).await;
    let mut second = first.clone();
    advance(Duration::from_secs(10)).await;

    assert_ready_ok!(first.poll_ready());
    let probe = first.call("probe");
    assert_pending!(second.poll_ready());

    let (_, reply) = tokio_test::assert_ready!(handle.poll_request()).unwrap();
    reply.send_response("fine");
    assert!(!second.is_woken(), "the response alone changes nothing");
    assert_eq!(probe.await.unwrap(), "fine");
    assert!(second.is_woken(), "the probe's outcome closed the breaker");
    assert_eq!(second.get_ref().handle().state(), State::Closed);
    assert_ready_ok!(second.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn not_ready_waits_while_forced_open_until_changed_by_hand() {
    let (mut service, _handle) = mocked(config(OpenBehavior::NotReady));
    let breaker = service.get_ref().handle();

    breaker.force_open();
    assert_pending!(service.poll_ready());
    advance(Duration::from_secs(3_600)).await;
    assert!(!service.is_woken(), "no timer ends a forced opening");

    breaker.force_closed();
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiting_caller_leaves_no_waker_behind() {
    let (service, _handle, _) = tripped(OpenBehavior::NotReady).await;
    let mut clone = service.into_inner();
    let mut task = tokio_test::task::spawn(());

    assert_pending!(task.enter(|cx, _| donjon::Service::<&str>::poll_ready(&mut clone, cx)));
    assert!(
        task.waker_ref_count() > 1,
        "the breaker and its timer hold the waker"
    );
    drop(clone);
    assert_eq!(task.waker_ref_count(), 1);
}
