//! `Buffer::new` on real tokio runtimes: requests from many tasks (and
//! threads) each get their own answer, cancellations leak no place, and the
//! spawned worker ends with its handles.

use std::collections::HashSet;
use std::future::{Ready, poll_fn, ready as ready_future};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use donjon::buffer::Buffer;
use donjon::{BoxError, Service};
use donjon_test::{assert_request_eq, mock};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::oneshot;

use crate::support::{Echo, ready, ready_and_call};
use crate::{Msg, assert_closed, assert_panicked, assert_service_error};

/// A request of the stress tests: (task, sequence number).
type Request = (usize, usize);

/// The answer [`Flaky`] gives to `request`: only that request's.
fn answer_to((task, seq): Request) -> usize {
    task * 1_000_000 + seq
}

/// Often not ready: some polls wake the task at once, some have another
/// task wake it a little later. Checks it is only called when ready, and
/// never twice with the same request; some of its response futures yield
/// before answering. Once it has been called `calls_left` times, its
/// readiness fails with "worn out".
#[derive(Debug)]
struct Flaky {
    polls: u64,
    ready: bool,
    calls_left: usize,
    seen: Arc<Mutex<HashSet<Request>>>,
}

impl Flaky {
    fn new() -> (Self, Arc<Mutex<HashSet<Request>>>) {
        Flaky::wearing_out_after(usize::MAX)
    }

    fn wearing_out_after(calls: usize) -> (Self, Arc<Mutex<HashSet<Request>>>) {
        let seen = Arc::default();
        let flaky = Flaky {
            polls: 0,
            ready: false,
            calls_left: calls,
            seen: Arc::clone(&seen),
        };
        (flaky, seen)
    }
}

impl Service<Request> for Flaky {
    type Response = usize;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<usize, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.calls_left == 0 {
            return Poll::Ready(Err("worn out".into()));
        }
        if self.ready {
            return Poll::Ready(Ok(()));
        }
        self.polls += 1;
        match self.polls % 5 {
            0 => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            1 => {
                let waker = cx.waker().clone();
                tokio::spawn(async move {
                    tokio::task::yield_now().await;
                    waker.wake();
                });
                Poll::Pending
            }
            _ => {
                self.ready = true;
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        assert!(self.ready, "called without being ready");
        self.ready = false;
        self.calls_left -= 1;
        assert!(
            self.seen.lock().unwrap().insert(request),
            "{request:?} was delivered twice"
        );
        Box::pin(async move {
            if request.1 % 3 == 0 {
                tokio::task::yield_now().await;
            }
            Ok(answer_to(request))
        })
    }
}

/// Checks that no place in the queue of a `bound`-request buffer is held:
/// `bound` fresh handles are ready at once, and one more is not.
fn assert_every_place_is_free<S, Req>(service: &S, bound: usize)
where
    S: Service<Req> + Clone,
    S::Error: std::fmt::Debug,
{
    let mut reserving: Vec<S> = (0..=bound).map(|_| service.clone()).collect();
    for (index, handle) in reserving.iter_mut().enumerate() {
        let readiness = ready::<S, Req>(handle).now_or_never();
        if index < bound {
            assert!(
                matches!(readiness, Some(Ok(()))),
                "place {index} of {bound} is taken: {readiness:?}"
            );
        } else {
            assert!(readiness.is_none(), "more places than the bound");
        }
    }
}

/// `tasks` tasks each send `requests` requests through a buffer of `bound`
/// in front of a [`Flaky`] service, each checking its answers; then every
/// request must have reached the service once and every place be free.
async fn stress(tasks: usize, requests: usize, bound: usize) {
    let (flaky, seen) = Flaky::new();
    let service = Buffer::new(flaky, bound);
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let mut service = service.clone();
            tokio::spawn(async move {
                for seq in 0..requests {
                    poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                    let answer = service.call((task, seq)).await.unwrap();
                    assert_eq!(answer, answer_to((task, seq)), "someone else's answer");
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.unwrap();
    }
    assert_eq!(seen.lock().unwrap().len(), tasks * requests);
    assert_every_place_is_free(&service, bound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_tasks_on_many_threads_each_get_their_own_answers() {
    stress(200, 50, 4).await;
}

#[tokio::test]
async fn many_tasks_on_one_thread_each_get_their_own_answers() {
    stress(100, 20, 3).await;
}

/// Sends requests through `service` and gives up on some of them in
/// various ways, as picked by `seq`; checks the answers of the others.
async fn send_and_sometimes_give_up(
    service: &mut Buffer<Request, BoxFuture<'static, Result<usize, BoxError>>>,
    task: usize,
    requests: usize,
) -> Vec<Request> {
    let mut answered = Vec::new();
    for seq in 0..requests {
        let request = (task, seq);
        match (task + seq) % 6 {
            0 => {
                // Reserve a place, then drop the handle without using it.
                let mut clone = service.clone();
                poll_fn(|cx| clone.poll_ready(cx)).await.unwrap();
            }
            1 => {
                poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                drop(service.call(request));
            }
            2 => {
                poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                let mut response = service.call(request);
                let _ = (&mut response).now_or_never();
            }
            3 => {
                poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                let response = service.call(request);
                tokio::task::yield_now().await;
                drop(response);
            }
            _ => {
                poll_fn(|cx| service.poll_ready(cx)).await.unwrap();
                let answer = service.call(request).await.unwrap();
                assert_eq!(answer, answer_to(request), "someone else's answer");
                answered.push(request);
            }
        }
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_giving_up_at_any_point_leak_no_place_and_disturb_no_one() {
    const BOUND: usize = 3;
    let (flaky, seen) = Flaky::new();
    let mut service = Buffer::new(flaky, BOUND);
    let tasks: Vec<_> = (0..100)
        .map(|task| {
            let mut service = service.clone();
            tokio::spawn(async move { send_and_sometimes_give_up(&mut service, task, 60).await })
        })
        .collect();
    let mut answered = Vec::new();
    for task in tasks {
        answered.extend(task.await.unwrap());
    }

    let seen = seen.lock().unwrap().clone();
    for request in &answered {
        assert!(seen.contains(request), "{request:?} was answered unseen");
    }
    assert_every_place_is_free(&service, BOUND);
    let answer = ready_and_call(&mut service, (1_000, 0)).await;
    assert_eq!(answer.unwrap(), answer_to((1_000, 0)), "still serving");
}

/// Sends requests through `service` until one fails; checks the answers
/// before that, and returns how many there were and the error.
async fn send_until_an_error(
    service: &mut Buffer<Request, BoxFuture<'static, Result<usize, BoxError>>>,
    task: usize,
    answered: &AtomicUsize,
) -> (usize, BoxError) {
    for seq in 0.. {
        let request = (task, seq);
        if let Err(error) = poll_fn(|cx| service.poll_ready(cx)).await {
            return (seq, error);
        }
        match service.call(request).await {
            Ok(answer) => {
                assert_eq!(answer, answer_to(request), "someone else's answer");
                answered.fetch_add(1, Ordering::SeqCst);
            }
            Err(error) => return (seq, error),
        }
    }
    unreachable!("a request fails in the end")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_racing_an_inner_failure_all_end_with_the_error() {
    const CALLS: usize = 500;
    let (flaky, seen) = Flaky::wearing_out_after(CALLS);
    let service = Buffer::new(flaky, 2);
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|task| {
            let mut service = service.clone();
            let answered = Arc::clone(&answered);
            tokio::spawn(async move { send_until_an_error(&mut service, task, &answered).await })
        })
        .collect();
    for task in tasks {
        let (_, error) = task.await.unwrap();
        assert_service_error(&error, "worn out");
    }
    assert_eq!(answered.load(Ordering::SeqCst), CALLS);
    assert_eq!(seen.lock().unwrap().len(), CALLS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn callers_racing_an_aborted_worker_all_end_with_closed() {
    let (flaky, _seen) = Flaky::new();
    let (service, worker) = Buffer::pair(flaky, 2);
    let worker = tokio::spawn(worker);
    let answered = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..50)
        .map(|task| {
            let mut service = service.clone();
            let answered = Arc::clone(&answered);
            tokio::spawn(async move { send_until_an_error(&mut service, task, &answered).await })
        })
        .collect();
    while answered.load(Ordering::SeqCst) < 500 {
        tokio::task::yield_now().await;
    }
    worker.abort();
    for task in tasks {
        let (_, error) = task.await.unwrap();
        assert_closed(&error);
    }
}

#[tokio::test]
async fn a_buffer_on_a_current_thread_runtime_delivers_and_answers() {
    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    let mut service = Buffer::new(mock, 2);

    ready(&mut service).await.unwrap();
    let response = service.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");

    handle.allow(0);
    ready(&mut service).await.unwrap();
    let response = tokio::spawn(service.call("later"));
    tokio::task::yield_now().await;
    handle.allow(1);
    assert_request_eq!(handle, "later").send_response("served");
    assert_eq!(response.await.unwrap().unwrap(), "served");
}

/// Forwards to `inner`; tells `dropped` when it is dropped.
#[derive(Debug)]
struct DropSignal<S> {
    inner: S,
    dropped: Option<oneshot::Sender<()>>,
}

impl<S> DropSignal<S> {
    fn new(inner: S) -> (Self, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        let service = DropSignal {
            inner,
            dropped: Some(tx),
        };
        (service, rx)
    }
}

impl<S: Service<R>, R> Service<R> for DropSignal<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> S::Future {
        self.inner.call(request)
    }
}

impl<S> Drop for DropSignal<S> {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(());
        }
    }
}

#[tokio::test]
async fn the_spawned_worker_answers_queued_requests_then_drops_the_service() {
    let (service, dropped) = DropSignal::new(Echo);
    let mut service = Buffer::new(service, 3);
    let mut other = service.clone();

    ready(&mut service).await.unwrap();
    let first = service.call("one");
    ready(&mut other).await.unwrap();
    let second = other.call("two");
    ready(&mut other).await.unwrap();
    let third = other.call("three");
    drop(service);
    drop(other);

    assert_eq!(first.await.unwrap(), "one");
    assert_eq!(second.await.unwrap(), "two");
    assert_eq!(third.await.unwrap(), "three");
    dropped
        .await
        .expect("the worker ended and dropped the service");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spawned_worker_drops_the_service_once_every_handle_is_gone() {
    let (service, dropped) = DropSignal::new(Echo);
    let service = Buffer::new(service, 1);
    let clones: Vec<_> = (0..4).map(|_| service.clone()).collect();
    drop(service);
    for mut clone in clones {
        assert_eq!(ready_and_call(&mut clone, "hi").await.unwrap(), "hi");
    }
    dropped
        .await
        .expect("the worker ended and dropped the service");
}

/// Panics in `call` when asked to explode.
#[derive(Debug)]
pub(crate) struct PanicsInCall;

impl Service<Msg> for PanicsInCall {
    type Response = Msg;
    type Error = BoxError;
    type Future = Ready<Result<Msg, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Msg) -> Self::Future {
        if request == "explode" {
            panic!("asked to explode");
        }
        ready_future(Ok(request))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_spawned_worker_fails_callers_and_spares_the_runtime() {
    let mut service = Buffer::new(PanicsInCall, 2);
    assert_eq!(ready_and_call(&mut service, "fine").await.unwrap(), "fine");

    let error = ready_and_call(&mut service, "explode").await.unwrap_err();
    assert_panicked(&error, "asked to explode");
    let error = ready_and_call(&mut service, "fine").await.unwrap_err();
    assert_panicked(&error, "asked to explode");

    let still_running = tokio::spawn(async { 1 + 1 });
    assert_eq!(still_running.await.unwrap(), 2);
}
