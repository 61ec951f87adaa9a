//! Integration tests of `donjon::timeout`: `Timeout`, `TimeoutLayer`,
//! `Elapsed` and `ServiceBuilder::timeout`, driven by a mock inner service
//! and tokio's paused clock.
#![cfg(feature = "timeout")]

#[path = "../support/mod.rs"]
mod support;

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use donjon::timeout::error::Elapsed;
use donjon::timeout::{Timeout, TimeoutLayer};
use donjon::{BoxError, ServiceBuilder};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn, error::Closed};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::{Boom, Broken, Echo, Lingering};

/// The timeout of the services under test.
const TIMEOUT: Duration = Duration::from_millis(100);
/// The last whole millisecond before [`TIMEOUT`].
const JUST_UNDER: Duration = Duration::from_millis(99);
/// The smallest step of tokio's timer.
const MS: Duration = Duration::from_millis(1);

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// A `Timeout` of [`TIMEOUT`] around a fresh mock.
fn new_service() -> (Spawn<Timeout<Mock>>, Handle) {
    mock::spawn_layer(TimeoutLayer::new(TIMEOUT))
}

// Readiness.

#[test]
fn poll_ready_follows_the_inner_readiness_and_its_wake_up() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken(), "no wake-up before the mock is ready");

    handle.allow(1);
    assert!(service.is_woken(), "the mock's wake-up reaches the caller");
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test(start_paused = true)]
async fn poll_ready_is_not_bounded_by_the_timeout() {
    let (mut service, mut handle) = new_service();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    advance(TIMEOUT * 10).await;
    assert!(
        !service.is_woken(),
        "no timer runs while waiting for readiness"
    );
    assert_pending!(service.poll_ready(), "still waiting, with no error");

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn a_clone_does_not_inherit_the_reservation() {
    let (mut service, mut handle) = new_service();

    assert_ready_ok!(service.poll_ready());
    // The mock now refuses new reservations; the one taken stands.
    handle.allow(0);
    let mut clone = service.clone();
    assert_pending!(clone.poll_ready(), "the clone holds no reservation");

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

// Deadline.

#[tokio::test(start_paused = true)]
async fn a_response_within_the_timeout_is_returned() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    advance(JUST_UNDER).await;
    assert!(!response.is_woken(), "the deadline has not passed");
    assert_pending!(response.poll());

    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test(start_paused = true)]
async fn a_request_fails_with_elapsed_once_the_deadline_passes() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    advance(JUST_UNDER).await;
    assert!(!response.is_woken());
    assert_pending!(response.poll(), "not before the deadline");

    advance(MS).await;
    assert!(response.is_woken(), "the timer wakes the caller");
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Elapsed>(), "unexpected error: {error}");
    assert_eq!(error.to_string(), "request timed out");

    // The request did reach the inner service, which never answered.
    let _unanswered = assert_request_eq!(handle, "hello");
}

#[tokio::test(start_paused = true)]
async fn the_clock_starts_at_call_not_at_first_poll() {
    let (mut service, _handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));

    // Never polled until well past the deadline; the inner future is still
    // pending.
    advance(TIMEOUT + TIMEOUT / 2).await;
    let error = assert_ready_err!(response.poll(), "the first poll sees the deadline passed");
    assert!(error.is::<Elapsed>(), "unexpected error: {error}");
}

#[tokio::test(start_paused = true)]
async fn the_deadline_counts_from_call_when_first_polled_later() {
    let (mut service, _handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));

    advance(Duration::from_millis(60)).await;
    assert_pending!(response.poll());
    advance(Duration::from_millis(39)).await;
    assert!(!response.is_woken());
    assert_pending!(response.poll());

    // 100 ms after `call`, though only 40 ms after the first poll.
    advance(MS).await;
    assert!(response.is_woken());
    assert!(assert_ready_err!(response.poll()).is::<Elapsed>());
}

#[tokio::test(start_paused = true)]
async fn a_response_ready_with_the_deadline_wins() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll(), "the timer is now running");

    assert_request_eq!(handle, "hello").send_response("world");
    advance(TIMEOUT * 2).await;
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test(start_paused = true)]
async fn a_response_answered_before_the_first_poll_wins_over_a_passed_deadline() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));

    assert_request_eq!(handle, "hello").send_response("world");
    advance(TIMEOUT * 2).await;
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn a_response_ready_at_first_poll_sets_up_no_timer() {
    // No tokio runtime here: setting up a timer would panic.
    let mut service = Spawn::new(Timeout::new(Echo, TIMEOUT));
    assert_ready_ok!(service.poll_ready::<&str>());
    let mut response = task::spawn(service.call("hello"));
    assert_eq!(assert_ready_ok!(response.poll()), "hello");
}

/// The control for the test above: a response that is not ready at its first
/// poll sets up the timer, which needs a runtime (as the docs say).
#[test]
#[should_panic(expected = "runtime")]
fn a_pending_response_sets_up_a_timer_which_needs_a_runtime() {
    let mut service = Spawn::new(Timeout::new(Lingering::default(), TIMEOUT));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(()));
    let _ = response.poll();
}

#[tokio::test(start_paused = true)]
async fn a_zero_timeout_fails_a_pending_response_at_first_poll() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(TimeoutLayer::new(Duration::ZERO));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("slow"));
    assert!(assert_ready_err!(response.poll()).is::<Elapsed>());

    // An answer that is there at the first poll still wins.
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("fast"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_request_eq!(handle, "fast").send_response("done");
    assert_eq!(assert_ready_ok!(response.poll()), "done");
}

#[tokio::test(start_paused = true)]
async fn a_timeout_too_long_to_represent_never_fires() {
    let (mut service, mut handle) =
        mock::spawn_layer::<&str, &str, _>(TimeoutLayer::new(Duration::MAX));
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    advance(Duration::from_secs(10 * 365 * 24 * 60 * 60)).await;
    assert_pending!(response.poll());
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

// Inner errors.

#[test]
fn a_readiness_error_is_returned_boxed() {
    let (mut service, mut handle) = new_service();
    handle.send_error(Boom("not ready"));

    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
}

#[tokio::test(start_paused = true)]
async fn a_response_error_is_returned_boxed() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    assert_request_eq!(handle, "hello").send_error(Boom("failed"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
}

#[test]
fn an_inner_error_of_a_concrete_type_is_boxed_as_is() {
    let mut service = Spawn::new(Timeout::new(Broken { ready: true }, TIMEOUT));
    assert_ready_ok!(service.poll_ready::<&str>());
    let mut response = task::spawn(service.call("hello"));

    let error: BoxError = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("response")));
}

// Cancellation.

#[tokio::test(start_paused = true)]
async fn dropping_the_response_future_drops_the_inner_future() {
    let inner = Lingering::default();
    let mut service = Spawn::new(Timeout::new(inner.clone(), TIMEOUT));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(()));
    assert_pending!(response.poll(), "the timer is now running");
    assert_eq!(inner.dropped(), 0);
    drop(response);
    assert_eq!(inner.dropped(), 1);

    // The dropped timer's deadline passing harms nothing, and the service
    // carries on.
    advance(TIMEOUT * 2).await;
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(()));
    assert_pending!(response.poll());
    advance(TIMEOUT).await;
    assert!(response.is_woken());
    assert!(assert_ready_err!(response.poll()).is::<Elapsed>());
    drop(response);
    assert_eq!(
        inner.dropped(),
        2,
        "a timed-out response drops its inner future with it"
    );
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_request_leaves_the_service_usable() {
    let (mut service, mut handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call("first"));
    assert_pending!(first.poll());
    advance(TIMEOUT).await;
    assert!(assert_ready_err!(first.poll()).is::<Elapsed>());
    drop(first);

    // The late answer to the first request goes nowhere.
    assert_request_eq!(handle, "first").send_response("late");
    assert_ready_ok!(service.poll_ready());
    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(handle, "second").send_response("on time");
    assert_eq!(assert_ready_ok!(second.poll()), "on time");
}

// The inner service failing or gone.

#[test]
fn a_dropped_mock_handle_fails_poll_ready_with_closed() {
    let (mut service, handle) = new_service();
    drop(handle);

    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_fails_with_closed_when_the_handle_is_dropped() {
    let (mut service, handle) = new_service();
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    drop(handle);
    assert!(
        response.is_woken(),
        "the caller does not wait for the deadline"
    );
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

// The error, the layer and the builder.

#[test]
fn elapsed_displays_request_timed_out_and_honours_padding() {
    assert_eq!(Elapsed::new().to_string(), "request timed out");
    assert_eq!(format!("{:>20}", Elapsed::new()), "   request timed out");
    assert_eq!(
        format!("{:-<19}|", Elapsed::default()),
        "request timed out--|"
    );
    assert_eq!(format!("{:^21}", Elapsed::new()), "  request timed out  ");
    assert_eq!(format!("{:?}", Elapsed::new()), "Elapsed(())");
    assert!(Elapsed::new().source().is_none());
}

#[tokio::test(start_paused = true)]
async fn service_builder_timeout_bounds_each_response() {
    let (mut service, mut handle) = mock::spawn_with::<&str, &str, _, _>(|mock| {
        ServiceBuilder::new().timeout(TIMEOUT).service(mock)
    });

    assert_ready_ok!(service.poll_ready());
    let mut slow = task::spawn(service.call("slow"));
    assert_pending!(slow.poll());
    advance(JUST_UNDER).await;
    assert_pending!(slow.poll());
    advance(MS).await;
    assert!(assert_ready_err!(slow.poll()).is::<Elapsed>());

    assert_ready_ok!(service.poll_ready());
    let mut fast = task::spawn(service.call("fast"));
    let _unanswered = assert_request_eq!(handle, "slow");
    assert_request_eq!(handle, "fast").send_response("done");
    assert_eq!(assert_ready_ok!(fast.poll()), "done");
}

#[test]
fn timeout_gives_access_to_the_inner_service() {
    let mut service = Timeout::new(Lingering::default(), TIMEOUT);
    let dropped = Arc::clone(&service.get_ref().dropped);
    assert!(Arc::ptr_eq(&dropped, &service.get_mut().dropped));
    assert!(Arc::ptr_eq(&dropped, &service.into_inner().dropped));
}

/// `RequestTimeout`: each request's own timeout.
mod per_request {
    use donjon::Layer;
    use donjon::timeout::{RequestTimeout, RequestTimeoutLayer};

    use super::*;

    /// A request that names its timeout in milliseconds (0: none).
    type Req = (&'static str, u64);

    fn by_request(request: &Req) -> Option<Duration> {
        match request.1 {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn each_request_gets_its_own_deadline() {
        let (mut service, mut handle) = mock::spawn_with(|mock: mock::Mock<Req, &'static str>| {
            RequestTimeout::new(mock, by_request as fn(&Req) -> Option<Duration>)
        });
        assert_ready_ok!(service.poll_ready());
        let mut short = task::spawn(service.call(("short", 50)));
        assert_ready_ok!(service.poll_ready());
        let mut long = task::spawn(service.call(("long", 200)));
        assert_ready_ok!(service.poll_ready());
        let mut never = task::spawn(service.call(("never", 0)));
        let _requests: Vec<_> = (0..3).map(|_| handle.poll_request()).collect();

        assert_pending!(short.poll());
        assert_pending!(long.poll());
        assert_pending!(never.poll());
        advance(Duration::from_millis(50)).await;
        let error = assert_ready_err!(short.poll());
        assert!(error.is::<Elapsed>());
        assert_pending!(long.poll(), "its own deadline is later");
        advance(Duration::from_millis(150)).await;
        assert!(assert_ready_err!(long.poll()).is::<Elapsed>());
        advance(Duration::from_secs(3600)).await;
        assert_pending!(never.poll(), "None means no timeout");
    }

    #[tokio::test(start_paused = true)]
    async fn with_default_a_request_without_a_timeout_gets_the_default() {
        let (mut service, mut handle) = mock::spawn_with(|mock: mock::Mock<Req, &'static str>| {
            RequestTimeout::with_default(mock, TIMEOUT, by_request)
        });
        assert_ready_ok!(service.poll_ready());
        let mut defaulted = task::spawn(service.call(("default", 0)));
        assert_ready_ok!(service.poll_ready());
        let mut own = task::spawn(service.call(("own", 30)));
        let _requests: Vec<_> = (0..2).map(|_| handle.poll_request()).collect();
        advance(Duration::from_millis(30)).await;
        assert!(assert_ready_err!(own.poll()).is::<Elapsed>());
        advance(JUST_UNDER - Duration::from_millis(30)).await;
        assert_pending!(defaulted.poll());
        advance(MS).await;
        assert!(assert_ready_err!(defaulted.poll()).is::<Elapsed>());
    }

    #[tokio::test(start_paused = true)]
    async fn responses_errors_and_readiness_pass_through() {
        let (mut service, mut handle) = mock::spawn_with(|mock: mock::Mock<Req, &'static str>| {
            RequestTimeoutLayer::new(by_request as fn(&Req) -> Option<Duration>).layer(mock)
        });
        handle.allow(0);
        assert_pending!(service.poll_ready(), "readiness is not bounded");
        handle.allow(2);
        assert!(service.is_woken());
        assert_ready_ok!(service.poll_ready());
        let response = service.call(("hello", 100));
        assert_request_eq!(handle, ("hello", 100)).send_response("world");
        assert_eq!(response.await.expect("answered"), "world");

        assert_ready_ok!(service.poll_ready());
        let response = service.call(("fail", 100));
        assert_request_eq!(handle, ("fail", 100)).send_error(Boom("fail"));
        let error = response.await.expect_err("failed");
        assert!(error.is::<Boom>(), "{error}");

        handle.send_error("gone");
        assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "gone");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_too_long_for_the_clock_is_none() {
        let (mut service, mut handle) = mock::spawn_with(|mock: mock::Mock<Req, &'static str>| {
            RequestTimeout::new(mock, |_: &Req| Some(Duration::MAX))
        });
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(("forever", 1)));
        let _request = handle.poll_request();
        advance(Duration::from_secs(86_400)).await;
        assert_pending!(response.poll());
    }
}

/// `TotalTimeout`: the wait for readiness counts too.
mod total {
    use donjon::Layer;
    use donjon::timeout::{TotalTimeout, TotalTimeoutLayer};
    use tokio::time::Instant;

    use super::*;

    type Total = Spawn<TotalTimeout<mock::Mock<&'static str, &'static str>>>;

    fn total() -> (Total, mock::Handle<&'static str, &'static str>) {
        mock::spawn_with(|mock| TotalTimeoutLayer::new(TIMEOUT).layer(mock))
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_stuck_waiting_fails_at_the_deadline_without_reaching_the_service() {
        let (mut service, mut handle) = total();
        handle.allow(0);
        assert_pending!(service.poll_ready());
        advance(JUST_UNDER).await;
        assert_pending!(service.poll_ready());
        assert!(!service.is_woken());
        advance(MS).await;
        assert!(service.is_woken(), "the deadline wakes the caller");
        assert_ready_ok!(service.poll_ready(), "let through to fail fast");
        assert_ready_ok!(service.poll_ready(), "and stays so until the call");
        let error = service.call("late").await.expect_err("elapsed");
        assert!(error.is::<Elapsed>(), "{error}");
        handle.allow(1);
        assert_pending!(
            handle.poll_request(),
            "the request never reached the service"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn time_spent_waiting_is_taken_from_the_response() {
        let (mut service, mut handle) = total();
        handle.allow(0);
        assert_pending!(service.poll_ready());
        advance(Duration::from_millis(60)).await;
        handle.allow(1);
        assert_ready_ok!(service.poll_ready());
        let start = Instant::now();
        let mut response = task::spawn(service.call("hello"));
        let _request = handle.poll_request();
        advance(Duration::from_millis(39)).await;
        assert_pending!(response.poll());
        advance(MS).await;
        assert!(assert_ready_err!(response.poll()).is::<Elapsed>());
        assert_eq!(start.elapsed(), Duration::from_millis(40), "100 ms in all");
    }

    #[tokio::test(start_paused = true)]
    async fn a_ready_service_gets_the_whole_timeout_from_the_call() {
        let (mut service, mut handle) = total();
        advance(Duration::from_secs(10)).await;
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("hello"));
        let reply = assert_request_eq!(handle, "hello");
        advance(JUST_UNDER).await;
        assert_pending!(response.poll());
        reply.send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");

        // The next request starts afresh.
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call("again"));
        let _request = handle.poll_request();
        advance(JUST_UNDER).await;
        assert_pending!(response.poll());
        advance(MS).await;
        assert!(assert_ready_err!(response.poll()).is::<Elapsed>());
    }

    #[tokio::test(start_paused = true)]
    async fn errors_pass_through_and_a_clone_starts_without_a_wait() {
        let (mut service, mut handle) = total();
        handle.allow(0);
        assert_pending!(service.poll_ready());
        advance(Duration::from_millis(80)).await;
        let mut clone = Spawn::new(service.get_ref().clone());
        handle.allow(1);
        assert_ready_ok!(clone.poll_ready());
        let mut response = task::spawn(clone.call("clone"));
        let _request = handle.poll_request();
        advance(Duration::from_millis(99)).await;
        assert_pending!(response.poll(), "the clone's deadline counts from its call");

        handle.send_error("broken");
        assert_eq!(
            assert_ready_err!(service.poll_ready()).to_string(),
            "broken"
        );
    }
}
