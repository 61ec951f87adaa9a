//! `Rate`, `RateLimit`, `RateLimitLayer` and `ServiceBuilder::rate_limit`.

use std::hint::black_box;
use std::time::Duration;

use donjon::limit::rate::{Rate, RateLimit, RateLimitLayer};
use donjon::{BoxError, Layer, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use crate::support::{Boom, Broken, Echo};
use crate::{Handle, Mock};

/// The period of the rates under test.
const PERIOD: Duration = Duration::from_millis(100);
/// The smallest step of tokio's timer.
const MS: Duration = Duration::from_millis(1);

/// A limit of `num` requests per [`PERIOD`] around a fresh mock.
fn new_service(num: u64) -> (Spawn<RateLimit<Mock>>, Handle) {
    mock::spawn_layer(RateLimitLayer::new(num, PERIOD))
}

/// Sends `request` through `service` (which must be ready) and answers it.
async fn round_trip(
    service: &mut Spawn<RateLimit<Mock>>,
    handle: &mut Handle,
    request: &'static str,
) {
    let mut response = task::spawn(service.call(request));
    assert_request_eq!(handle, request).send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

// The behaviours upstream's tests check.

#[tokio::test(start_paused = true)]
async fn the_call_after_the_budget_waits_for_the_window_to_end() {
    let (mut service, mut handle) = new_service(1);

    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "hello").await;

    assert_pending!(service.poll_ready());
    assert_pending!(handle.poll_request(), "nothing more reached the mock");

    advance(PERIOD + MS).await;
    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "two").await;
}

#[tokio::test(start_paused = true)]
async fn a_new_window_starts_with_a_full_budget() {
    let (mut service, mut handle) = new_service(3);

    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "one").await;
    advance(PERIOD).await;

    // What was left of the first window does not carry over: three more.
    for request in ["two", "three"] {
        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, request).await;
    }
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_window_ends_exactly_its_period_after_it_began_between_timer_ticks() {
    for offset_us in [1, 250, 500, 999, 1_000, 1_700] {
        // The window opens between two of the timer's millisecond ticks,
        // which round a timer's deadline up to the next tick.
        let (mut service, mut handle) = new_service(3);
        advance(Duration::from_micros(offset_us)).await;
        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, "one").await;

        advance(PERIOD - Duration::from_nanos(1)).await;
        for request in ["two", "three"] {
            assert_ready_ok!(service.poll_ready(), "offset {offset_us} µs");
            round_trip(&mut service, &mut handle, request).await;
        }
        assert_pending!(
            service.poll_ready(),
            "offset {offset_us} µs: 1 ns before the end"
        );

        advance(Duration::from_nanos(1)).await;
        for request in ["four", "five", "six"] {
            assert_ready_ok!(
                service.poll_ready(),
                "offset {offset_us} µs: exactly one period after the window began, a new one"
            );
            round_trip(&mut service, &mut handle, request).await;
        }
        assert_pending!(service.poll_ready());
    }
}

#[tokio::test(start_paused = true)]
async fn a_caller_waiting_between_timer_ticks_is_woken_once_the_window_has_ended() {
    let (mut service, mut handle) = new_service(1);
    advance(Duration::from_micros(400)).await;
    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "one").await;
    assert_pending!(service.poll_ready());

    advance(PERIOD - Duration::from_nanos(1)).await;
    assert!(
        !service.is_woken(),
        "not woken before the end, nor by the timer of the window's last millisecond"
    );
    assert_pending!(service.poll_ready());
    // The timer for the end fires at the tick after it.
    advance(MS).await;
    assert!(service.is_woken(), "the end of the window wakes the caller");
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn as_with_tower_three_calls_are_ready_exactly_one_period_after_one() {
    // The case tower users write: one request, then exactly `per` later,
    // the whole budget again.
    let (mut service, mut handle) = new_service(3);
    advance(Duration::from_micros(300)).await;
    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "one").await;
    advance(PERIOD).await;
    for request in ["two", "three", "four"] {
        assert_ready_ok!(service.poll_ready(), "{request}");
        round_trip(&mut service, &mut handle, request).await;
    }
}

// Waiting for the window.

#[tokio::test(start_paused = true)]
async fn a_caller_waiting_for_the_window_is_woken_when_it_ends() {
    let (mut service, mut handle) = new_service(2);

    for request in ["one", "two"] {
        assert_ready_ok!(service.poll_ready());
        round_trip(&mut service, &mut handle, request).await;
    }
    assert_pending!(service.poll_ready());

    advance(PERIOD - MS).await;
    assert!(!service.is_woken(), "the window has not ended");
    assert_pending!(service.poll_ready());

    advance(MS).await;
    assert!(service.is_woken(), "the end of the window wakes the caller");
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_new_window_opens_when_the_budget_is_next_taken() {
    let (mut service, mut handle) = new_service(1);

    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "one").await;
    // Idle for two and a half periods: the next window opens now, not on a
    // multiple of the period.
    advance(PERIOD * 5 / 2).await;
    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "two").await;

    assert_pending!(service.poll_ready());
    advance(PERIOD - MS).await;
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready());
    advance(MS).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

// One budget for all clones.

#[tokio::test(start_paused = true)]
async fn clones_share_one_budget() {
    let (mut first, mut handle) =
        mock::spawn_layer::<&str, &str, _>(RateLimitLayer::new(2, Duration::from_secs(1)));
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    let first_response = first.call("from the first");
    assert_ready_ok!(second.poll_ready());
    let second_response = second.call("from the second");
    assert_request_eq!(handle, "from the first").send_response("ok");
    assert_request_eq!(handle, "from the second").send_response("ok");
    first_response.await.unwrap();
    second_response.await.unwrap();

    assert_pending!(first.poll_ready(), "two calls in total spent the budget");
    assert_pending!(second.poll_ready());
    let mut third = second.clone();
    assert_pending!(third.poll_ready(), "a new clone shares the spent budget");

    advance(Duration::from_secs(1)).await;
    assert!(first.is_woken());
    assert!(second.is_woken());
    assert!(third.is_woken());
    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready());
    assert_pending!(third.poll_ready(), "two per window, whoever asks");
}

#[test]
fn each_layered_service_has_its_own_budget() {
    let layer = RateLimitLayer::new(1, PERIOD);
    let (mut users, _users_handle) = mock::spawn_layer::<&str, &str, _>(layer.clone());
    let (mut orders, _orders_handle) = mock::spawn_layer::<&str, &str, _>(layer);

    assert_ready_ok!(users.poll_ready());
    let _response = users.call("hello");
    assert_ready_ok!(orders.poll_ready(), "a budget of its own");
}

#[test]
fn repeated_poll_ready_holds_one_reservation() {
    let (mut first, _handle) = new_service(2);
    for _ in 0..5 {
        assert_ready_ok!(first.poll_ready());
    }
    let mut second = first.clone();
    assert_ready_ok!(second.poll_ready(), "the second request is still there");
}

#[tokio::test(start_paused = true)]
async fn a_clone_does_not_inherit_a_reservation() {
    let (mut first, mut handle) = new_service(1);
    assert_ready_ok!(first.poll_ready());

    let mut second = first.clone();
    assert_pending!(second.poll_ready());
    round_trip(&mut first, &mut handle, "hello").await;
}

// Cancellation: an unused reservation goes back.

#[tokio::test(start_paused = true)]
async fn a_reservation_dropped_unused_is_given_back() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready(), "the first takes the only request");
    assert_pending!(second.poll_ready());

    drop(first);
    // The window has not ended, yet the second can now go.
    assert_ready_ok!(second.poll_ready());
    round_trip(&mut second, &mut handle, "hello").await;
    assert_pending!(second.poll_ready());
}

// A request of the budget given back by a dropped handle wakes a clone
// waiting for the budget: its readiness may have changed.
#[tokio::test(start_paused = true)]
async fn a_reservation_dropped_unused_wakes_a_waiting_clone() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    drop(first);
    assert!(second.is_woken(), "the given-back request wakes the waiter");
    assert_ready_ok!(second.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn a_reservation_from_an_ended_window_is_not_given_back_to_the_next() {
    let (mut first, mut handle) = new_service(1);
    let mut second = first.clone();
    let mut third = first.clone();

    assert_ready_ok!(first.poll_ready(), "taken from the first window");
    advance(PERIOD + PERIOD / 2).await;
    assert_ready_ok!(second.poll_ready(), "taken from the second window");
    drop(first);

    assert_pending!(third.poll_ready(), "the second window has no more");
    round_trip(&mut second, &mut handle, "hello").await;
}

// A request reserved in one window and used after it ended is charged to the
// window the call starts in: with 2 per 100 ms, a call at 0 ms, a reservation
// at 0 ms used at 150 ms, then only one more call at 150 ms.
#[tokio::test(start_paused = true)]
async fn no_more_than_num_calls_start_in_a_window() {
    let mut service = Spawn::new(RateLimit::new(Echo, Rate::new(2, PERIOD)));
    assert_ready_ok!(service.poll_ready::<u32>());
    let _at_0 = service.call(0);
    assert_ready_ok!(service.poll_ready::<u32>(), "reserved in the first window");

    advance(PERIOD + PERIOD / 2).await;
    let _at_150 = service.call(1);
    assert_ready_ok!(service.poll_ready::<u32>());
    let _also_at_150 = service.call(2);
    assert_pending!(
        service.poll_ready::<u32>(),
        "two calls started in this window already"
    );
}

#[test]
fn into_inner_gives_back_an_unused_reservation() {
    let (mut first, _handle) = new_service(1);
    let mut second = first.clone();
    assert_ready_ok!(first.poll_ready());

    let _mock = first.into_inner().into_inner();
    assert_ready_ok!(second.poll_ready());
}

// Inner readiness and errors.

#[test]
fn inner_pending_readiness_passes_the_wake_up() {
    let (mut service, mut handle) = new_service(1);

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());
    handle.allow(1);
    assert!(service.is_woken(), "the mock's wake-up reaches the caller");
    assert_ready_ok!(service.poll_ready());
}

#[test]
fn a_readiness_error_passes_through_unchanged() {
    let (mut service, mut handle) = new_service(1);
    handle.send_error(Boom("not ready"));
    let error: BoxError = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));

    // An inner error type that is not boxed stays as it is.
    let mut service = Spawn::new(RateLimit::new(
        Broken { ready: false },
        Rate::new(1, PERIOD),
    ));
    let error: Boom = assert_ready_err!(service.poll_ready::<()>());
    assert_eq!(error, Boom("readiness"));
}

#[tokio::test]
async fn a_response_error_passes_through_unchanged() {
    let (mut service, mut handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error: BoxError = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));

    let mut service = Spawn::new(RateLimit::new(Broken { ready: true }, Rate::new(1, PERIOD)));
    assert_ready_ok!(service.poll_ready::<()>());
    let mut response = task::spawn(service.call(()));
    let error: Boom = assert_ready_err!(response.poll());
    assert_eq!(error, Boom("response"));
}

// The inner service gone.

#[test]
fn a_dropped_mock_handle_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service(1);
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[test]
fn a_request_in_flight_fails_with_closed_when_the_handle_is_dropped() {
    let (mut service, handle) = new_service(1);
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

// Construction and configuration.

#[test]
fn a_rate_limit_is_built_and_used_outside_a_runtime() {
    // No tokio runtime: nothing here may set up a timer.
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(|mock| {
        RateLimit::new(mock, Rate::new(2, Duration::from_secs(1)))
    });
    let mut layered = Spawn::new(RateLimitLayer::new(1, PERIOD).layer(Echo));

    for request in ["one", "two"] {
        assert_ready_ok!(service.poll_ready());
        let _response = service.call(request);
        let (received, _send_response) = assert_ready!(handle.poll_request()).expect("a request");
        assert_eq!(received, request);
    }
    assert_ready_ok!(layered.poll_ready::<&str>());
    let mut response = task::spawn(layered.call("hello"));
    assert_eq!(assert_ready_ok!(response.poll()), "hello");
}

#[test]
fn rate_exposes_its_number_and_period() {
    let rate = Rate::new(7, Duration::from_secs(3));
    assert_eq!(rate.num(), 7);
    assert_eq!(rate.per(), Duration::from_secs(3));

    let service = RateLimit::new(Echo, rate);
    assert_eq!(service.rate().num(), 7);
    assert_eq!(service.rate().per(), Duration::from_secs(3));
}

#[tokio::test(start_paused = true)]
async fn service_builder_rate_limit_limits_requests_per_period() {
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(|mock| {
        ServiceBuilder::new().rate_limit(1, PERIOD).service(mock)
    });

    assert_ready_ok!(service.poll_ready());
    round_trip(&mut service, &mut handle, "one").await;
    assert_pending!(service.poll_ready());
    advance(PERIOD).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[test]
fn rate_limit_gives_access_to_the_inner_service() {
    let mut service = RateLimit::new(Broken { ready: true }, Rate::new(1, PERIOD));
    assert!(service.get_ref().ready);
    service.get_mut().ready = false;
    assert!(!service.into_inner().ready);
}

// Misuse and bad input.

// A period too long to represent (`Duration::MAX`) never ends: the budget
// is never renewed.
#[tokio::test(start_paused = true)]
async fn a_period_too_long_to_represent_never_resets() {
    let mut service = Spawn::new(RateLimit::new(Echo, Rate::new(1, Duration::MAX)));
    assert_ready_ok!(service.poll_ready::<u32>());
    let _response = service.call(1);
    assert_pending!(service.poll_ready::<u32>());
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_without_poll_ready_panics() {
    // `Echo` never panics, so the panic is the rate limit's own.
    let mut service = RateLimit::new(Echo, Rate::new(1, PERIOD));
    let _response = donjon::Service::call(&mut service, "hello");
}

#[tokio::test(start_paused = true)]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
async fn a_call_after_the_budget_is_spent_panics() {
    let mut service = Spawn::new(RateLimit::new(Echo, Rate::new(1, PERIOD)));
    assert_ready_ok!(service.poll_ready::<&str>());
    let _first = service.call("first");
    assert_pending!(service.poll_ready::<&str>());
    let _second = service.call("second");
}

#[test]
#[should_panic(expected = "num > 0")]
fn a_rate_of_zero_requests_panics() {
    let _ = Rate::new(black_box(0), PERIOD);
}

#[test]
#[should_panic(expected = "period must be longer than zero")]
fn a_rate_over_a_zero_period_panics() {
    let _ = Rate::new(1, black_box(Duration::ZERO));
}

#[test]
#[should_panic(expected = "num > 0")]
fn a_layer_of_zero_requests_panics() {
    let _ = RateLimitLayer::new(black_box(0), PERIOD);
}

#[test]
#[should_panic(expected = "period must be longer than zero")]
fn a_layer_over_a_zero_period_panics() {
    let _ = RateLimitLayer::new(1, black_box(Duration::ZERO));
}
