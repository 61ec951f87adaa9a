//! Direct calls: a `Buffer` made with `new` calls a free, ready inner
//! service from the caller's task instead of waking the worker, as long as
//! nothing is queued. Everything else still goes through the worker.

use std::future::{Ready, poll_fn};
use std::task::{Context, Poll};

use donjon::buffer::Buffer;
use donjon::{BoxError, Service};
use donjon_test::{assert_request_eq, mock};
use tokio_test::{assert_pending, assert_ready_ok};

use crate::end_to_end::PanicsInCall;
use crate::support::ready;
use crate::{Msg, assert_panicked, assert_service_error};

type Direct = Buffer<Msg, mock::future::ResponseFuture<Msg>>;

fn direct_buffer(bound: usize) -> (mock::Spawn<Direct>, crate::Handle) {
    let (service, handle) = mock::pair();
    (mock::Spawn::new(Buffer::new(service, bound)), handle)
}

/// Checks that the call of `"hello"` whose response is `response` reached
/// the service without an await since it was made (it was direct), then
/// answers it with `"world"`.
async fn answer_at_once(
    handle: &mut crate::Handle,
    response: impl std::future::Future<Output = Result<Msg, BoxError>>,
) {
    let (request, reply) = match handle.poll_request() {
        Poll::Ready(Some(request)) => request,
        other => panic!(
            "the request did not reach the service at once: {:?}",
            other.is_ready()
        ),
    };
    assert_eq!(request, "hello");
    reply.send_response("world");
    assert_eq!(response.await.expect("a response"), "world");
}

#[tokio::test(flavor = "current_thread")]
async fn a_free_ready_service_is_called_from_the_callers_task() {
    let (mut buffer, mut handle) = direct_buffer(4);
    assert_ready_ok!(buffer.poll_ready());
    let response = buffer.call("hello");
    // No await since the call: the worker task has not run, yet the request
    // has reached the service.
    answer_at_once(&mut handle, response).await;
    // Its place in the queue came back.
    for _ in 0..4 {
        assert_ready_ok!(buffer.poll_ready());
        drop(buffer.call("more"));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_service_that_is_not_ready_is_driven_by_the_worker_and_order_is_kept() {
    let (mut buffer, mut handle) = direct_buffer(4);
    handle.allow(0);
    assert_ready_ok!(buffer.poll_ready());
    let one = buffer.call("one");
    assert_pending!(handle.poll_request(), "not ready: queued for the worker");

    // The service is ready again, but "one" is queued: "two" must not
    // overtake it.
    handle.allow(2);
    assert_ready_ok!(buffer.poll_ready());
    let two = buffer.call("two");
    assert_pending!(handle.poll_request(), "queued behind one");

    let responses = tokio::spawn(async move { (one.await, two.await) });
    assert_request_eq!(handle, "one").send_response("uno");
    assert_request_eq!(handle, "two").send_response("dos");
    let (one, two) = responses.await.expect("the caller task");
    assert_eq!(one.expect("uno"), "uno");
    assert_eq!(two.expect("dos"), "dos");
}

#[tokio::test(flavor = "current_thread")]
async fn a_readiness_error_found_directly_fails_the_buffer_for_everyone() {
    let (mut buffer, mut handle) = direct_buffer(4);
    let mut other = buffer.get_ref().clone();
    handle.send_error("boom");
    assert_ready_ok!(buffer.poll_ready());
    let error = buffer.call("doomed").await.expect_err("the service failed");
    assert_service_error(&error, "boom");
    let error = ready(&mut other).await.expect_err("the buffer is closed");
    assert_service_error(&error, "boom");
    // The worker learns of it and ends: the service is dropped.
    tokio::task::yield_now().await;
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the service was dropped"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_a_direct_call_fails_the_buffer_with_its_message() {
    let mut buffer = Buffer::new(PanicsInCall, 4);
    ready(&mut buffer).await.expect("ready");
    let error = buffer.call("explode").await.expect_err("the call panicked");
    assert_panicked(&error, "asked to explode");
    let error = ready(&mut buffer).await.expect_err("the buffer is closed");
    assert_panicked(&error, "asked to explode");
}

#[tokio::test(flavor = "current_thread")]
async fn a_buffer_made_with_pair_never_calls_directly() {
    let (service, mut handle) = mock::pair::<Msg, Msg>();
    let (buffer, worker) = Buffer::pair(service, 4);
    let mut buffer = mock::Spawn::new(buffer);
    assert_ready_ok!(buffer.poll_ready());
    let response = buffer.call("hello");
    assert_pending!(handle.poll_request(), "only the worker calls the service");
    tokio::spawn(worker);
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.expect("a response"), "world");
}

/// Ready at most `1 / every` polls: the rest are `Pending` with an immediate
/// wake-up, so requests go both ways (direct, and through the worker).
#[derive(Debug, Clone)]
struct Flaky {
    polls: u64,
    every: u64,
}

impl Service<u64> for Flaky {
    type Response = u64;
    type Error = BoxError;
    type Future = Ready<Result<u64, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.polls += 1;
        if self.polls % self.every == 0 {
            cx.waker().wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(Ok(()))
        }
    }

    fn call(&mut self, request: u64) -> Self::Future {
        std::future::ready(Ok(request * 2))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue_6_many_threads_direct_and_queued_lose_nothing_and_give_every_place_back() {
    const BOUND: usize = 8;
    let buffer = Buffer::new(Flaky { polls: 0, every: 3 }, BOUND);
    let callers: Vec<_> = (0..32u64)
        .map(|caller| {
            let mut buffer = buffer.clone();
            tokio::spawn(async move {
                for i in 0..300u64 {
                    let n = caller * 1_000 + i;
                    poll_fn(|cx| buffer.poll_ready(cx)).await.expect("ready");
                    let response = buffer.call(n);
                    if n % 5 == 0 {
                        drop(response);
                    } else {
                        assert_eq!(response.await.expect("answered"), n * 2);
                    }
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.expect("no caller panics");
    }
    // Every place came back: BOUND handles each reserve one at once.
    let mut handles: Vec<_> = (0..BOUND)
        .map(|_| mock::Spawn::new(buffer.clone()))
        .collect();
    for handle in &mut handles {
        assert_ready_ok!(handle.poll_ready());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn direct_calls_resume_once_cancelled_requests_are_dropped_from_a_long_queue() {
    let (mut buffer, mut handle) = direct_buffer(1);
    handle.allow(0);
    // Each request is queued (the service is not ready) and cancelled at
    // once, freeing its place; the worker does not run meanwhile, so the
    // cancelled requests pile up until the queue drops them.
    for _ in 0..40 {
        assert_ready_ok!(buffer.poll_ready());
        drop(buffer.call("cancelled"));
    }
    // The worker skips what is left of them.
    tokio::task::yield_now().await;
    assert_pending!(handle.poll_request(), "no cancelled request was sent");

    handle.allow(1);
    assert_ready_ok!(buffer.poll_ready());
    let response = buffer.call("hello");
    // Nothing is waiting for the worker any more: the call is direct, and
    // the request has reached the service without an await.
    answer_at_once(&mut handle, response).await;
}
