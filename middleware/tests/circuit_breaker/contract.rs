//! The checklist every middleware is tested for: readiness, inner errors,
//! cancellation, the inner service failing or going away, and misuse.

use std::time::Duration;

use donjon::circuit_breaker::error::CircuitOpen;
use donjon::circuit_breaker::future::ResponseFuture;
use donjon::circuit_breaker::{
    CircuitBreaker, CircuitBreakerLayer, Config, Figures, Handle, OpenBehavior, State,
};
use donjon::classify::ErrorsAreFailures;
use donjon_test::mock::error::Closed;
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok};

use crate::support::{Boom, assert_readiness_follows_mock};
use crate::{Mock, MockBreaker, answer, circuit_open, mocked};

/// Trips on the first failure and stays open 1 s, with one probe.
fn one_strike() -> Config {
    Config::new()
        .with_consecutive_failures(1)
        .with_open_duration(Duration::from_secs(1))
}

#[test]
fn readiness_follows_the_inner_service_while_closed() {
    let (mut service, mut handle) = mocked(Config::new());
    assert_readiness_follows_mock(&mut service, &mut handle);
}

#[tokio::test(start_paused = true)]
async fn readiness_follows_the_inner_service_while_half_open() {
    let (mut service, mut handle) = mocked(one_strike());
    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    assert_readiness_follows_mock(&mut service, &mut handle);
    assert_eq!(service.get_ref().handle().state(), State::HalfOpen);
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn calling_without_poll_ready_panics() {
    let (mut service, _handle) = mocked(Config::new());
    drop(service.call("hello"));
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn one_ready_allows_one_call_only() {
    let (mut service, _handle) = mocked(Config::new());
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("first");
    drop(service.call("second"));
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn calling_after_a_pending_poll_ready_panics() {
    let (mut service, mut handle) = mocked(Config::new());
    handle.allow(0);
    assert_pending!(service.poll_ready());
    drop(service.call("hello"));
}

#[test]
#[should_panic(expected = "poll_ready must return Ready(Ok(())) before each call")]
fn a_clone_does_not_inherit_a_reservation() {
    let (mut service, _handle) = mocked(Config::new());
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    drop(clone.call("hello"));
}

#[tokio::test]
async fn readiness_errors_of_the_inner_service_reach_the_caller_and_count_for_nothing() {
    let (mut service, mut handle) = mocked(one_strike());
    let breaker = service.get_ref().handle();

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.calls(), 0);

    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn response_errors_reach_the_caller_unchanged_and_count_as_failures() {
    let (mut service, mut handle) = mocked(Config::new());
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    let error = answer(&mut service, &mut handle, "hello", Err(Boom("failed")))
        .await
        .unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    let figures = breaker.figures();
    assert_eq!((figures.calls(), figures.failures()), (1, 1));

    assert_ready_ok!(service.poll_ready());
    let response = answer(&mut service, &mut handle, "hello", Ok("world")).await;
    assert_eq!(response.unwrap(), "world");
    assert_eq!(breaker.figures().calls(), 2);
    assert_eq!(breaker.figures().failures(), 1);
}

#[tokio::test]
async fn a_dropped_response_future_counts_for_nothing() {
    let (mut service, mut handle) = mocked(one_strike());
    let breaker = service.get_ref().handle();

    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        drop(service.call("abandoned"));
    }
    assert_eq!(breaker.calls(), 0);
    assert_eq!(breaker.state(), State::Closed);

    // The inner service saw the calls; answering them changes nothing.
    for _ in 0..3 {
        let (_, reply) = assert_ready!(handle.poll_request()).unwrap();
        reply.send_error(Boom("too late"));
    }
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_probe_gives_its_slot_back() {
    let (mut service, mut handle) = mocked(one_strike());
    let breaker = service.get_ref().handle();
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
        drop(service.call("abandoned probe"));
        assert_eq!(breaker.state(), State::HalfOpen);
    }

    // The slot is free: another caller's probe goes through and decides.
    assert_ready_ok!(other.poll_ready());
    let response = other.call("probe");
    for _ in 0..3 {
        let (request, _) = assert_ready!(handle.poll_request()).unwrap();
        assert_eq!(request, "abandoned probe");
    }
    let (request, reply) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(request, "probe");
    reply.send_response("fine");
    assert_eq!(response.await.unwrap(), "fine");
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_service_gives_back_its_probe_reservation() {
    let (mut service, mut handle) = mocked(one_strike());
    let breaker = service.get_ref().handle();
    let mut holder = service.clone();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    assert_ready_ok!(holder.poll_ready());
    assert_ready_ok!(service.poll_ready());
    let error = service.call("refused").await.unwrap_err();
    assert!(circuit_open(&error).is_half_open());

    drop(holder);
    assert_ready_ok!(service.poll_ready());
    assert_eq!(
        answer(&mut service, &mut handle, "probe", Ok("fine"))
            .await
            .unwrap(),
        "fine"
    );
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn a_stale_probe_reservation_is_not_used_after_a_change_of_state() {
    let config = one_strike().with_open_behavior(OpenBehavior::FailFast);
    let (mut service, mut handle) = mocked(config);
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    answer(&mut service, &mut handle, "trip", Err(Boom("down")))
        .await
        .unwrap_err();
    advance(Duration::from_secs(1)).await;

    // A probe slot is reserved, but the inner service is not ready...
    handle.allow(0);
    assert_pending!(service.poll_ready());
    // ...when the breaker is forced open: the next poll asks again.
    breaker.force_open();
    let error = {
        assert_ready_ok!(service.poll_ready());
        service.call("refused").await.unwrap_err()
    };
    assert!(circuit_open(&error).is_forced_open());
}

#[tokio::test]
async fn a_dropped_inner_service_fails_calls_without_hanging() {
    let (mut service, mut handle) = mocked(Config::new());
    let breaker = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    let in_flight = service.call("in flight");
    let _ = assert_ready!(handle.poll_request()).unwrap();
    drop(handle);

    let error = in_flight.await.unwrap_err();
    assert!(error.is::<Closed>(), "got {error:?}");
    assert_eq!(breaker.figures().failures(), 1, "counted as a failure");

    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "got {error:?}");
}

#[test]
fn public_types_are_send_sync_and_unpin() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_unpin<T: Unpin>() {}
    type MockFuture = donjon_test::mock::future::ResponseFuture<&'static str>;

    assert_send_sync::<CircuitBreaker<Mock>>();
    assert_send_sync::<MockBreaker>();
    assert_send_sync::<CircuitBreakerLayer>();
    assert_send_sync::<ResponseFuture<MockFuture, ErrorsAreFailures>>();
    assert_send_sync::<Handle>();
    assert_send_sync::<Config>();
    assert_send_sync::<CircuitOpen>();
    assert_send_sync::<Figures>();
    assert_unpin::<CircuitBreaker<Mock>>();
    assert_unpin::<ResponseFuture<MockFuture, ErrorsAreFailures>>();
}
