//! Misuse and construction: `call` without readiness, a zero bound,
//! building outside a runtime; `BufferLayer`, `ServiceBuilder::buffer`, and
//! the auto traits of a buffer in front of a `!Sync` service.

use std::cell::Cell;
use std::future::{Ready, poll_fn, ready};
use std::task::{Context, Poll};

use donjon::buffer::{Buffer, BufferLayer};
use donjon::{BoxError, Layer, Service, ServiceBuilder};
use donjon_test::{assert_request_eq, mock};
use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::support::{Echo, ready_and_call};
use crate::{Msg, new_buffer};

#[test]
#[should_panic(expected = "readiness contract")]
fn call_without_poll_ready_panics_naming_the_readiness_contract() {
    let (mut service, _handle, _worker) = new_buffer(1);
    let _response = service.call("hello");
}

#[test]
#[should_panic(expected = "readiness contract")]
fn a_second_call_after_one_poll_ready_panics() {
    let (mut service, _handle, _worker) = new_buffer(2);
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("hello 1");
    let _second = service.call("hello 2");
}

#[test]
#[should_panic(expected = "readiness contract")]
fn call_after_poll_ready_was_pending_panics() {
    let (mut service, _handle, _worker) = new_buffer(1);
    let mut other = service.clone();
    assert_ready_ok!(other.poll_ready());
    assert_pending!(service.poll_ready());
    let _response = service.call("hello");
}

#[test]
#[should_panic(expected = "readiness contract")]
fn a_clone_of_a_ready_handle_cannot_call_without_its_own_poll_ready() {
    let (mut service, _handle, _worker) = new_buffer(1);
    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    let _response = clone.call("hello");
}

#[test]
fn a_call_without_poll_ready_sends_nothing_and_takes_no_place() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _response = service.call("hello");
    }));
    assert!(caught.is_err());

    assert_pending!(worker.poll());
    assert_pending!(handle.poll_request(), "nothing was sent");
    assert_ready_ok!(service.poll_ready(), "the place is still free");
}

#[test]
#[should_panic(expected = "a Buffer's bound must be at least 1")]
fn a_bound_of_zero_panics_in_pair() {
    let (mock, _handle) = mock::pair::<Msg, Msg>();
    let _ = Buffer::pair(mock, 0);
}

#[tokio::test]
#[should_panic(expected = "a Buffer's bound must be at least 1")]
async fn a_bound_of_zero_panics_in_new() {
    let (mock, _handle) = mock::pair::<Msg, Msg>();
    let _ = Buffer::new(mock, 0);
}

#[tokio::test]
#[should_panic(expected = "a Buffer's bound must be at least 1")]
async fn a_bound_of_zero_panics_when_the_layer_is_applied() {
    let layer = BufferLayer::new(0);
    let (mock, _handle) = mock::pair::<Msg, Msg>();
    let _ = layer.layer(mock);
}

#[test]
#[should_panic(expected = "runtime")]
fn new_outside_a_runtime_panics() {
    let (mock, _handle) = mock::pair::<Msg, Msg>();
    let _ = Buffer::new(mock, 1);
}

#[test]
fn buffer_layer_is_copy_and_shows_its_bound() {
    let layer = BufferLayer::<Msg>::new(5);
    let copy = layer;
    assert_eq!(format!("{layer:?}"), "BufferLayer { bound: 5 }");
    assert_eq!(format!("{copy:?}"), "BufferLayer { bound: 5 }");
    #[expect(clippy::clone_on_copy, reason = "checks that Clone is implemented")]
    let clone = layer.clone();
    assert_eq!(format!("{clone:?}"), "BufferLayer { bound: 5 }");
}

#[tokio::test]
async fn buffer_layer_and_service_builder_make_a_working_buffer() {
    let mut from_layer = BufferLayer::new(5).layer(Echo);
    assert_eq!(
        ready_and_call(&mut from_layer, "hello").await.unwrap(),
        "hello"
    );

    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    let service = ServiceBuilder::new().buffer(5).service(mock);
    let mut service = mock::Spawn::new(service);
    assert_ready_ok!(service.poll_ready());
    let response = tokio::spawn(service.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap().unwrap(), "world");
}

/// Counts its calls in a `Cell`: `Send` but not `Sync`.
#[derive(Debug, Default)]
struct NotSync {
    calls: Cell<usize>,
}

impl Service<Msg> for NotSync {
    type Response = usize;
    type Error = BoxError;
    type Future = Ready<Result<usize, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Msg) -> Self::Future {
        self.calls.set(self.calls.get() + 1);
        ready(Ok(self.calls.get()))
    }
}

fn assert_clone_send_sync<T: Clone + Send + Sync + 'static>(_: &T) {}
fn assert_send<T: Send + 'static>(_: &T) {}

#[test]
fn a_buffer_is_clone_send_and_sync_even_for_a_service_that_is_not_sync() {
    let (service, worker) = Buffer::pair(NotSync::default(), 1);
    assert_clone_send_sync(&service);
    assert_send(&worker);

    let mut worker = task::spawn(worker);
    let mut responses = Vec::new();
    for _ in 0..3 {
        let mut caller = mock::Spawn::new(service.clone());
        assert_ready_ok!(caller.poll_ready());
        let response = caller.call("hello");
        assert_send(&response);
        responses.push(task::spawn(response));
        assert_pending!(worker.poll());
    }
    for (expected, response) in (1..).zip(&mut responses) {
        assert_eq!(assert_ready_ok!(response.poll()), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_that_is_not_sync_is_shared_by_tasks_on_many_threads() {
    let service = Buffer::new(NotSync::default(), 2);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let mut service = service.clone();
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for _ in 0..25 {
                    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                    answers.push(service.call("hello").await.unwrap());
                }
                answers
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.extend(task.await.unwrap());
    }
    answers.sort_unstable();
    assert_eq!(answers, (1..=200).collect::<Vec<_>>(), "one call at a time");
}

#[cfg(all(feature = "limit", feature = "retry", feature = "util"))]
mod builder {
    use std::future::Ready;
    use std::time::Duration;

    use donjon::retry::Policy;
    use donjon::{ServiceBuilder, ServiceExt};
    use donjon_test::{assert_request_eq, mock};

    /// Never retries.
    #[derive(Clone, Copy, Debug)]
    struct NoRetry;

    impl<Req: Clone, Res, E> Policy<Req, Res, E> for NoRetry {
        type Future = Ready<()>;

        fn retry(&mut self, _: &mut Req, _: &mut Result<Res, E>) -> Option<Self::Future> {
            None
        }

        fn clone_request(&mut self, request: &Req) -> Option<Req> {
            Some(request.clone())
        }
    }

    #[tokio::test]
    async fn a_stack_under_a_buffer_delivers_the_mapped_request_and_answers() {
        let (mock, mut handle) = mock::pair::<bool, &'static str>();
        let service = ServiceBuilder::new()
            .buffer(5)
            .concurrency_limit(5)
            .rate_limit(5, Duration::from_secs(5))
            .retry(NoRetry)
            .map_response(|response: &'static str| response == "world")
            .map_request(|request: &'static str| request == "hello")
            .service(mock);

        let response = tokio::spawn(service.oneshot("hello"));
        assert_request_eq!(handle, true).send_response("world");
        assert!(response.await.unwrap().unwrap());
    }
}
