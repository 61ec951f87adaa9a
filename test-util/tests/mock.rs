//! Behaviour of `donjon_test::mock` and `assert_request_eq!`.

use std::error::Error;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use donjon_layer::layer_fn;
use donjon_service::Service;
use donjon_test::assert_request_eq;
use donjon_test::mock::{
    self, Handle, Mock, SendResponse, Spawn, error::Closed, future::ResponseFuture,
};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

/// A service that forwards the request's length to its inner service.
struct Length<S> {
    inner: S,
}

impl<S: Service<usize>> Service<&'static str> for Length<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: &'static str) -> S::Future {
        self.inner.call(req.len())
    }
}

fn is_closed(err: &(dyn Error + Send + Sync + 'static)) -> bool {
    err.is::<Closed>()
}

#[tokio::test]
async fn single_request_ready() {
    let (mut service, mut handle) = mock::spawn::<&str, &str>();

    assert_pending!(handle.poll_request());
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("hello"));
    assert_pending!(response.poll());

    assert_request_eq!(handle, "hello").send_response("world");
    assert!(response.is_woken());
    assert_eq!(assert_ready_ok!(response.poll()), "world");
    assert_pending!(handle.poll_request());
}

#[tokio::test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
async fn backpressure() {
    let (mut service, mut handle) = mock::spawn::<&str, &str>();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    let _response = service.call("hello");
}

#[test]
fn call_without_poll_ready_panics_even_with_allowance() {
    let (mut service, _handle) = mock::spawn::<&str, &str>();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| service.call("hello")));
    let payload = result.expect_err("call without poll_ready must panic");
    let message = payload.downcast_ref::<&str>().copied().unwrap_or_default();
    assert_eq!(
        message,
        "service not ready; poll_ready must be called first"
    );

    // The panic did not break the mock: the readiness protocol still works.
    assert_ready_ok!(service.poll_ready());
    let _response = service.call("hello");
}

#[test]
fn a_call_spends_one_allowance() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(2);
    for n in 0..2 {
        assert_ready_ok!(service.poll_ready());
        let _response = service.call(n);
    }
    assert_pending!(service.poll_ready());
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(0)
    );
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(1)
    );
}

#[test]
fn poll_ready_reserves_without_spending() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(1);
    // Polling again while reserved does not take a second call.
    for _ in 0..3 {
        assert_ready_ok!(service.poll_ready());
    }
    let _response = service.call(0);
    assert_pending!(service.poll_ready());
}

#[test]
fn allow_sets_rather_than_adds() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(1);
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let _first = service.call(1);
    assert_pending!(service.poll_ready(), "allow(1) twice must allow one call");

    handle.allow(3);
    handle.allow(1);
    assert_ready_ok!(service.poll_ready());
    let _second = service.call(2);
    assert_pending!(
        service.poll_ready(),
        "a later allow replaces an earlier one"
    );
}

#[test]
fn allow_zero_keeps_a_reservation_already_taken() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    handle.allow(0);
    assert_ready_ok!(service.poll_ready());
    let _response = service.call(7);
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(7)
    );
    assert_pending!(service.poll_ready());
}

#[test]
fn allow_wakes_a_parked_mock() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert!(!service.is_woken());

    handle.allow(0);
    assert!(!service.is_woken(), "allow(0) must not wake");

    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());
}

#[test]
fn allow_wakes_every_parked_clone() {
    let (mut first, mut handle) = mock::spawn::<u8, u8>();
    let mut second = first.clone();

    handle.allow(0);
    assert_pending!(first.poll_ready());
    assert_pending!(second.poll_ready());

    handle.allow(1);
    assert!(first.is_woken());
    assert!(second.is_woken());
}

#[test]
fn several_clones_can_reserve_the_last_allowed_call() {
    let (mut first, mut handle) = mock::spawn::<u8, u8>();
    let mut second = first.clone();

    handle.allow(1);
    assert_ready_ok!(first.poll_ready());
    assert_ready_ok!(second.poll_ready());

    let _a = first.call(1);
    let _b = second.call(2);
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(1)
    );
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(2)
    );

    assert_pending!(first.poll_ready());
    assert_pending!(second.poll_ready());
}

#[test]
fn send_error_is_seen_by_the_first_poller_only() {
    let (mut first, mut handle) = mock::spawn::<u8, u8>();
    let mut second = first.clone();

    handle.send_error("boom");
    let err = assert_ready_err!(first.poll_ready());
    assert_eq!(err.to_string(), "boom");

    assert_ready_ok!(second.poll_ready());
    assert_ready_ok!(first.poll_ready());
}

#[test]
fn send_error_comes_before_a_reservation() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    handle.send_error("boom");
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
}

#[test]
fn send_error_wakes_a_parked_mock() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.send_error("boom");
    assert!(service.is_woken());
    assert_eq!(assert_ready_err!(service.poll_ready()).to_string(), "boom");
    assert_pending!(service.poll_ready(), "the error is delivered once");
}

#[test]
fn dropping_the_handle_closes_the_mock() {
    let (mut service, handle) = mock::spawn::<u8, u8>();

    drop(handle);
    let err = assert_ready_err!(service.poll_ready());
    assert!(is_closed(&*err));
    assert_eq!(err.to_string(), "service closed");
}

#[tokio::test]
async fn a_call_after_the_handle_is_dropped_resolves_to_closed() {
    let (mut service, handle) = mock::spawn::<u8, u8>();

    // Not even a reservation is needed: the call does not panic.
    drop(handle);
    let err = service.call(1).await.unwrap_err();
    assert!(is_closed(&*err));
}

#[tokio::test]
async fn dropping_the_handle_resolves_calls_in_flight_to_closed() {
    let (mut service, handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(1));
    assert_pending!(response.poll());

    drop(handle);
    assert!(response.is_woken());
    assert!(is_closed(&*assert_ready_err!(response.poll())));
}

#[test]
fn dropping_the_handle_wakes_parked_mocks() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    handle.allow(0);
    assert_pending!(service.poll_ready());
    let waker_refs = service.waker_ref_count();

    drop(handle);
    assert!(service.is_woken());
    assert_eq!(service.waker_ref_count(), waker_refs - 1);
    assert!(is_closed(&*assert_ready_err!(service.poll_ready())));
}

#[test]
fn dropping_a_send_response_resolves_to_closed() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(1));
    assert_pending!(response.poll());

    let (_, send_response) = assert_ready!(handle.poll_request()).unwrap();
    drop(send_response);
    assert!(response.is_woken());
    assert!(is_closed(&*assert_ready_err!(response.poll())));
}

#[test]
fn send_response_error_reaches_the_caller() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call(1));

    let (_, send_response) = assert_ready!(handle.poll_request()).unwrap();
    send_response.send_error("bad request");
    let err = assert_ready_err!(response.poll());
    assert!(!is_closed(&*err));
    assert_eq!(err.to_string(), "bad request");
}

#[test]
fn answering_a_dropped_response_future_is_ignored() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    drop(service.call(1));
    assert_ready_ok!(service.poll_ready());
    drop(service.call(2));

    let (_, first) = assert_ready!(handle.poll_request()).unwrap();
    first.send_response(1);
    let (_, second) = assert_ready!(handle.poll_request()).unwrap();
    second.send_error("ignored");
}

#[test]
fn poll_request_ends_once_every_mock_is_dropped() {
    let (service, mut handle) = mock::spawn::<u8, u8>();
    let mut clone = service.clone();

    drop(service);
    assert_pending!(handle.poll_request(), "a clone is still alive");

    assert_ready_ok!(clone.poll_ready());
    let _response = clone.call(5);
    drop(clone);

    // The queue is drained before the end is reported.
    assert_eq!(
        assert_ready!(handle.poll_request()).map(|(n, _)| n),
        Some(5)
    );
    assert!(assert_ready!(handle.poll_request()).is_none());
}

#[tokio::test]
async fn next_request_returns_none_after_all_mocks_are_dropped() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    let _response = service.call(3);
    drop(service);

    assert_eq!(handle.next_request().await.map(|(n, _)| n), Some(3));
    assert!(handle.next_request().await.is_none());
}

#[test]
fn next_request_waits_for_a_call() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    {
        let mut next = task::spawn(handle.next_request());
        assert_pending!(next.poll());

        assert_ready_ok!(service.poll_ready());
        let _response = service.call(9);
        assert!(next.is_woken());
        assert_eq!(assert_ready!(next.poll()).map(|(n, _)| n), Some(9));
    }

    let mut next = task::spawn(handle.next_request());
    assert_pending!(next.poll());
    drop(service);
    assert!(next.is_woken());
    assert!(assert_ready!(next.poll()).is_none());
}

#[test]
fn clones_do_not_inherit_reservations() {
    let (mut service, mut handle) = mock::spawn::<u8, u8>();

    assert_ready_ok!(service.poll_ready());
    handle.allow(0);

    let mut clone = service.clone();
    assert_pending!(clone.poll_ready());
    // The original keeps its own reservation.
    assert_ready_ok!(service.poll_ready());
}

#[test]
#[should_panic(expected = "service not ready; poll_ready must be called first")]
fn a_clone_of_a_ready_mock_must_poll_ready_itself() {
    let (mut mock, _handle) = mock::pair::<u8, u8>();
    let mut cx = Context::from_waker(std::task::Waker::noop());

    assert!(matches!(mock.poll_ready(&mut cx), Poll::Ready(Ok(()))));
    let mut clone = mock.clone();
    let _response = clone.call(1);
}

#[test]
fn dropping_a_parked_mock_deregisters_its_waker() {
    let (mut mock, mut handle) = mock::pair::<u8, u8>();
    let mut other = mock.clone();
    let mut mock_task = task::spawn(());
    let mut other_task = task::spawn(());

    handle.allow(0);
    assert_eq!(mock_task.waker_ref_count(), 1);
    assert_pending!(mock_task.enter(|cx, _| mock.poll_ready(cx)));
    assert_pending!(other_task.enter(|cx, _| other.poll_ready(cx)));
    assert_eq!(mock_task.waker_ref_count(), 2);

    // Polling again replaces the parked waker rather than adding one.
    assert_pending!(mock_task.enter(|cx, _| mock.poll_ready(cx)));
    assert_eq!(mock_task.waker_ref_count(), 2);

    drop(mock);
    assert_eq!(mock_task.waker_ref_count(), 1);
    // The other clone stays parked.
    assert_eq!(other_task.waker_ref_count(), 2);
    assert!(!other_task.is_woken());
    handle.allow(1);
    assert!(other_task.is_woken());
    assert_eq!(other_task.waker_ref_count(), 1);
}

#[test]
fn spawn_clone_gets_its_own_task() {
    let (mut first, mut handle) = mock::spawn::<u8, u8>();
    let mut second = first.clone();

    handle.allow(0);
    assert_pending!(first.poll_ready());
    assert_eq!(first.waker_ref_count(), 2);
    assert_eq!(second.waker_ref_count(), 1);

    handle.allow(1);
    assert!(first.is_woken());
    assert!(!second.is_woken(), "the clone never parked");
    assert_ready_ok!(second.poll_ready());
}

#[test]
fn spawn_gives_access_to_the_service() {
    let mut service = Spawn::new(Length { inner: 0_u8 });
    assert_eq!(service.get_ref().inner, 0);
    service.get_mut().inner = 4;
    assert_eq!(service.into_inner().inner, 4);
}

#[tokio::test]
async fn spawn_with_wraps_the_mock() {
    let (mut service, mut handle) =
        mock::spawn_with(|mock: Mock<usize, &str>| Length { inner: mock });

    handle.allow(0);
    assert_pending!(service.poll_ready());
    handle.allow(1);
    assert!(service.is_woken());
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("four"));
    assert_request_eq!(handle, 4).send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

#[tokio::test]
async fn spawn_layer_wraps_the_mock() {
    let (mut service, mut handle) =
        mock::spawn_layer::<usize, &str, _>(layer_fn(|inner| Length { inner }));

    handle.send_error("inner failed");
    assert_eq!(
        assert_ready_err!(service.poll_ready()).to_string(),
        "inner failed"
    );
    assert_ready_ok!(service.poll_ready());

    let mut response = task::spawn(service.call("seven!!"));
    assert_request_eq!(handle, 7).send_response("ok");
    assert_eq!(assert_ready_ok!(response.poll()), "ok");
}

/// Sends `req` through `service` after checking readiness.
fn send(
    service: &mut Spawn<Mock<&'static str, &'static str>>,
    req: &'static str,
) -> task::Spawn<ResponseFuture<&'static str>> {
    assert_ready_ok!(service.poll_ready());
    task::spawn(service.call(req))
}

#[tokio::test]
async fn assert_request_eq_takes_a_handle() {
    let (mut service, mut handle) = mock::spawn();
    let mut response = send(&mut service, "hello");
    let send_response: SendResponse<&str> = assert_request_eq!(handle, "hello");
    send_response.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn assert_request_eq_takes_a_mutable_reference() {
    let (mut service, mut handle) = mock::spawn();
    let handle_ref: &mut Handle<&str, &str> = &mut handle;
    let mut response = send(&mut service, "hello");
    assert_request_eq!(handle_ref, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
async fn assert_request_eq_takes_a_pinned_handle() {
    let (mut service, handle) = mock::spawn();
    let mut handle = pin!(handle);
    let mut response = send(&mut service, "hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    let mut response = send(&mut service, "again");
    assert_request_eq!(handle.as_mut(), "again").send_response("done");
    assert_eq!(assert_ready_ok!(response.poll()), "done");
}

#[tokio::test]
async fn assert_request_eq_takes_a_message() {
    let (mut service, mut handle) = mock::spawn();
    let mut response = send(&mut service, "hello");
    let expected = "hello";
    assert_request_eq!(handle, expected, "request {} was not {}", 1, expected)
        .send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test]
#[should_panic(expected = "wrong request number 1")]
async fn assert_request_eq_mismatch_panics_with_the_message() {
    let (mut service, mut handle) = mock::spawn();
    let _response = send(&mut service, "hello");
    let _ = assert_request_eq!(handle, "goodbye", "wrong request number {}", 1);
}

#[tokio::test]
#[should_panic(expected = "assertion `left == right` failed")]
async fn assert_request_eq_mismatch_panics() {
    let (mut service, mut handle) = mock::spawn();
    let _response = send(&mut service, "hello");
    let _ = assert_request_eq!(handle, "goodbye");
}

#[tokio::test]
#[should_panic(expected = "expected a request but none was received.")]
async fn assert_request_eq_panics_when_every_mock_is_gone() {
    let (service, mut handle) = mock::spawn::<&str, &str>();
    drop(service);
    let _ = assert_request_eq!(handle, "hello");
}

#[test]
fn closed_displays_service_closed() {
    let (mut mock, handle) = mock::pair::<u8, u8>();
    drop(handle);
    let err = mock.call(1);
    let err = tokio_test::block_on(err).unwrap_err();
    let closed = err.downcast_ref::<Closed>().expect("a Closed error");
    assert_eq!(closed.to_string(), "service closed");
    assert!(closed.source().is_none());
}

#[test]
fn debug_output_needs_no_debug_parameters() {
    struct Opaque;
    let (mock, handle) = mock::pair::<Opaque, Opaque>();
    assert!(format!("{mock:?}").starts_with("Mock"));
    assert!(format!("{handle:?}").starts_with("Handle"));
}

#[test]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn unpin<T: Unpin>() {}
    fn error<T: Error + Send + Sync + 'static>() {}

    send_sync::<Mock<String, String>>();
    send_sync::<Handle<String, String>>();
    send_sync::<SendResponse<String>>();
    send_sync::<ResponseFuture<String>>();
    send_sync::<Spawn<Mock<String, String>>>();
    error::<Closed>();

    unpin::<Handle<String, String>>();
    unpin::<ResponseFuture<String>>();
    unpin::<Mock<String, String>>();

    fn send_future<F: Future + Send>(_: F) {}
    let (_mock, mut handle) = mock::pair::<String, String>();
    send_future(handle.next_request());
}

#[tokio::test]
async fn assert_request_eq_works_without_being_imported() {
    let (mut service, mut handle) = mock::spawn();
    let mut response = send(&mut service, "hello");
    donjon_test::assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}
