//! `AdaptiveConcurrencyLimit`, its layer and handle: the readiness contract,
//! errors, cancellation, the inner service failing, misuse, and callers
//! waiting as the limit moves (driven by a scripted algorithm).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use donjon::classify::Outcome;
use donjon::limit::adaptive::{
    AdaptiveConcurrencyLimit, AdaptiveConcurrencyLimitLayer, Aimd, Algorithm, Sample,
};
use donjon::{BoxError, Layer, Service, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok};

use super::{Background, Script, ms, new_service, round_trip, scripted};
use crate::support::{Boom, assert_readiness_follows_mock};

// The readiness contract.

#[tokio::test]
async fn poll_ready_is_pending_at_the_limit_and_a_completed_response_wakes_the_caller() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 2));

    assert_ready_ok!(service.poll_ready());
    let first = service.call("hello 1");
    assert_ready_ok!(service.poll_ready());
    let second = service.call("hello 2");
    assert_eq!(limits.in_flight(), 2);
    assert_pending!(service.poll_ready(), "two in flight reach the limit of 2");
    assert!(!service.is_woken());

    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert!(
        !service.is_woken(),
        "an answer not yet received by the caller frees nothing"
    );
    assert_eq!(first.await.unwrap(), "world 1");
    assert!(service.is_woken(), "the completed response woke the waiter");
    assert_eq!(limits.in_flight(), 2, "the freed slot went to the waiter");
    assert_ready_ok!(service.poll_ready());
    let third = service.call("hello 3");
    assert_pending!(service.poll_ready());

    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_eq!(second.await.unwrap(), "world 2");
    assert!(service.is_woken());
    assert_request_eq!(handle, "hello 3").send_response("world 3");
    assert_eq!(third.await.unwrap(), "world 3");
    assert_eq!(limits.in_flight(), 1, "only the reservation of the waiter");
}

#[test]
fn readiness_follows_the_inner_service_which_keeps_the_slot_reserved() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    assert_eq!(limits.in_flight(), 1, "one slot taken, not one per poll");

    let mut other = service.clone();
    assert_pending!(other.poll_ready(), "the reserved slot is the only one");
}

#[test]
fn a_limit_is_not_taken_twice_while_the_inner_service_is_pending() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 3));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_pending!(service.poll_ready());
    assert_pending!(service.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn a_clone_does_not_inherit_a_reservation() {
    let (mut first, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready(), "the clone does not share the slot");

    let response = first.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_pending!(second.poll_ready(), "the response is not complete yet");
    assert_eq!(response.await.unwrap(), "world");
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn clones_share_one_limit_and_one_in_flight_count() {
    let script = Script::new();
    let (mut first, mut handle, limits) = new_service(scripted(&script, 1));
    let second = first.clone();
    let second_limits = second.get_ref().handle();

    script.then(3);
    assert_ready_ok!(first.poll_ready());
    let response = first.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    response.await.unwrap();
    assert_eq!(
        (limits.limit(), second_limits.limit()),
        (3, 3),
        "an update through one clone"
    );

    // Clones of the second now get three slots, and the first none.
    let mut clones: Vec<_> = (0..3).map(|_| second.clone()).collect();
    for clone in &mut clones {
        assert_ready_ok!(clone.poll_ready());
    }
    assert_eq!(second_limits.in_flight(), 3);
    assert_pending!(first.poll_ready());
}

#[tokio::test]
async fn waiters_are_served_first_come_first_served() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    assert_pending!(c.poll_ready());

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(a.is_woken(), "the first waiter is served");
    assert!(
        !b.is_woken() && !c.is_woken(),
        "one slot, one waiter served"
    );

    // A newcomer does not take the slot granted to the first waiter.
    let mut newcomer = holder.clone();
    assert_pending!(newcomer.poll_ready());
    assert_ready_ok!(a.poll_ready());

    let response = a.call("a");
    assert_request_eq!(handle, "a").send_response("done");
    response.await.unwrap();
    assert!(b.is_woken(), "then the second");
    assert!(!c.is_woken() && !newcomer.is_woken());
    assert_ready_ok!(b.poll_ready());
    assert_pending!(c.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn one_poll_ready_allows_exactly_one_call() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 5));
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("one");
    let _second = service.call("two");
}

// Inner errors.

#[tokio::test(start_paused = true)]
async fn response_errors_reach_the_caller_unchanged_and_count_as_failures() {
    let script = Script::new();
    let (mut service, mut handle, _limits) = new_service(scripted(&script, 2));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    let send = assert_request_eq!(handle, "hello");
    tokio::time::advance(ms(30)).await;
    send.send_error(Boom("failed"));
    let error = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    assert_eq!(script.samples(), vec![Sample::failure(ms(30), 1, 2)]);
}

#[tokio::test(start_paused = true)]
async fn a_sample_carries_the_latency_the_in_flight_count_and_the_limit() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 5));
    let _background = Background::hold(&mut service, &mut handle, 2).await;

    // A reservation counts as in flight.
    let mut other = service.clone();
    assert_ready_ok!(other.poll_ready());
    assert_eq!(limits.in_flight(), 3);

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    tokio::time::advance(ms(25)).await;
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
    // Two background calls and a reservation were in flight: this one was
    // the fourth.
    assert_eq!(script.samples(), vec![Sample::success(ms(25), 4, 5)]);
    assert_eq!(limits.in_flight(), 3);
}

#[tokio::test]
async fn poll_ready_errors_reach_the_caller_unchanged_and_give_back_the_slot() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 1));
    let mut other = service.clone();

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
    assert_eq!(limits.in_flight(), 0, "the failed service keeps no slot");
    assert_ready_ok!(other.poll_ready());
    assert!(script.samples().is_empty(), "no call, no sample");
}

// Cancellation.

#[tokio::test]
async fn a_dropped_response_future_frees_its_slot_and_counts_as_nothing() {
    let script = Script::new();
    let (mut service, _handle, limits) = new_service(scripted(&script, 1));
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_pending!(other.poll_ready());
    drop(response);
    assert!(other.is_woken());
    assert_ready_ok!(other.poll_ready());
    assert_eq!(limits.in_flight(), 1, "the slot went to the waiter");
    assert!(
        script.samples().is_empty(),
        "neither a success nor a failure"
    );
}

#[tokio::test]
async fn after_dropping_every_response_future_the_service_is_ready_again() {
    let script = Script::new();
    let (mut service, _handle, limits) = new_service(scripted(&script, 3));

    let responses: Vec<_> = (0..3)
        .map(|_| {
            assert_ready_ok!(service.poll_ready());
            service.call("hello")
        })
        .collect();
    assert_pending!(service.poll_ready());
    assert_eq!(limits.in_flight(), 3);
    drop(responses);
    assert!(service.is_woken());
    // The woken caller holds one slot; the other two are free.
    assert_eq!(limits.in_flight(), 1);
    assert_ready_ok!(service.poll_ready());
    assert!(script.samples().is_empty());
    assert_eq!(limits.limit(), 3);
}

#[test]
fn dropping_a_service_with_a_reserved_slot_frees_it() {
    let (mut first, _handle, limits) = new_service(scripted(&Script::new(), 1));
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    drop(first);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[test]
fn into_inner_gives_back_the_reserved_slot() {
    let (mut service, _handle, limits) = new_service(scripted(&Script::new(), 1));
    assert_ready_ok!(service.poll_ready());
    assert_eq!(limits.in_flight(), 1);
    let _mock = service.into_inner().into_inner();
    assert_eq!(limits.in_flight(), 0);
}

#[tokio::test]
async fn a_dropped_waiter_leaves_the_queue() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b) = (holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    drop(a);

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(b.is_woken(), "the slot skips the waiter that left");
    assert_ready_ok!(b.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn a_waiter_dropped_after_its_grant_passes_the_slot_on() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b) = (holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(a.is_woken() && !b.is_woken());
    drop(a);
    assert!(b.is_woken(), "the granted slot goes on to the next waiter");
    assert_ready_ok!(b.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

// The inner service failing or dropped.

#[test]
fn a_closed_inner_service_fails_poll_ready_and_keeps_no_slot() {
    let (mut service, handle, limits) = new_service(scripted(&Script::new(), 1));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>());
    assert_eq!(limits.in_flight(), 0);
}

#[tokio::test]
async fn a_request_the_inner_service_drops_fails_and_counts_as_a_failure() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 1));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    drop(assert_request_eq!(handle, "hello"));
    assert!(response.await.unwrap_err().is::<Closed>());
    let samples = script.samples();
    assert_eq!(samples.len(), 1);
    assert!(samples[0].is_failure());
    assert_eq!(limits.in_flight(), 0);
}

// Misuse and bad configuration.

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn call_without_poll_ready_panics() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 1));
    drop(service.call("hello"));
}

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn call_while_poll_ready_is_pending_panics() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 1));
    let mut other = service.clone();
    assert_ready_ok!(service.poll_ready());
    assert_pending!(other.poll_ready());
    drop(other.call("hello"));
}

#[test]
#[should_panic(expected = "an adaptive concurrency limit's minimum limit must be at least 1")]
fn a_minimum_limit_of_zero_panics() {
    let _ = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_min_limit(0);
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's minimum limit (10) must not be above its maximum (5)"
)]
fn a_minimum_above_the_maximum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_min_limit(10)
        .with_max_limit(5);
    let _ = layer.layer(());
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's initial limit (50) must be between its minimum (1) and its maximum (10)"
)]
fn an_initial_limit_above_the_maximum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_initial_limit(50)
        .with_max_limit(10);
    let _ = layer.layer(());
}

#[test]
#[should_panic(
    expected = "an adaptive concurrency limit's initial limit (2) must be between its minimum (3) and its maximum (1000)"
)]
fn an_initial_limit_below_the_minimum_panics_when_wrapping_a_service() {
    let layer = AdaptiveConcurrencyLimitLayer::new(Script::new())
        .with_initial_limit(2)
        .with_min_limit(3);
    let _ = layer.layer(());
}

// The limit moving.

#[tokio::test]
async fn the_limit_growing_wakes_as_many_waiters_as_it_has_room_for() {
    let script = Script::new();
    let (mut holder, mut handle, limits) = new_service(scripted(&script, 1));
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    assert_pending!(c.poll_ready());

    // The call finishing frees one slot and raises the limit to 2: room for
    // two waiters, where a fixed limit would have served one.
    script.then(2);
    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert_eq!(limits.limit(), 2);
    assert!(a.is_woken() && b.is_woken(), "both waiters fit under 2");
    assert!(!c.is_woken());
    assert_ready_ok!(a.poll_ready());
    assert_ready_ok!(b.poll_ready());
    assert_pending!(c.poll_ready());
    assert_eq!(limits.in_flight(), 2);
}

#[tokio::test]
async fn after_the_limit_shrinks_below_in_flight_callers_wait_until_enough_finish() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 4));
    let mut waiter = service.clone();

    let mut responses = Vec::new();
    for _ in 0..4 {
        assert_ready_ok!(service.poll_ready());
        responses.push(service.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
    }
    assert_pending!(waiter.poll_ready());

    // The first to finish lowers the limit to 1 (the script then keeps it).
    script.then(1);
    let mut responses = responses.into_iter();
    responses.next().unwrap().await.unwrap();
    assert_eq!((limits.limit(), limits.in_flight()), (1, 3));
    assert!(!waiter.is_woken(), "3 in flight, over the limit of 1");
    responses.next().unwrap().await.unwrap();
    assert_eq!(limits.in_flight(), 2);
    assert!(!waiter.is_woken(), "2 in flight, over the limit of 1");
    responses.next().unwrap().await.unwrap();
    assert_eq!(limits.in_flight(), 1);
    assert!(!waiter.is_woken(), "1 in flight, at the limit of 1");
    assert_pending!(service.poll_ready(), "no newcomer gets ahead either");
    responses.next().unwrap().await.unwrap();
    assert!(waiter.is_woken(), "0 in flight: room for one");
    assert_ready_ok!(waiter.poll_ready());
    assert_eq!(limits.in_flight(), 1);
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn the_minimum_and_maximum_bound_the_limit() {
    let script = Script::new();
    let layer = AdaptiveConcurrencyLimitLayer::new(script.clone())
        .with_min_limit(2)
        .with_initial_limit(3)
        .with_max_limit(5);
    let (mut service, mut handle, limits) = new_service(layer);

    for (proposed, expected) in [(0, 2), (1000, 5), (4, 4)] {
        script.then(proposed);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        assert_request_eq!(handle, "hello").send_response("world");
        response.await.unwrap();
        assert_eq!(
            limits.limit(),
            expected,
            "{proposed} is brought to {expected}"
        );
    }
    // Each sample carries the limit in force, as bounded.
    let seen: Vec<_> = script.samples().iter().map(Sample::limit).collect();
    assert_eq!(seen, vec![3, 2, 5]);
}

#[tokio::test]
async fn the_default_limits_are_1_to_1000_starting_at_20() {
    let script = Script::new();
    let (mut service, mut handle) =
        mock::spawn_with(|mock| AdaptiveConcurrencyLimit::new(mock, script.clone()));
    let limits = service.get_ref().handle();
    assert_eq!(limits.limit(), 20);

    for (proposed, expected) in [(0, 1), (5000, 1000)] {
        script.then(proposed);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        assert_request_eq!(handle, "hello").send_response("world");
        response.await.unwrap();
        assert_eq!(limits.limit(), expected);
    }
}

#[test]
fn the_default_initial_limit_is_brought_within_the_bounds() {
    let low = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_max_limit(5);
    assert_eq!(low.layer(()).handle().limit(), 5);
    let high = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_min_limit(30);
    assert_eq!(high.layer(()).handle().limit(), 30);
}

// Classification.

#[tokio::test]
async fn the_classification_decides_what_the_algorithm_sees() {
    let script = Script::new();
    let layer =
        scripted(&script, 5).with_classify(
            |result: &Result<&'static str, BoxError>| match result {
                Ok("busy") => Outcome::Failure,
                Ok(_) => Outcome::Success,
                Err(_) => Outcome::Ignored,
            },
        );
    let (mut service, mut handle) = mock::spawn_layer(layer);
    let limits = service.get_ref().handle();

    for answer in [Ok("busy"), Ok("fine"), Err(Boom("cancelled"))] {
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        let send = assert_request_eq!(handle, "hello");
        match answer {
            Ok(answer) => send.send_response(answer),
            Err(error) => send.send_error(error),
        }
        let _ = response.await;
    }
    let failures: Vec<_> = script.samples().iter().map(Sample::is_failure).collect();
    assert_eq!(
        failures,
        vec![true, false],
        "\"busy\" failed, \"fine\" succeeded, the error is ignored"
    );
    assert_eq!(limits.in_flight(), 0, "the ignored call freed its slot");
}

// The layer and the handle.

#[tokio::test]
async fn each_service_a_layer_wraps_has_its_own_limiter() {
    let layer = scripted(&Script::new(), 1);
    let (mut first, _first_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut second, _second_handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready(), "a separate limit of 1");
    assert_eq!(first.get_ref().handle().in_flight(), 1);
    assert_eq!(second.get_ref().handle().in_flight(), 1);
}

#[tokio::test]
async fn the_layer_stacks_in_a_service_builder() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = mock::Spawn::new(
        ServiceBuilder::new()
            .layer(scripted(&Script::new(), 1))
            .service(mock),
    );
    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
}

#[test]
fn a_handle_keeps_reading_after_the_services_are_dropped() {
    let (mut service, _handle, limits) = new_service(scripted(&Script::new(), 7));
    assert_ready_ok!(service.poll_ready());
    let copy = limits.clone();
    assert_eq!((copy.limit(), copy.in_flight()), (7, 1));
    drop(service);
    assert_eq!((limits.limit(), limits.in_flight()), (7, 0));
    assert_eq!(format!("{limits:?}"), "Handle { limit: 7, in_flight: 0 }");
}

// Many threads.

/// Answers after yielding once, failing every third request; records the
/// most calls it ran at once.
#[derive(Clone, Default)]
struct Yielding {
    running: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Service<u32> for Yielding {
    type Response = u32;
    type Error = Boom;
    type Future = Pin<Box<dyn Future<Output = Result<u32, Boom>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, n: u32) -> Self::Future {
        let (running, peak) = (Arc::clone(&self.running), Arc::clone(&self.peak));
        Box::pin(async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            tokio::task::yield_now().await;
            running.fetch_sub(1, Ordering::SeqCst);
            if n % 3 == 0 {
                Err(Boom("every third"))
            } else {
                Ok(n)
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn clones_on_many_threads_all_finish_within_the_maximum() {
    let inner = Yielding::default();
    let peak = Arc::clone(&inner.peak);
    let service = AdaptiveConcurrencyLimitLayer::new(Aimd::new().with_backoff_ratio(0.5))
        .with_initial_limit(4)
        .with_max_limit(8)
        .layer(inner);
    let limits = service.handle();

    let tasks: Vec<_> = (0..16u32)
        .map(|task| {
            let mut service = service.clone();
            tokio::spawn(async move {
                for i in 0..200u32 {
                    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                    let response = service.call(task * 1000 + i);
                    // Every fifth response future is dropped unfinished.
                    if i % 5 != 0 {
                        let _ = response.await;
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(limits.in_flight(), 0, "every slot came back");
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (1..=8).contains(&peak),
        "at most the maximum ran at once: {peak}"
    );
    assert!((1..=8).contains(&limits.limit()));
}

#[tokio::test]
async fn a_boxed_algorithm_can_be_chosen_at_run_time() {
    let algorithm: Box<dyn Algorithm + Send> = Box::new(Aimd::new());
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut service = mock::Spawn::new(AdaptiveConcurrencyLimit::new(mock, algorithm));
    let limits = service.get_ref().handle();

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    response.await.unwrap();
    // Aimd: 20 + 1.
    assert_eq!(limits.limit(), 21);
}

// Stateless algorithms.

/// An algorithm that declares itself stateless: the limit it returns for
/// each sample is `target`, and every `update` records whether it ran on
/// the original (under the limiter's lock) or on a stateless copy.
#[derive(Clone, Debug)]
struct Stateless {
    target: Arc<AtomicUsize>,
    copy: bool,
    locked: Arc<AtomicUsize>,
    copies: Arc<AtomicUsize>,
}

impl Algorithm for Stateless {
    fn update(&mut self, _: Sample) -> usize {
        let calls = if self.copy {
            &self.copies
        } else {
            &self.locked
        };
        calls.fetch_add(1, Ordering::SeqCst);
        self.target.load(Ordering::SeqCst)
    }

    fn stateless_copy(&self) -> Option<Self> {
        Some(Stateless {
            copy: true,
            ..self.clone()
        })
    }
}

#[tokio::test(start_paused = true)]
async fn a_stateless_algorithm_is_run_under_the_lock_only_when_the_limit_changes() {
    let algorithm = Stateless {
        target: Arc::new(AtomicUsize::new(4)),
        copy: false,
        locked: Arc::default(),
        copies: Arc::default(),
    };
    let (target, locked, copies) = (
        Arc::clone(&algorithm.target),
        Arc::clone(&algorithm.locked),
        Arc::clone(&algorithm.copies),
    );
    let layer = AdaptiveConcurrencyLimitLayer::new(algorithm).with_initial_limit(4);
    let (mut service, mut handle, limits) = new_service(layer);
    for _ in 0..3 {
        round_trip(&mut service, &mut handle, &limits, ms(1), false).await;
    }
    assert_eq!(
        copies.load(Ordering::SeqCst),
        3,
        "each sample ran on a copy"
    );
    assert_eq!(
        locked.load(Ordering::SeqCst),
        0,
        "the limit stayed at 4: no sample needed the lock"
    );

    target.store(6, Ordering::SeqCst);
    assert_eq!(
        round_trip(&mut service, &mut handle, &limits, ms(1), true).await,
        6
    );
    assert_eq!(
        (copies.load(Ordering::SeqCst), locked.load(Ordering::SeqCst)),
        (4, 1),
        "the copy found a new limit; the sample was fed again under the lock"
    );
}

/// `Aimd`, without its stateless copy: every sample goes under the lock.
#[derive(Clone, Debug)]
struct LockedAimd(Aimd);

impl Algorithm for LockedAimd {
    fn update(&mut self, sample: Sample) -> usize {
        self.0.update(sample)
    }
}

#[tokio::test(start_paused = true)]
async fn aimd_moves_the_limit_alike_with_or_without_its_stateless_copy() {
    let aimd = Aimd::new().with_timeout(ms(50)).with_backoff_ratio(0.5);
    let (mut copied, mut copied_mock, copied_limits) = new_service(
        AdaptiveConcurrencyLimitLayer::new(aimd)
            .with_initial_limit(6)
            .with_max_limit(9),
    );
    let (mut locked, mut locked_mock, locked_limits) = new_service(
        AdaptiveConcurrencyLimitLayer::new(LockedAimd(aimd))
            .with_initial_limit(6)
            .with_max_limit(9),
    );
    // Successes up to the maximum and at it, failures, calls over the
    // timeout, and a failure down at the minimum.
    let calls = [
        (1, false),
        (1, false),
        (1, false),
        (1, false),
        (1, false),
        (60, false),
        (1, true),
        (1, true),
        (1, true),
        (1, true),
        (1, false),
        (51, false),
        (50, false),
    ];
    for (step, (latency, fail)) in calls.into_iter().enumerate() {
        let copied_limit = round_trip(
            &mut copied,
            &mut copied_mock,
            &copied_limits,
            ms(latency),
            fail,
        )
        .await;
        let locked_limit = round_trip(
            &mut locked,
            &mut locked_mock,
            &locked_limits,
            ms(latency),
            fail,
        )
        .await;
        assert_eq!(copied_limit, locked_limit, "after call {step}");
    }
    assert_eq!(copied_limits.limit(), 2, "1 after the failures, then 2");
}
