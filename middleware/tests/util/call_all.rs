//! `ServiceExt::call_all` / `CallAll` and `CallAllUnordered`.

use std::task::Poll;

use donjon::Service;
use donjon::util::{CallAll, CallAllUnordered, ServiceExt};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Mock, error::Closed};
use futures::channel::mpsc;
use futures::stream;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};

use crate::support::{Counting, Echo};

type MockService = Mock<&'static str, &'static str>;

/// Unwraps a `Ready(Some(Ok(response)))` from a response stream.
macro_rules! assert_next_ok {
    ($poll:expr) => {
        match assert_ready!($poll) {
            Some(Ok(response)) => response,
            Some(Err(error)) => panic!("expected a response, got the error {error:?}"),
            None => panic!("expected a response, the stream ended"),
        }
    };
}

/// Unwraps a `Ready(Some(Err(error)))` from a response stream.
macro_rules! assert_next_err {
    ($poll:expr) => {
        match assert_ready!($poll) {
            Some(Err(error)) => error,
            Some(Ok(response)) => panic!("expected an error, got the response {response:?}"),
            None => panic!("expected an error, the stream ended"),
        }
    };
}

/// Checks that a response stream has ended.
macro_rules! assert_ended {
    ($poll:expr) => {
        match assert_ready!($poll) {
            None => {}
            Some(item) => panic!("expected the end of the stream, got {item:?}"),
        }
    };
}

#[tokio::test]
async fn call_all_pulls_requests_as_the_service_admits_them_and_answers_in_request_order() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);
    let service = Counting::new(mock);
    let counts = service.counts();
    let (tx, rx) = mpsc::unbounded();
    let mut responses = task::spawn(service.call_all(rx));

    assert_pending!(responses.poll_next(), "no request yet");
    assert_eq!(counts.poll_ready(), 0);

    tx.unbounded_send("one").unwrap();
    assert!(responses.is_woken(), "a new request wakes the stream");
    assert_pending!(responses.poll_next(), "the service is not ready");
    assert_eq!(counts.calls(), 0);

    handle.allow(1);
    assert!(
        responses.is_woken(),
        "the service's readiness wakes the stream"
    );
    assert_pending!(responses.poll_next(), "called; the response is outstanding");
    assert_eq!(counts.calls(), 1);

    tx.unbounded_send("two").unwrap();
    tx.unbounded_send("three").unwrap();
    assert_pending!(responses.poll_next());
    assert_eq!(counts.calls(), 1, "no capacity for the next request");

    handle.allow(2);
    assert!(responses.is_woken());
    assert_pending!(responses.poll_next());
    assert_eq!(counts.calls(), 3);

    let one = assert_request_eq!(handle, "one");
    let two = assert_request_eq!(handle, "two");
    let three = assert_request_eq!(handle, "three");

    // Completion order three, one, two; yield order one, two, three.
    three.send_response("3");
    assert_pending!(responses.poll_next(), "the first response is still due");
    one.send_response("1");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "1");
    assert_pending!(responses.poll_next());
    two.send_response("2");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "2");
    assert_eq!(assert_next_ok!(responses.poll_next()), "3");

    assert_pending!(responses.poll_next(), "the request stream is still open");
    drop(tx);
    assert!(responses.is_woken());
    assert_ended!(responses.poll_next());
    assert_eq!(counts.calls(), 3);

    // The service comes back out, still connected to the handle.
    let mut service = responses.into_inner().into_inner().into_inner();
    handle.allow(1);
    let response = service.ready().await.unwrap().call("direct");
    assert_request_eq!(handle, "direct").send_response("still works");
    assert_eq!(response.await.unwrap(), "still works");
}

#[tokio::test]
async fn call_all_unordered_yields_responses_in_completion_order() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut responses = task::spawn(mock.call_all(stream::iter(["one", "two"])).unordered());

    assert_pending!(responses.poll_next());
    let one = assert_request_eq!(handle, "one");
    let two = assert_request_eq!(handle, "two");

    two.send_response("answer to two");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "answer to two");
    assert_pending!(responses.poll_next());

    one.send_response("answer to one");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "answer to one");
    assert_ended!(responses.poll_next());
}

#[tokio::test]
async fn call_all_unordered_built_with_new_behaves_like_unordered() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut responses = task::spawn(CallAllUnordered::new(mock, stream::iter(["a", "b"])));

    assert_pending!(responses.poll_next());
    let a = assert_request_eq!(handle, "a");
    assert_request_eq!(handle, "b").send_response("b done");
    assert_eq!(assert_next_ok!(responses.poll_next()), "b done");
    a.send_response("a done");
    assert_eq!(assert_next_ok!(responses.poll_next()), "a done");
    assert_ended!(responses.poll_next());
}

#[tokio::test]
async fn call_all_stays_pending_while_a_response_is_outstanding_and_the_stream_is_open() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let (tx, rx) = mpsc::unbounded();
    let mut responses = task::spawn(mock.call_all(rx));

    assert_pending!(responses.poll_next());
    tx.unbounded_send("req").unwrap();
    assert_pending!(responses.poll_next());

    assert_request_eq!(handle, "req").send_response("res");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "res");
    assert_pending!(responses.poll_next(), "more requests may still come");
}

#[tokio::test]
async fn call_all_yields_a_readiness_error_then_the_responses_in_flight_then_ends() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(1);
    let service = Counting::new(mock);
    let counts = service.counts();
    let mut responses = task::spawn(service.call_all(stream::iter(["req0", "req1", "req2"])));

    assert_pending!(responses.poll_next(), "req0 sent; req1 waits for capacity");
    assert_eq!(counts.calls(), 1);

    handle.send_error("boom");
    assert!(responses.is_woken());
    let error = assert_next_err!(responses.poll_next());
    assert_eq!(error.to_string(), "boom");

    let polls_at_error = counts.poll_ready();
    assert_pending!(responses.poll_next(), "req0's response is still due");
    assert_request_eq!(handle, "req0").send_response("res0");
    assert!(responses.is_woken());
    assert_eq!(assert_next_ok!(responses.poll_next()), "res0");
    assert_ended!(responses.poll_next());

    assert_eq!(counts.calls(), 1, "nothing is called after the error");
    assert_eq!(
        counts.poll_ready(),
        polls_at_error,
        "nor asked for readiness"
    );
    assert!(
        handle.poll_request().is_pending(),
        "req1 and req2 never went out"
    );
}

#[tokio::test]
async fn call_all_yields_response_errors_as_items_and_carries_on() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut responses = task::spawn(mock.call_all(stream::iter(["a", "b"])));

    assert_pending!(responses.poll_next());
    assert_request_eq!(handle, "a").send_error("a failed");
    assert_request_eq!(handle, "b").send_response("b done");

    let error = assert_next_err!(responses.poll_next());
    assert_eq!(error.to_string(), "a failed");
    assert_eq!(assert_next_ok!(responses.poll_next()), "b done");
    assert_ended!(responses.poll_next());
}

#[test]
fn call_all_yields_closed_then_ends_when_the_mock_handle_is_dropped() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);
    let mut responses = task::spawn(mock.call_all(stream::iter(["a", "b"])));
    assert_pending!(responses.poll_next());

    drop(handle);
    assert!(responses.is_woken());
    let error = assert_next_err!(responses.poll_next());
    assert!(error.is::<Closed>(), "unexpected error: {error}");
    assert_ended!(responses.poll_next());
}

#[test]
fn call_all_over_an_empty_stream_ends_without_touching_the_service() {
    let service = Counting::new(Echo);
    let counts = service.counts();
    let mut responses = task::spawn(service.call_all(stream::empty::<u8>()));
    assert_ended!(responses.poll_next());
    assert_eq!(counts.poll_ready(), 0);
    assert_eq!(counts.calls(), 0);
}

#[tokio::test]
async fn call_all_over_an_idle_stream_never_reserves_the_service_capacity() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(1);

    // A stream that never yields: `call_all` must not ask the service for
    // readiness, since a `Ready` could hold the only unit of capacity.
    let idle = Counting::new(mock.clone());
    let counts = idle.counts();
    let mut idle_responses = task::spawn(idle.call_all(stream::pending::<&str>()));
    for _ in 0..3 {
        assert_pending!(idle_responses.poll_next());
    }
    assert_eq!(
        counts.poll_ready(),
        0,
        "readiness is only asked with a request in hand"
    );

    // The one call the mock allows goes to another caller.
    let mut other = task::spawn(mock.oneshot("req"));
    assert_pending!(other.poll());
    assert_request_eq!(handle, "req").send_response("res");
    assert_eq!(assert_ready_ok!(other.poll()), "res");

    assert_pending!(idle_responses.poll_next());
    assert_eq!(counts.poll_ready(), 0);
}

#[tokio::test]
async fn take_service_hands_back_the_service_still_connected_to_its_backend() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let mut responses = task::spawn(mock.call_all(stream::iter(["a"])));
    assert_pending!(responses.poll_next());
    assert_request_eq!(handle, "a").send_response("a done");
    assert_eq!(assert_next_ok!(responses.poll_next()), "a done");

    let mut service: MockService = responses.enter(|_, responses| responses.take_service());
    let response = service.ready().await.unwrap().call("direct");
    assert_request_eq!(handle, "direct").send_response("direct done");
    assert_eq!(response.await.unwrap(), "direct done");
}

#[test]
#[should_panic(expected = "Using CallAll after extracting inner Service")]
fn call_all_polled_with_a_request_after_take_service_panics() {
    let mut responses = task::spawn(Echo.call_all(stream::iter([1_u8])));
    let _service: Echo = responses.enter(|_, responses| responses.take_service());
    let _ = responses.poll_next();
}

#[test]
#[should_panic(expected = "Service already taken")]
fn call_all_into_inner_after_take_service_panics() {
    let mut responses = task::spawn(Echo.call_all(stream::iter([1_u8])));
    let _service: Echo = responses.enter(|_, responses| responses.take_service());
    let _ = responses.into_inner().into_inner();
}

#[test]
#[should_panic(expected = "Service already taken")]
fn call_all_take_service_twice_panics() {
    let mut responses = task::spawn(Echo.call_all(stream::iter([1_u8])));
    let _service: Echo = responses.enter(|_, responses| responses.take_service());
    let _again: Echo = responses.enter(|_, responses| responses.take_service());
}

#[test]
#[should_panic(expected = "Service already taken")]
fn call_all_unordered_into_inner_after_take_service_panics() {
    let mut responses = task::spawn(Echo.call_all(stream::iter([1_u8])).unordered());
    let _service: Echo = responses.enter(|_, responses| responses.take_service());
    let _ = responses.into_inner().into_inner();
}

#[tokio::test]
#[should_panic(expected = "unordered")]
async fn unordered_after_a_request_went_out_panics() {
    let (mock, _handle) = mock::pair::<&str, &str>();
    let mut responses = task::spawn(mock.call_all(stream::iter(["a", "b"])));
    assert_pending!(responses.poll_next());
    let _ = responses.into_inner().unordered();
}

#[test]
#[should_panic(expected = "unordered")]
fn unordered_after_the_request_stream_ended_panics() {
    let mut responses = task::spawn(Echo.call_all(stream::empty::<u8>()));
    assert_ended!(responses.poll_next());
    let _ = responses.into_inner().unordered();
}

#[tokio::test]
async fn unordered_after_polling_an_idle_stream_is_allowed() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let (tx, rx) = mpsc::unbounded();
    let mut responses = task::spawn(mock.call_all(rx));
    assert_pending!(responses.poll_next());

    let mut responses = task::spawn(responses.into_inner().unordered());
    tx.unbounded_send("late").unwrap();
    assert_pending!(responses.poll_next());
    assert_request_eq!(handle, "late").send_response("late done");
    assert_eq!(assert_next_ok!(responses.poll_next()), "late done");
}

#[tokio::test]
async fn unordered_keeps_a_request_that_was_waiting_for_readiness() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    handle.allow(0);
    let mut responses = task::spawn(mock.call_all(stream::iter(["held"])));
    assert_pending!(
        responses.poll_next(),
        "`held` is pulled, the service is not ready"
    );

    let mut responses = task::spawn(responses.into_inner().unordered());
    handle.allow(1);
    assert_pending!(responses.poll_next());
    assert_request_eq!(handle, "held").send_response("held done");
    assert_eq!(assert_next_ok!(responses.poll_next()), "held done");
    assert_ended!(responses.poll_next());
}

#[tokio::test]
async fn dropping_call_all_drops_the_service_and_leaves_sent_requests_with_the_mock() {
    let (mock, mut handle) = mock::pair::<&str, &str>();
    let (tx, rx) = mpsc::unbounded();
    let mut responses = task::spawn(mock.call_all(rx));
    tx.unbounded_send("in flight").unwrap();
    assert_pending!(responses.poll_next());
    drop(responses);

    assert_request_eq!(handle, "in flight").send_response("nobody listens");
    assert!(
        handle.next_request().await.is_none(),
        "the service went with it"
    );
    assert!(
        tx.unbounded_send("too late").is_err(),
        "the request stream went too"
    );
}

#[test]
fn call_all_debug_shows_the_service_the_stream_and_whether_it_ended() {
    let requests = stream::iter(vec![1_u8]);
    let stream_text = format!("{requests:?}");
    let mut responses = task::spawn(CallAll::new(Echo, requests));
    let text = format!("{:?}", *responses);
    assert!(text.starts_with("CallAll {"), "{text}");
    assert!(text.contains("service: Some(Echo)"), "{text}");
    assert!(text.contains(&format!("stream: {stream_text}")), "{text}");
    assert!(text.contains("eof: false"), "{text}");

    assert_eq!(assert_next_ok!(responses.poll_next()), 1);
    assert_ended!(responses.poll_next());
    assert!(format!("{:?}", *responses).contains("eof: true"));

    let unordered = Echo.call_all(stream::iter(vec![1_u8])).unordered();
    let text = format!("{unordered:?}");
    assert!(text.starts_with("CallAllUnordered {"), "{text}");
    assert!(text.contains("service: Some(Echo)"), "{text}");
}

#[test]
fn call_all_with_an_always_ready_service_answers_everything() {
    let mut responses = task::spawn(Echo.call_all(stream::iter(1..=3_u8)));
    let mut seen = Vec::new();
    while let Poll::Ready(Some(item)) = responses.poll_next() {
        seen.push(item.unwrap());
    }
    assert_eq!(seen, [1, 2, 3]);
    assert_ended!(responses.poll_next());
}
