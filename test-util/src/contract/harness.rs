//! [`Harness`]: one service under test, its mock, and the means to drive
//! them step by step without losing a panic or a wake-up.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_layer::Layer;
use donjon_service::Service;

use crate::mock::{self, Handle, Mock, SendResponse, Spawn};

/// How many times the task yields to the executor to let background work
/// (worker tasks, spawned readiness drivers) run before the next step.
const SETTLE_YIELDS: usize = 16;

/// How many times a readiness or response is polled, settling in between,
/// before the kit concludes it stays `Pending`.
pub(super) const ATTEMPTS: usize = 8;

/// A panic caught while driving the service, with its message.
#[derive(Debug)]
pub(super) struct Panicked {
    pub(super) message: String,
}

/// Runs `f`, turning a panic into [`Panicked`].
///
/// The panic is still reported by the panic hook (the test harness captures
/// that output for passing tests).
pub(super) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panicked> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Panicked {
        message: panic_message(payload.as_ref()),
    })
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a payload that is not a string".to_owned()
    }
}

/// Yields to the executor once: wakes the task and returns `Pending` the
/// first time it is polled.
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Lets the executor run whatever else is ready, a few times over.
pub(super) async fn settle() {
    for _ in 0..SETTLE_YIELDS {
        YieldNow { yielded: false }.await;
    }
}

/// A response future, polled with a mock task of its own.
pub(super) struct Response<F> {
    future: tokio_test::task::Spawn<F>,
}

impl<F: Future> Response<F> {
    pub(super) fn new(future: F) -> Self {
        Response {
            future: tokio_test::task::spawn(future),
        }
    }

    /// Polls once.
    pub(super) fn poll(&mut self) -> Result<Poll<F::Output>, Panicked> {
        catch(|| self.future.poll())
    }

    /// Polls until it is ready, settling in between, at most
    /// [`ATTEMPTS`] times.
    pub(super) async fn poll_settled(&mut self) -> Result<Poll<F::Output>, Panicked> {
        for _ in 1..ATTEMPTS {
            if let Poll::Ready(output) = self.poll()? {
                return Ok(Poll::Ready(output));
            }
            settle().await;
        }
        self.poll()
    }
}

/// The service under test, built by the layer around a fresh mock, with the
/// mock's handle.
pub(super) struct Harness<S, T, U> {
    pub(super) service: Spawn<S>,
    pub(super) handle: Handle<T, U>,
    /// The answers to the requests that reached the mock, kept unanswered
    /// so that those calls stay in flight until the harness is dropped.
    in_flight: Vec<SendResponse<U>>,
}

impl<S, T, U> Harness<S, T, U> {
    /// Builds the service with `layer` around a fresh mock.
    pub(super) fn new<L>(layer: &L) -> Self
    where
        L: Layer<Mock<T, U>, Service = S>,
    {
        let (mock, handle) = mock::pair();
        Harness {
            service: Spawn::new(layer.layer(mock)),
            handle,
            in_flight: Vec::new(),
        }
    }

    /// Polls the service's readiness once, with its mock task.
    pub(super) fn poll_ready<R>(&mut self) -> Result<Poll<Result<(), S::Error>>, Panicked>
    where
        S: Service<R>,
    {
        catch(|| self.service.poll_ready())
    }

    /// Polls the service's readiness until it is not `Pending`, settling in
    /// between, at most [`ATTEMPTS`] times.
    pub(super) async fn poll_ready_settled<R>(
        &mut self,
    ) -> Result<Poll<Result<(), S::Error>>, Panicked>
    where
        S: Service<R>,
    {
        for _ in 1..ATTEMPTS {
            let poll = self.poll_ready()?;
            if poll.is_ready() {
                return Ok(poll);
            }
            settle().await;
        }
        self.poll_ready()
    }

    /// Calls the service.
    pub(super) fn call<R>(&mut self, request: R) -> Result<Response<S::Future>, Panicked>
    where
        S: Service<R>,
    {
        catch(|| self.service.call(request)).map(Response::new)
    }

    /// Takes the requests that reached the mock since last time, keeping
    /// them unanswered, and returns how many there were.
    pub(super) fn take_requests(&mut self) -> usize {
        let mut count = 0;
        while let Poll::Ready(Some((_request, answer))) = self.handle.poll_request() {
            self.in_flight.push(answer);
            count += 1;
        }
        count
    }

    /// How many times a clone of the mock was called without its readiness.
    pub(super) fn unready_calls(&self) -> u64 {
        self.handle.unready_calls()
    }
}
