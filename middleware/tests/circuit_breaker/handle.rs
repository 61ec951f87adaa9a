//! The handle: shared state between clones, manual control, and the
//! `tracing` events of each change of state.

use std::time::Duration;

use donjon::circuit_breaker::{CircuitBreaker, Config, OpenBehavior, State};
use tokio::time::{Instant, advance};
use tokio_test::{assert_pending, assert_ready_ok};

use crate::support::Boom;
use crate::{Req, circuit_open, mocked, scripted, send, send_all};

/// Trips on the first failure and stays open 1 s, with one probe; the
/// failure rate counts from 100 calls.
fn one_strike() -> Config {
    Config::new()
        .with_consecutive_failures(1)
        .with_minimum_calls(100)
        .with_open_duration(Duration::from_secs(1))
}

#[tokio::test(start_paused = true)]
async fn clones_share_one_breaker() {
    let mut first = scripted(one_strike());
    let mut second = first.clone();

    send_all(&mut second, &[Req::Ok]).await;
    assert_eq!(first.handle().calls(), 1);

    send_all(&mut first, &[Req::Fail]).await;
    assert_eq!(second.handle().state(), State::Open);
    let error = send(&mut second, Req::Ok).await.unwrap_err();
    assert_eq!(
        circuit_open(&error).retry_after(),
        Some(Duration::from_secs(1))
    );

    // A probe through one clone closes the breaker for both.
    advance(Duration::from_secs(1)).await;
    send(&mut second, Req::Ok).await.unwrap();
    assert_eq!(first.handle().state(), State::Closed);
    assert_eq!(send(&mut first, Req::Ok).await.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn forcing_open_refuses_every_call_until_closed_by_hand() {
    let mut breaker = scripted(one_strike());
    let handle = breaker.handle();
    send_all(&mut breaker, &[Req::Ok, Req::Ok]).await;

    handle.force_open();
    assert_eq!(handle.state(), State::ForcedOpen);
    assert_eq!(handle.calls(), 2, "forcing open keeps the window");
    assert_eq!(handle.next_probe_at(), None);
    advance(Duration::from_secs(3_600)).await;
    let error = send(&mut breaker, Req::Ok).await.unwrap_err();
    let open = circuit_open(&error);
    assert!(open.is_forced_open());
    assert_eq!(open.retry_after(), None);
    assert_eq!(open.next_probe_at(), None);
    assert_eq!(error.to_string(), "circuit breaker is forced open");

    handle.force_closed();
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.calls(), 0, "closing empties the window");
    assert_eq!(send(&mut breaker, Req::Ok).await.unwrap(), "ok");
}

#[tokio::test(start_paused = true)]
async fn forcing_closed_ends_an_opening_and_does_nothing_when_closed() {
    let mut breaker = scripted(one_strike());
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::Ok, Req::Fail]).await;
    assert_eq!(handle.state(), State::Open);
    assert_eq!(handle.calls(), 2);
    handle.force_closed();
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.calls(), 0);
    assert_eq!(handle.figures().consecutive_failures(), 0);

    send_all(&mut breaker, &[Req::Ok]).await;
    handle.force_closed();
    assert_eq!(handle.calls(), 1, "already closed: nothing changes");
}

#[tokio::test(start_paused = true)]
async fn reset_empties_the_window_and_starts_the_open_duration_over() {
    let config = one_strike().with_open_backoff(2.0, Duration::from_secs(60));
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send_all(&mut breaker, &[Req::Ok, Req::Ok]).await;
    handle.reset();
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.calls(), 0, "reset empties a closed breaker's window");

    // Open 1 s, then 2 s after a failed probe.
    send_all(&mut breaker, &[Req::Fail]).await;
    advance(Duration::from_secs(1)).await;
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(
        handle.next_probe_at(),
        Some(Instant::now() + Duration::from_secs(2))
    );

    handle.reset();
    assert_eq!(handle.state(), State::Closed);
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(
        handle.next_probe_at(),
        Some(Instant::now() + Duration::from_secs(1)),
        "back to the initial open duration"
    );
}

#[tokio::test(start_paused = true)]
async fn disabling_lets_every_call_through_and_records_nothing() {
    let mut breaker = scripted(one_strike());
    let handle = breaker.handle();

    handle.disable();
    assert_eq!(handle.state(), State::Disabled);
    for _ in 0..5 {
        let error = send(&mut breaker, Req::Fail).await.unwrap_err();
        assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("fail")));
    }
    assert_eq!(handle.state(), State::Disabled);
    assert_eq!(handle.calls(), 0);

    handle.force_open();
    assert_eq!(handle.state(), State::ForcedOpen);
    handle.disable();
    assert_eq!(handle.state(), State::Disabled);
    handle.reset();
    assert_eq!(handle.state(), State::Closed);
    send_all(&mut breaker, &[Req::Fail]).await;
    assert_eq!(handle.state(), State::Open, "recording again");
}

#[tokio::test(start_paused = true)]
async fn manual_changes_wake_waiting_callers() {
    let config = one_strike().with_open_behavior(OpenBehavior::NotReady);
    let (mut service, _handle) = mocked(config);
    let breaker = service.get_ref().handle();

    breaker.force_open();
    assert_pending!(service.poll_ready());
    breaker.force_open();
    assert!(!service.is_woken(), "forcing open again changes nothing");

    breaker.disable();
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[test]
fn the_handle_and_the_service_show_the_state_in_debug() {
    let breaker = CircuitBreaker::new((), Config::new());
    let handle = breaker.handle();
    handle.force_open();
    assert_eq!(format!("{handle:?}"), "Handle { state: ForcedOpen, .. }");
    assert!(format!("{breaker:?}").contains("state: ForcedOpen"));
    assert_eq!(State::HalfOpen.to_string(), "half-open");
    assert_eq!(State::ForcedOpen.to_string(), "forced-open");
}
