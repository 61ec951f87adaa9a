//! Integration tests of `donjon::limit::gcra`: `Gcra`, `GcraLayer` and
//! `Quota`, driven by donjon-test mocks on tokio's paused clock, and
//! property tests of the limit's bound over a real service.
#![cfg(feature = "limit")]

#[path = "../support/mod.rs"]
mod support;

mod properties;
mod quota;

use std::time::Duration;

use donjon::limit::gcra::{Gcra, GcraLayer, Quota};
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::{Boom, Broken, take_request};

/// The mock the limit wraps.
type Mock = mock::Mock<&'static str, &'static str>;
/// The handle of [`Mock`].
type Handle = mock::Handle<&'static str, &'static str>;

/// The smallest step of tokio's timer.
const MS: Duration = Duration::from_millis(1);
/// The emission interval of [`quota`]: 10 requests per second.
const INTERVAL: Duration = Duration::from_millis(100);

/// 10 requests per second (one every [`INTERVAL`]), with `burst`.
fn quota(burst: u64) -> Quota {
    Quota::per_second(10)
        .and_then(|quota| quota.with_burst(burst))
        .expect("a valid quota")
}

/// A limit of [`quota`]`(burst)` around a fresh mock.
fn new_service(burst: u64) -> (Spawn<Gcra<Mock>>, Handle) {
    mock::spawn_layer(GcraLayer::new(quota(burst)))
}

/// Sends `request` through `service` (which must be ready) and answers it.
fn round_trip(service: &mut Spawn<Gcra<Mock>>, handle: &mut Handle, request: &'static str) {
    let mut response = task::spawn(service.call(request));
    let (received, answer) = take_request(handle);
    assert_eq!(received, request);
    answer.send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

/// Makes `service` ready and sends `request` through it.
fn admit_and_send(service: &mut Spawn<Gcra<Mock>>, handle: &mut Handle, request: &'static str) {
    assert_ready_ok!(service.poll_ready(), "{request} is admitted");
    round_trip(service, handle, request);
}

// The burst, then the steady rate.

#[tokio::test(start_paused = true)]
async fn a_quiet_limit_lets_its_burst_through_at_once_then_one_request_per_emission_interval() {
    let (mut service, mut handle) = new_service(3);

    for request in ["one", "two", "three"] {
        admit_and_send(&mut service, &mut handle, request);
    }
    assert_pending!(service.poll_ready(), "the burst of 3 is spent");

    for request in ["four", "five", "six"] {
        advance(INTERVAL).await;
        admit_and_send(&mut service, &mut handle, request);
        assert_pending!(service.poll_ready(), "one per interval, no more");
    }
    assert_pending!(handle.poll_request(), "nothing else reached the mock");
}

#[tokio::test(start_paused = true)]
async fn a_caller_over_the_limit_is_woken_exactly_when_the_next_request_is_admissible() {
    let (mut service, mut handle) = new_service(2);
    admit_and_send(&mut service, &mut handle, "one");
    admit_and_send(&mut service, &mut handle, "two");
    assert_pending!(service.poll_ready());

    advance(INTERVAL - MS).await;
    assert!(!service.is_woken(), "one millisecond early");
    assert_pending!(service.poll_ready(), "not admissible yet");

    advance(MS).await;
    assert!(
        service.is_woken(),
        "woken when the next request is admissible"
    );
    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "three");

    // The next one is a whole interval later again.
    assert_pending!(service.poll_ready());
    advance(INTERVAL - MS).await;
    assert!(!service.is_woken());
    advance(MS).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn an_interval_of_a_fraction_of_a_millisecond_wakes_the_caller_once_admissible() {
    // Three per second: an interval of 333.333334 ms.
    let quota = Quota::per_second(3).unwrap().with_burst(1).unwrap();
    assert_eq!(quota.emission_interval(), Duration::from_nanos(333_333_334));
    let (mut service, mut handle) = mock::spawn_layer(GcraLayer::new(quota));
    admit_and_send(&mut service, &mut handle, "one");
    assert_pending!(service.poll_ready());

    advance(Duration::from_millis(333)).await;
    assert!(!service.is_woken(), "333 ms is before the next admission");
    assert_pending!(service.poll_ready());

    advance(MS).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready(), "admitted when woken");
}

#[tokio::test(start_paused = true)]
async fn requests_spaced_at_the_rate_never_wait_even_with_a_burst_of_one() {
    let (mut service, mut handle) = new_service(1);
    for request in ["one", "two", "three", "four"] {
        admit_and_send(&mut service, &mut handle, request);
        advance(INTERVAL).await;
    }
}

#[tokio::test(start_paused = true)]
async fn a_quiet_spell_refills_the_burst_and_no_more() {
    let (mut service, mut handle) = new_service(2);
    admit_and_send(&mut service, &mut handle, "one");
    admit_and_send(&mut service, &mut handle, "two");

    advance(Duration::from_secs(60)).await;
    admit_and_send(&mut service, &mut handle, "three");
    admit_and_send(&mut service, &mut handle, "four");
    assert_pending!(
        service.poll_ready(),
        "a minute of quiet is worth a burst, not 600"
    );
}

#[tokio::test(start_paused = true)]
async fn a_quota_of_centuries_waits_without_overflowing() {
    let century = Duration::from_secs(100 * 365 * 86_400);
    let quota = Quota::new(1, century).unwrap();
    let (mut service, mut handle) = mock::spawn_layer(GcraLayer::new(quota));
    admit_and_send(&mut service, &mut handle, "one");

    assert_pending!(service.poll_ready());
    advance(Duration::from_secs(86_400)).await;
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready(), "a day is not a century");
}

// Readiness.

#[tokio::test(start_paused = true)]
async fn pending_from_the_inner_service_propagates_with_its_wake_up() {
    let (mut service, mut handle) = new_service(5);
    support::assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    round_trip(&mut service, &mut handle, "hello");
}

#[tokio::test(start_paused = true)]
async fn the_admitted_request_is_kept_while_the_inner_service_is_not_ready() {
    let (mut first, mut handle) = new_service(2);
    handle.allow(0);
    for _ in 0..5 {
        assert_pending!(first.poll_ready(), "the mock is not ready");
    }
    handle.allow(1);
    assert!(first.is_woken());
    assert_ready_ok!(first.poll_ready());
    round_trip(&mut first, &mut handle, "first");

    // Five polls took one request of the burst of 2: one is left.
    handle.allow(10);
    let mut second = first.clone();
    admit_and_send(&mut second, &mut handle, "second");
    let mut third = first.clone();
    assert_pending!(third.poll_ready(), "the burst of 2 is spent");
}

#[tokio::test(start_paused = true)]
async fn repeated_poll_ready_holds_one_admission() {
    let (mut first, mut handle) = new_service(2);
    for _ in 0..5 {
        assert_ready_ok!(first.poll_ready());
    }
    let mut second = first.clone();
    assert_ready_ok!(second.poll_ready(), "the second request is still there");
    let mut third = first.clone();
    assert_pending!(third.poll_ready());
    round_trip(&mut first, &mut handle, "first");
    round_trip(&mut second, &mut handle, "second");
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "Gcra called without an admitted request; poll_ready must return Ready(Ok(())) \
                before each call"
)]
async fn ready_allows_exactly_one_call() {
    let (mut service, mut handle) = new_service(5);
    admit_and_send(&mut service, &mut handle, "one");
    // The mock would accept a second call; the limit's admission is spent.
    let _second = service.call("two");
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "Gcra called without an admitted request; poll_ready must return Ready(Ok(())) \
                before each call"
)]
async fn call_without_poll_ready_panics_naming_the_contract() {
    let (mut service, _handle) = new_service(5);
    let _response = service.call("hello");
}

// Clones share one limit.

#[tokio::test(start_paused = true)]
async fn clones_share_one_limit() {
    let (mut first, mut handle) = new_service(2);
    let mut second = first.clone();
    admit_and_send(&mut first, &mut handle, "first");
    admit_and_send(&mut second, &mut handle, "second");

    assert_pending!(first.poll_ready(), "two calls in total spent the burst");
    assert_pending!(second.poll_ready());
    let mut third = second.clone();
    assert_pending!(third.poll_ready(), "a new clone shares the spent limit");

    advance(INTERVAL).await;
    assert_ready_ok!(third.poll_ready());
    assert_pending!(first.poll_ready(), "one per interval, whoever asks");
    assert_pending!(second.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_clone_does_not_inherit_an_admission() {
    let (mut first, mut handle) = new_service(1);
    assert_ready_ok!(first.poll_ready());

    let mut second = first.clone();
    assert_pending!(second.poll_ready(), "the only request is the original's");
    round_trip(&mut first, &mut handle, "first");
}

#[tokio::test(start_paused = true)]
#[should_panic(
    expected = "Gcra called without an admitted request; poll_ready must return Ready(Ok(())) \
                before each call"
)]
async fn a_clone_of_a_ready_service_cannot_call_without_its_own_poll_ready() {
    let (mut first, _handle) = new_service(5);
    assert_ready_ok!(first.poll_ready());
    let mut second = first.clone();
    let _response = second.call("hello");
}

#[tokio::test(start_paused = true)]
async fn each_layered_service_has_its_own_limit() {
    let layer = GcraLayer::new(quota(1));
    let (mut users, mut users_handle) = mock::spawn_layer(layer);
    let (mut orders, mut orders_handle) = mock::spawn_layer(layer);

    admit_and_send(&mut users, &mut users_handle, "users");
    assert_pending!(users.poll_ready());
    admit_and_send(&mut orders, &mut orders_handle, "orders");
    assert_eq!(users.get_ref().quota(), quota(1));
}

// Inner errors.

#[tokio::test(start_paused = true)]
async fn an_inner_poll_ready_error_reaches_the_caller_unchanged() {
    let mut service = Spawn::new(Gcra::new(Broken { ready: false }, quota(1)));
    // The error type is the inner service's own.
    let error: Boom = assert_ready_err!(service.poll_ready::<&str>());
    assert_eq!(error, Boom("readiness"));

    let (mut service, mut handle) = new_service(1);
    handle.send_error(Boom("from the mock"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("from the mock")));
}

#[tokio::test(start_paused = true)]
async fn an_inner_response_error_reaches_the_caller_unchanged() {
    let mut service = Spawn::new(Gcra::new(Broken { ready: true }, quota(1)));
    assert_ready_ok!(service.poll_ready::<&str>());
    let error: Boom = service.call("hello").await.unwrap_err();
    assert_eq!(error, Boom("response"));

    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    take_request(&mut handle).1.send_error(Boom("answer"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("answer")));
}

#[tokio::test(start_paused = true)]
async fn an_admission_outlives_an_inner_poll_ready_error() {
    let (mut service, mut handle) = new_service(1);
    handle.send_error(Boom("once"));
    assert_ready_err!(service.poll_ready());

    // The mock's error was for one poll; the request admitted before it is
    // still this handle's, and the only one of the burst.
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    assert_pending!(clone.poll_ready());
    round_trip(&mut service, &mut handle, "hello");
}

// Cancellation: an unused admission goes back when it safely can.

#[tokio::test(start_paused = true)]
async fn a_handle_dropped_with_an_unused_admission_gives_it_back() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready(), "the first takes the only request");
    assert_pending!(second.poll_ready());

    drop(first);
    // No time passed, yet the second can now go, once.
    admit_and_send(&mut second, &mut handle, "second");
    assert_pending!(second.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn an_unused_admission_is_not_given_back_once_another_was_admitted_after_it() {
    let (mut first, mut handle) = new_service(2);
    let mut second = first.clone();
    let mut third = first.clone();
    assert_ready_ok!(first.poll_ready());
    admit_and_send(&mut second, &mut handle, "second");

    // Taking the first's request back now could let 3 through in one
    // interval: it counts as used.
    drop(first);
    assert_pending!(third.poll_ready());
    advance(INTERVAL - MS).await;
    assert_pending!(third.poll_ready(), "the bound is kept");
    advance(MS).await;
    admit_and_send(&mut third, &mut handle, "third");
    assert_pending!(second.poll_ready(), "one per interval");
}

#[tokio::test(start_paused = true)]
async fn unused_admissions_dropped_in_reverse_order_are_all_given_back() {
    let (first, mut handle) = new_service(2);
    let mut second = first.clone();
    let mut first = first;
    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready());
    let mut third = first.clone();
    assert_pending!(third.poll_ready());

    drop(second);
    drop(first);
    // The whole burst is back.
    admit_and_send(&mut third, &mut handle, "one");
    admit_and_send(&mut third, &mut handle, "two");
    assert_pending!(third.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn into_inner_gives_back_an_unused_admission() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());

    let _mock: Mock = first.into_inner().into_inner();
    admit_and_send(&mut second, &mut handle, "second");
}

#[tokio::test(start_paused = true)]
async fn a_called_request_counts_even_if_its_response_future_is_dropped() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    drop(service.call("abandoned"));
    let _unanswered = take_request(&mut handle);

    assert_pending!(service.poll_ready(), "the request reached the service");
}

// The inner service failing or gone.

#[tokio::test(start_paused = true)]
async fn a_dropped_inner_service_makes_poll_ready_fail() {
    let (mut service, handle) = new_service(1);
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_caller_waiting_for_the_limit_sees_the_dropped_inner_service_once_admitted() {
    let (mut service, mut handle) = new_service(1);
    admit_and_send(&mut service, &mut handle, "one");
    assert_pending!(service.poll_ready());

    drop(handle);
    advance(INTERVAL).await;
    assert!(service.is_woken());
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_response_in_flight_fails_when_the_inner_service_is_dropped() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    let request = take_request(&mut handle);
    drop(request);
    drop(handle);
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "{error}");
}
