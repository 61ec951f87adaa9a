//! Integration tests of `donjon::reconnect`: `Reconnect` connecting with a
//! make-service, reporting a failed attempt through the next call, and
//! reconnecting silently when the connection fails.
//!
//! The maker is a mock whose responses are mock services: each test hands
//! it a fresh `mock::pair()` service as the connection and plays that
//! connection through its handle.
#![cfg(feature = "reconnect")]

#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use donjon::reconnect::Reconnect;
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Handle, Mock, Spawn, error::Closed};
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::Boom;

type Conn = Mock<&'static str, &'static str>;
type ConnHandle = Handle<&'static str, &'static str>;
type Maker = Mock<&'static str, Conn>;
type MakerHandle = Handle<&'static str, Conn>;

/// A `Reconnect` to `"db"` over a mock maker, and the maker's handle.
fn new_reconnect() -> (Spawn<Reconnect<Maker, &'static str>>, MakerHandle) {
    let (maker, handle) = mock::pair();
    (Spawn::new(Reconnect::new(maker, "db")), handle)
}

/// Answers the next connection attempt (to `"db"`) with a new mock
/// connection, returning that connection's handle.
async fn accept(maker: &mut MakerHandle) -> ConnHandle {
    let (connection, handle) = mock::pair();
    assert_request_eq!(maker, "db").send_response(connection);
    handle
}

/// Polls `service` to a connection: the first poll starts an attempt, which
/// is answered with a new mock connection; the caller is woken and ready.
async fn connect(
    service: &mut Spawn<Reconnect<Maker, &'static str>>,
    maker: &mut MakerHandle,
) -> ConnHandle {
    assert_pending!(service.poll_ready(), "connecting");
    let connection = accept(maker).await;
    assert!(service.is_woken(), "the connection wakes the caller");
    assert_ready_ok!(service.poll_ready());
    connection
}

#[tokio::test]
async fn connects_on_the_first_poll_ready() {
    let (mut service, mut maker) = new_reconnect();
    assert!(
        maker.poll_request().is_pending(),
        "nothing happens before the first poll_ready"
    );

    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());
    let (connection, mut connection_handle) = mock::pair();
    assert_request_eq!(maker, "db").send_response(connection);
    assert!(service.is_woken(), "the finished attempt wakes the caller");
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(connection_handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert!(
        maker.poll_request().is_pending(),
        "one connection was enough"
    );
}

#[tokio::test]
async fn pending_while_the_maker_is_not_ready() {
    let (mut service, mut maker) = new_reconnect();

    maker.allow(0);
    assert_pending!(service.poll_ready());
    assert!(maker.poll_request().is_pending(), "no attempt started");

    maker.allow(1);
    assert!(service.is_woken(), "the maker's wake-up reaches the caller");
    assert_pending!(service.poll_ready(), "connecting");
    let _connection = accept(&mut maker).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn requests_go_to_the_connection_and_responses_come_back() {
    let (mut service, mut maker) = new_reconnect();
    let mut connection = connect(&mut service, &mut maker).await;

    for (request, answer) in [("one", "1"), ("two", "2")] {
        assert_ready_ok!(service.poll_ready());
        let mut response = task::spawn(service.call(request));
        assert_pending!(response.poll());
        assert_request_eq!(connection, request).send_response(answer);
        assert!(response.is_woken());
        assert_eq!(assert_ready_ok!(response.poll()), answer);
    }
}

#[tokio::test]
async fn the_connection_readiness_passes_through_with_its_wake_up() {
    let (mut service, mut maker) = new_reconnect();
    let mut connection = connect(&mut service, &mut maker).await;

    connection.allow(1);
    let mut response = task::spawn(service.call("one"));
    // The call spent the connection's only allowance.
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    connection.allow(1);
    assert!(
        service.is_woken(),
        "the connection's wake-up reaches the caller"
    );
    assert_ready_ok!(service.poll_ready());
    assert!(
        maker.poll_request().is_pending(),
        "a pending connection is kept"
    );

    assert_request_eq!(connection, "one").send_response("1");
    assert_eq!(assert_ready_ok!(response.poll()), "1");
}

#[tokio::test]
async fn a_failed_attempt_is_reported_by_the_next_call() {
    let (mut service, mut maker) = new_reconnect();

    assert_pending!(service.poll_ready());
    assert_request_eq!(maker, "db").send_error(Boom("db is down"));
    assert!(service.is_woken());
    // Ready, so that the failure reaches the caller through a call.
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("db is down")));
    assert!(maker.poll_request().is_pending(), "no new attempt yet");

    // The poll_ready after that tries again.
    let mut connection = connect(&mut service, &mut maker).await;
    let mut response = task::spawn(service.call("hello again"));
    assert_request_eq!(connection, "hello again").send_response("welcome back");
    assert_eq!(assert_ready_ok!(response.poll()), "welcome back");
}

#[tokio::test]
async fn a_failed_attempt_answered_by_dropping_it_is_reported_as_closed() {
    let (mut service, mut maker) = new_reconnect();

    assert_pending!(service.poll_ready());
    let (_, send_response) = maker.next_request().await.unwrap();
    drop(send_response);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let error = service.call("hello").await.unwrap_err();
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn a_failing_connection_is_replaced_at_once_without_an_error() {
    let (mut service, mut maker) = new_reconnect();
    let mut old = connect(&mut service, &mut maker).await;
    let mut first = task::spawn(service.call("first"));
    assert_request_eq!(old, "first").send_response("from the old one");
    assert_eq!(assert_ready_ok!(first.poll()), "from the old one");

    old.send_error(Boom("connection reset"));
    // The error is not reported: a new attempt starts in the same poll.
    assert_pending!(service.poll_ready());
    let mut new = accept(&mut maker).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut second = task::spawn(service.call("second"));
    assert_request_eq!(new, "second").send_response("from the new one");
    assert_eq!(assert_ready_ok!(second.poll()), "from the new one");
    assert!(
        matches!(old.poll_request(), Poll::Ready(None)),
        "the old connection was dropped: its handle sees the end"
    );
}

#[tokio::test]
async fn a_dropped_connection_handle_triggers_a_reconnect() {
    let (mut service, mut maker) = new_reconnect();
    let old = connect(&mut service, &mut maker).await;

    drop(old);
    assert_pending!(service.poll_ready());
    let mut new = accept(&mut maker).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(new, "hello").send_response("again");
    assert_eq!(assert_ready_ok!(response.poll()), "again");
}

#[tokio::test]
async fn a_connection_failing_while_pending_wakes_the_caller_and_reconnects() {
    let (mut service, mut maker) = new_reconnect();
    let mut old = connect(&mut service, &mut maker).await;

    old.allow(1);
    drop(service.call("spends the allowance"));
    assert_pending!(service.poll_ready());

    old.send_error(Boom("connection reset"));
    assert!(service.is_woken());
    assert_pending!(service.poll_ready(), "reconnecting");
    let _new = accept(&mut maker).await;
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[tokio::test]
async fn the_maker_readiness_error_is_returned_boxed() {
    let (mut service, mut maker) = new_reconnect();

    maker.send_error(Boom("no connector"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("no connector")));
}

#[tokio::test]
async fn a_dropped_maker_handle_fails_readiness_with_closed() {
    let (mut service, maker) = new_reconnect();

    drop(maker);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn a_maker_gone_while_connecting_fails_the_next_call_with_closed() {
    let (mut service, maker) = new_reconnect();

    assert_pending!(service.poll_ready());
    drop(maker);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
    let error = service.call("hello").await.unwrap_err();
    assert!(error.is::<Closed>(), "unexpected error: {error}");

    // With the maker gone, the next attempt cannot even start.
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn a_response_error_is_boxed_with_its_type() {
    let (mut service, mut maker) = new_reconnect();
    let mut connection = connect(&mut service, &mut maker).await;

    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(connection, "hello").send_error(Boom("bad request"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("bad request")));

    // A response error does not end the connection.
    assert_ready_ok!(service.poll_ready());
    assert!(maker.poll_request().is_pending());
}

#[tokio::test]
async fn a_dropped_response_future_leaves_the_connection_usable() {
    let (mut service, mut maker) = new_reconnect();
    let mut connection = connect(&mut service, &mut maker).await;

    for _ in 0..3 {
        drop(service.call("abandoned"));
        assert_request_eq!(connection, "abandoned").send_response("nobody listens");
        assert_ready_ok!(service.poll_ready());
    }
    let mut response = task::spawn(service.call("kept"));
    assert_request_eq!(connection, "kept").send_response("delivered");
    assert_eq!(assert_ready_ok!(response.poll()), "delivered");
    assert!(maker.poll_request().is_pending(), "no reconnect happened");
}

#[tokio::test]
async fn an_in_flight_response_fails_with_closed_when_the_connection_goes_away() {
    let (mut service, mut maker) = new_reconnect();
    let connection = connect(&mut service, &mut maker).await;

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());
    drop(connection);
    assert!(response.is_woken());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
}

#[tokio::test]
async fn dropping_the_service_while_connecting_drops_the_attempt() {
    let (mut service, mut maker) = new_reconnect();

    assert_pending!(service.poll_ready());
    drop(service);
    let (target, send_response) = maker.next_request().await.unwrap();
    assert_eq!(target, "db");
    // Answering the abandoned attempt is harmless, and the maker is gone.
    let (connection, _handle) = mock::pair();
    send_response.send_response(connection);
    assert!(maker.next_request().await.is_none());
}

#[tokio::test]
async fn with_connection_starts_connected() {
    let (maker, mut maker_handle) = mock::pair::<&'static str, Conn>();
    let (connection, mut connection_handle) = mock::pair();
    let mut service = Spawn::new(Reconnect::with_connection(connection, maker, "db"));

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(connection_handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert!(
        maker_handle.poll_request().is_pending(),
        "no connection attempt while the first connection works"
    );

    // Once it fails, the maker is used.
    drop(connection_handle);
    assert_pending!(service.poll_ready());
    let mut replacement = accept(&mut maker_handle).await;
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(replacement, "hello").send_response("replaced");
    assert_eq!(assert_ready_ok!(response.poll()), "replaced");
}

/// A target that counts its clones.
#[derive(Debug)]
struct Target {
    name: &'static str,
    clones: Arc<AtomicUsize>,
}

impl Clone for Target {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Target {
            name: self.name,
            clones: Arc::clone(&self.clones),
        }
    }
}

#[tokio::test]
async fn the_target_is_cloned_for_each_attempt() {
    let clones = Arc::new(AtomicUsize::new(0));
    let target = Target {
        name: "db",
        clones: Arc::clone(&clones),
    };
    let (maker, mut maker_handle) = mock::pair::<Target, Conn>();
    let mut service = Spawn::new(Reconnect::new(maker, target));
    assert_eq!(clones.load(Ordering::SeqCst), 0);

    for attempt in 1..=2 {
        assert_pending!(service.poll_ready());
        let (target, send_response) = maker_handle.next_request().await.unwrap();
        assert_eq!(target.name, "db");
        assert_eq!(clones.load(Ordering::SeqCst), attempt);
        send_response.send_error(Boom("down"));
        assert_ready_ok!(service.poll_ready());
        assert!(service.call("hello").await.is_err());
    }
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_before_poll_ready_panics() {
    let (maker, _maker_handle) = mock::pair::<&'static str, Conn>();
    let mut service = Reconnect::new(maker, "db");
    drop(donjon::Service::call(&mut service, "too early"));
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn call_while_connecting_panics() {
    let (mut service, _maker) = new_reconnect();
    assert_pending!(service.poll_ready());
    drop(service.call("too early"));
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn a_second_call_after_a_reported_attempt_failure_panics() {
    let (maker, mut maker_handle) = mock::pair::<&'static str, Conn>();
    let mut service = Spawn::new(Reconnect::new(maker, "db"));

    assert_pending!(service.poll_ready());
    let (_, send_response) = tokio_test::assert_ready!(maker_handle.poll_request()).unwrap();
    send_response.send_error(Boom("down"));
    assert_ready_ok!(service.poll_ready());
    // The first call takes the error; the service is not connected.
    drop(service.call("first"));
    drop(service.call("second"));
}

#[tokio::test]
async fn debug_shows_the_maker_the_state_and_the_target() {
    let (mut service, mut maker) = new_reconnect();

    let idle = format!("{:?}", service.get_ref());
    assert!(idle.starts_with("Reconnect { mk_service: Mock"), "{idle}");
    assert!(idle.contains("state:"), "{idle}");
    assert!(idle.contains("Idle"), "{idle}");
    assert!(idle.ends_with("target: \"db\" }"), "{idle}");

    let _connection = connect(&mut service, &mut maker).await;
    let connected = format!("{:?}", service.get_ref());
    assert!(!connected.contains("Idle"), "{connected}");
    assert!(connected.contains("state:"), "{connected}");
    assert!(connected.ends_with("target: \"db\" }"), "{connected}");
}

#[tokio::test]
async fn the_response_future_is_debug() {
    let (mut service, mut maker) = new_reconnect();
    let _connection = connect(&mut service, &mut maker).await;

    let response = service.call("hello");
    assert!(format!("{response:?}").starts_with("ResponseFuture"));
}

// Backoff and a bound on attempts (tower #60, #244).

/// Delays of 100 ms, 200 ms, 400 ms... up to 1 s, without jitter.
fn doubling_from_100ms() -> donjon::retry::backoff::ExponentialBackoffMaker {
    donjon::retry::backoff::ExponentialBackoffMaker::new(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(1),
        0.0,
        donjon::util::rng::HasherRng::default(),
    )
    .expect("a valid backoff")
}

/// Fails the next attempt, lets the caller's call report it, and checks
/// the error reached the caller.
async fn fail_attempt(
    service: &mut Spawn<Reconnect<Maker, &'static str>>,
    maker: &mut MakerHandle,
) {
    assert_request_eq!(maker, "db").send_error(Boom("down"));
    assert_ready_ok!(service.poll_ready(), "ready to report the failure");
    let mut response = task::spawn(service.call("hello"));
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("down")));
}

/// Checks that the next attempt starts exactly `after` from now on the
/// paused clock, not a millisecond sooner.
async fn next_attempt_after(
    service: &mut Spawn<Reconnect<Maker, &'static str>>,
    maker: &mut MakerHandle,
    after: std::time::Duration,
) {
    let ms = std::time::Duration::from_millis(1);
    assert_pending!(service.poll_ready(), "waiting before the next attempt");
    tokio::time::advance(after - ms).await;
    assert!(!service.is_woken());
    assert_pending!(service.poll_ready());
    assert!(
        maker.poll_request().is_pending(),
        "no attempt before the delay is over"
    );
    tokio::time::advance(ms).await;
    assert!(service.is_woken(), "the end of the delay wakes the caller");
    assert_pending!(service.poll_ready(), "connecting");
}

#[tokio::test(start_paused = true)]
async fn with_a_backoff_attempts_after_a_failure_wait_its_delays() {
    let (maker, mut maker_handle) = mock::pair();
    let mut service = Spawn::new(Reconnect::new(maker, "db").with_backoff(doubling_from_100ms()));

    assert_pending!(service.poll_ready(), "the first attempt is made at once");
    fail_attempt(&mut service, &mut maker_handle).await;
    next_attempt_after(&mut service, &mut maker_handle, ms(100)).await;
    fail_attempt(&mut service, &mut maker_handle).await;
    next_attempt_after(&mut service, &mut maker_handle, ms(200)).await;
    fail_attempt(&mut service, &mut maker_handle).await;
    next_attempt_after(&mut service, &mut maker_handle, ms(400)).await;

    // This one connects; the delays start over.
    let mut connection = accept(&mut maker_handle).await;
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_request_eq!(connection, "hello").send_response("hi");
    assert_eq!(assert_ready_ok!(response.poll()), "hi");

    // A lost connection is replaced at once; a failure after it waits the
    // first delay again.
    connection.send_error(Boom("reset"));
    assert_pending!(service.poll_ready(), "reconnecting at once");
    fail_attempt(&mut service, &mut maker_handle).await;
    next_attempt_after(&mut service, &mut maker_handle, ms(100)).await;
}

#[tokio::test(start_paused = true)]
async fn with_max_attempts_poll_ready_fails_with_exhausted_after_the_last() {
    use donjon::reconnect::error::Exhausted;

    let (maker, mut maker_handle) = mock::pair();
    let mut service = Spawn::new(Reconnect::new(maker, "db").with_max_attempts(3));
    for _ in 0..3 {
        assert_pending!(service.poll_ready());
        fail_attempt(&mut service, &mut maker_handle).await;
    }
    for _ in 0..2 {
        let error = assert_ready_err!(service.poll_ready(), "no fourth attempt");
        let exhausted = error.downcast_ref::<Exhausted>().expect("Exhausted");
        assert_eq!(exhausted.attempts(), 3);
        assert_eq!(
            error.to_string(),
            "gave up reconnecting after 3 failed attempts in a row"
        );
    }
    assert!(maker_handle.poll_request().is_pending());
}

#[tokio::test(start_paused = true)]
async fn a_connection_resets_the_count_of_failed_attempts() {
    let (maker, mut maker_handle) = mock::pair();
    let mut service = Spawn::new(Reconnect::new(maker, "db").with_max_attempts(2));
    assert_pending!(service.poll_ready());
    fail_attempt(&mut service, &mut maker_handle).await;
    let mut connection = connect(&mut service, &mut maker_handle).await;
    connection.send_error(Boom("reset"));
    // Two more failures in a row are allowed before giving up.
    assert_pending!(service.poll_ready());
    fail_attempt(&mut service, &mut maker_handle).await;
    assert_pending!(service.poll_ready(), "a second attempt in this row");
    fail_attempt(&mut service, &mut maker_handle).await;
    assert_ready_err!(service.poll_ready());
}

#[test]
#[should_panic(expected = "Reconnect::with_max_attempts needs at least one attempt")]
fn zero_max_attempts_panics() {
    let (maker, _handle) = mock::pair::<&'static str, Conn>();
    let _ = Reconnect::new(maker, "db").with_max_attempts(0);
}

const fn ms(n: u64) -> std::time::Duration {
    std::time::Duration::from_millis(n)
}
