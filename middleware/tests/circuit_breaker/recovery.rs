//! Open to half-open, and half-open to closed or open again: the open
//! period and its growth, and the probes.

use std::time::Duration;

use donjon::circuit_breaker::{CircuitBreaker, Config, State};
use tokio::time::{Instant, advance};
use tokio_test::{assert_pending, assert_ready_ok};

use crate::support::Boom;
use crate::{MS, Req, Scripted, answer, circuit_open, ignoring, mocked, scripted, send};

/// Trips on the first failure, stays open `open` and lets `probes` probes
/// through.
fn one_strike(open: Duration, probes: u32) -> Config {
    Config::new()
        .with_consecutive_failures(1)
        .with_open_duration(open)
        .with_half_open_calls(probes)
}

#[tokio::test(start_paused = true)]
async fn stays_open_for_the_open_duration_then_lets_a_probe_through() {
    let mut breaker = scripted(one_strike(Duration::from_secs(10), 1));
    let handle = breaker.handle();

    send(&mut breaker, Req::Fail).await.unwrap_err();
    let opened = Instant::now();
    assert_eq!(handle.state(), State::Open);
    assert_eq!(
        handle.next_probe_at(),
        Some(opened + Duration::from_secs(10))
    );

    advance(Duration::from_secs(10) - MS).await;
    let error = send(&mut breaker, Req::Ok).await.unwrap_err();
    assert_eq!(circuit_open(&error).retry_after(), Some(MS));
    assert_eq!(handle.state(), State::Open);

    advance(MS).await;
    assert_eq!(handle.state(), State::HalfOpen);
    assert_eq!(handle.next_probe_at(), None);
    assert_eq!(send(&mut breaker, Req::Ok).await.unwrap(), "ok");
    assert_eq!(handle.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn exactly_half_open_calls_probes_go_through_at_once() {
    let (mut service, mut handle) = mocked(one_strike(Duration::from_secs(1), 3));
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    let mut callers: Vec<_> = (0..4).map(|_| service.clone()).collect();
    let mut probes = Vec::new();
    for caller in &mut callers[..3] {
        assert_ready_ok!(caller.poll_ready());
        probes.push(caller.call("probe"));
    }
    assert_eq!(breaker.state(), State::HalfOpen);

    // The fourth caller is refused while the three probes are in flight.
    assert_ready_ok!(callers[3].poll_ready());
    let error = callers[3].call("fourth").await.unwrap_err();
    assert!(circuit_open(&error).is_half_open());
    assert_eq!(
        error.to_string(),
        "circuit breaker is half-open and all its probes are in flight"
    );

    let mut replies = Vec::new();
    while let std::task::Poll::Ready(Some((request, reply))) = handle.poll_request() {
        assert_eq!(request, "probe");
        replies.push(reply);
    }
    assert_eq!(
        replies.len(),
        3,
        "exactly three requests reached the service"
    );

    for (reply, probe) in replies.into_iter().zip(probes) {
        assert_eq!(breaker.state(), State::HalfOpen);
        reply.send_response("fine");
        assert_eq!(probe.await.unwrap(), "fine");
    }
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_closes_with_an_empty_window_once_every_probe_succeeded() {
    let config = one_strike(Duration::from_secs(5), 2).with_minimum_calls(100);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send(&mut breaker, Req::Ok).await.unwrap();
    send(&mut breaker, Req::Fail).await.unwrap_err();
    assert_eq!(handle.calls(), 2);
    advance(Duration::from_secs(5)).await;

    send(&mut breaker, Req::Ok).await.unwrap();
    assert_eq!(handle.state(), State::HalfOpen, "one probe of two finished");
    send(&mut breaker, Req::Ok).await.unwrap();
    assert_eq!(handle.state(), State::Closed);
    assert_eq!(handle.calls(), 0);
    assert_eq!(handle.figures().consecutive_failures(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_probes_failure_rate_decides_between_closing_and_opening_again() {
    // Three probes, threshold 0.5: one failure closes, two open again.
    let config = one_strike(Duration::from_secs(1), 3).with_failure_rate_threshold(0.5);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send(&mut breaker, Req::Fail).await.unwrap_err();
    advance(Duration::from_secs(1)).await;
    for request in [Req::Fail, Req::Ok, Req::Ok] {
        let _ = send(&mut breaker, request).await;
    }
    assert_eq!(handle.state(), State::Closed);

    send(&mut breaker, Req::Fail).await.unwrap_err();
    advance(Duration::from_secs(1)).await;
    for request in [Req::Ok, Req::Fail] {
        let _ = send(&mut breaker, request).await;
    }
    assert_eq!(handle.state(), State::HalfOpen);
    send(&mut breaker, Req::Fail).await.unwrap_err();
    assert_eq!(handle.state(), State::Open);
    assert_eq!(
        handle.next_probe_at(),
        Some(Instant::now() + Duration::from_secs(1))
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_probe_opens_the_breaker_again() {
    let config =
        one_strike(Duration::from_secs(10), 1).with_slow_calls(Duration::from_secs(1), 1.0);
    let mut breaker = scripted(config);
    let handle = breaker.handle();

    send(&mut breaker, Req::Fail).await.unwrap_err();
    advance(Duration::from_secs(10)).await;
    assert_eq!(
        send(&mut breaker, Req::SlowOk(1_500)).await.unwrap(),
        "slow"
    );
    assert_eq!(handle.state(), State::Open);
}

#[tokio::test(start_paused = true)]
async fn the_open_duration_grows_while_probes_fail_and_starts_over_after_closing() {
    let config =
        one_strike(Duration::from_secs(1), 1).with_open_backoff(2.0, Duration::from_secs(5));
    let mut breaker = scripted(config);
    let handle = breaker.handle();
    let open_for = || {
        let at = handle.next_probe_at().expect("the breaker is open");
        at - Instant::now()
    };

    send(&mut breaker, Req::Fail).await.unwrap_err();
    let mut periods = vec![open_for()];
    for _ in 0..4 {
        advance(open_for()).await;
        send(&mut breaker, Req::Fail).await.unwrap_err();
        periods.push(open_for());
    }
    assert_eq!(periods, [1, 2, 4, 5, 5].map(Duration::from_secs));

    // A successful probe closes the breaker: the next opening is short
    // again.
    advance(Duration::from_secs(5)).await;
    send(&mut breaker, Req::Ok).await.unwrap();
    assert_eq!(handle.state(), State::Closed);
    send(&mut breaker, Req::Fail).await.unwrap_err();
    assert_eq!(open_for(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn an_ignored_probe_frees_its_slot_for_another() {
    let config = one_strike(Duration::from_secs(1), 1);
    let mut breaker = CircuitBreaker::with_classifier(Scripted, config, ignoring);
    let handle = breaker.handle();

    send(&mut breaker, Req::Fail).await.unwrap_err();
    advance(Duration::from_secs(1)).await;
    send(&mut breaker, Req::Ignore).await.unwrap_err();
    assert_eq!(handle.state(), State::HalfOpen);

    send(&mut breaker, Req::Ok).await.unwrap();
    assert_eq!(handle.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_probe_slot_is_kept_while_the_inner_service_is_not_ready() {
    let (mut service, mut handle) = mocked(one_strike(Duration::from_secs(1), 1));
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    // The first caller takes the probe slot, then waits for the service.
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_ready_ok!(other.poll_ready());
    let error = other.call("other").await.unwrap_err();
    assert!(circuit_open(&error).is_half_open(), "the slot is taken");

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "probe", Ok("fine"))
        .await
        .unwrap();
    assert_eq!(service.get_ref().handle().state(), State::Closed);
    assert_pending!(
        handle.poll_request(),
        "the other caller never reached the service"
    );
}

#[tokio::test(start_paused = true)]
async fn a_probe_from_an_earlier_half_open_period_does_not_count_in_a_later_one() {
    let (mut service, mut handle) = mocked(one_strike(Duration::from_secs(1), 1));
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;
    assert_ready_ok!(service.poll_ready());
    let early_probe = service.call("early probe");
    let (_, early_reply) = tokio_test::assert_ready!(handle.poll_request()).unwrap();

    // Closed by hand, tripped again, half-open again.
    breaker.force_closed();
    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip again", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;
    assert_eq!(breaker.state(), State::HalfOpen);

    // The early probe succeeds, but it belongs to the earlier period.
    early_reply.send_response("fine");
    assert_eq!(early_probe.await.unwrap(), "fine");
    assert_eq!(breaker.state(), State::HalfOpen);

    // This period's probe decides.
    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "probe", Err(Boom("still down")))
        .await
        .unwrap_err();
    assert_eq!(breaker.state(), State::Open);
}
