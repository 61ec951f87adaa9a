//! Where the inner service lives: behind a lock shared by the worker and,
//! for buffers made with [`Buffer::new`](super::Buffer::new), the handles,
//! which may call a ready service directly instead of waking the worker.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::TryLockError;
use std::task::{Context, Poll, Waker};

use donjon_service::Service;

use super::channel::Channel;
use super::error::Panicked;
use crate::BoxError;
use crate::sync::{Mutex, MutexGuard, lock};

/// How many times a handle tries a busy lock before queueing instead.
const SPINS: u32 = if cfg!(all(test, donjon_loom)) {
    // Under loom each try is a step to explore; declining is always
    // correct, so one try keeps the models small without hiding a case.
    1
} else {
    64
};

/// The inner service, shared by the worker and the handles; `None` once the
/// worker is dropped.
pub(super) struct ServiceSlot<S> {
    service: Mutex<Option<S>>,
}

/// What a handle's attempt at calling the service directly gave.
pub(super) enum Direct<Req, F> {
    /// The service was ready and called: its response future.
    Called(F),
    /// The service failed (its readiness errored, or it panicked); the
    /// buffer is closed, and this is the error for the request.
    Failed(BoxError),
    /// Busy, not ready or gone: the request goes through the queue.
    Declined(Req),
}

/// Calling the service directly, without naming its type (a [`Buffer`]
/// only names the request and response future types).
///
/// [`Buffer`]: super::Buffer
pub(super) trait DirectCall<Req, F>: Send + Sync {
    /// Calls the service now if nobody else is using it and it is ready.
    fn try_call(&self, channel: &Channel<Req, F>, request: Req) -> Direct<Req, F>;
}

impl<S> ServiceSlot<S> {
    pub(super) fn new(service: S) -> Self {
        ServiceSlot {
            service: Mutex::new(Some(service)),
        }
    }

    /// Locks the service for the worker.
    pub(super) fn lock(&self) -> MutexGuard<'_, Option<S>> {
        lock(&self.service)
    }

    /// Drops the service (the worker is gone).
    pub(super) fn clear(&self) -> Option<S> {
        self.lock().take()
    }
}

impl<S, Req, F> DirectCall<Req, F> for ServiceSlot<S>
where
    S: Service<Req, Future = F> + Send,
    S::Error: Into<BoxError>,
{
    fn try_call(&self, channel: &Channel<Req, F>, request: Req) -> Direct<Req, F> {
        // The lock is only ever held for one `poll_ready` and `call`, so a
        // busy lock is worth a few more tries; never a blocking wait, which
        // could deadlock a service that calls its own buffer.
        let mut tries = 0;
        let mut guard = loop {
            match self.service.try_lock() {
                Ok(guard) => break guard,
                Err(TryLockError::Poisoned(poisoned)) => break poisoned.into_inner(),
                Err(TryLockError::WouldBlock) if tries < SPINS => {
                    tries += 1;
                    std::hint::spin_loop();
                }
                Err(TryLockError::WouldBlock) => return Direct::Declined(request),
            }
        };
        let Some(service) = guard.as_mut() else {
            return Direct::Declined(request);
        };
        // Nobody is woken by this poll: if the service is not ready, the
        // request goes to the worker, which polls again with its own waker.
        let mut cx = Context::from_waker(Waker::noop());
        match poll_ready(service, &mut cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Pending => return Direct::Declined(request),
            Poll::Ready(Err(cause)) => {
                drop(guard);
                return Direct::Failed(fail(channel, cause));
            }
        }
        match call(service, request) {
            Ok(future) => Direct::Called(future),
            Err(cause) => {
                drop(guard);
                Direct::Failed(fail(channel, cause))
            }
        }
    }
}

/// Polls `service`'s readiness; an error, or a panic (as [`Panicked`]), is
/// the cause of the service's failure. Shared by the worker and direct
/// calls.
pub(super) fn poll_ready<S, Req>(
    service: &mut S,
    cx: &mut Context<'_>,
) -> Poll<Result<(), BoxError>>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    match catch_unwind(AssertUnwindSafe(|| service.poll_ready(cx))) {
        Ok(Poll::Ready(result)) => Poll::Ready(result.map_err(Into::into)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(panic) => Poll::Ready(Err(panicked(panic))),
    }
}

/// Calls `service`; a panic (as [`Panicked`]) is the cause of the
/// service's failure. Shared by the worker and direct calls.
pub(super) fn call<S, Req>(service: &mut S, request: Req) -> Result<S::Future, BoxError>
where
    S: Service<Req>,
{
    catch_unwind(AssertUnwindSafe(|| service.call(request))).map_err(panicked)
}

/// The service failed for a handle calling it directly: the buffer closes,
/// and the request gets the error it closed with.
fn fail<Req, F>(channel: &Channel<Req, F>, cause: BoxError) -> BoxError {
    channel.fail(cause, None).to_error()
}

/// The error for a panic of the inner service, with its message.
fn panicked(payload: Box<dyn Any + Send>) -> BoxError {
    let message = if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(the panic's payload is not a string)".to_owned()
    };
    Box::new(Panicked::new(message))
}

impl<S: fmt::Debug> fmt::Debug for ServiceSlot<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.service.try_lock() {
            Ok(service) => fmt::Debug::fmt(&*service, f),
            Err(TryLockError::Poisoned(poisoned)) => fmt::Debug::fmt(&*poisoned.into_inner(), f),
            Err(TryLockError::WouldBlock) => f.write_str("<in use>"),
        }
    }
}
