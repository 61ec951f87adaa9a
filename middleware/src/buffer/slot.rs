//! Where the inner service lives: behind a lock shared by the worker and,
//! for buffers made with [`Buffer::new`](super::Buffer::new), the handles,
//! which may call a ready service directly instead of waking the worker.

use std::any::Any;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::TryLockError;
use std::task::{Context, Poll, Waker};

use donjon_service::Service;

use super::channel::{Channel, WorkerError};
use super::error::{Panicked, ServiceError};
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
        match catch_unwind(AssertUnwindSafe(|| service.poll_ready(&mut cx))) {
            Ok(Poll::Ready(Ok(()))) => {}
            Ok(Poll::Pending) => return Direct::Declined(request),
            Ok(Poll::Ready(Err(error))) => {
                drop(guard);
                return Direct::Failed(fail(channel, error.into()));
            }
            Err(panic) => {
                drop(guard);
                return Direct::Failed(fail(channel, panicked(panic)));
            }
        }
        match catch_unwind(AssertUnwindSafe(|| service.call(request))) {
            Ok(future) => Direct::Called(future),
            Err(panic) => {
                drop(guard);
                Direct::Failed(fail(channel, panicked(panic)))
            }
        }
    }
}

/// Closes the buffer after the service failed, as the worker would, and
/// returns the error for the request that found out.
fn fail<Req, F>(channel: &Channel<Req, F>, cause: BoxError) -> BoxError {
    tracing::debug!(error = %cause, "buffered service failed; closing the buffer");
    let error = WorkerError::Failed(ServiceError::new(cause));
    channel.close(error.share());
    error.to_error()
}

/// The error for a panic of the inner service, with its message.
pub(super) fn panicked(payload: Box<dyn Any + Send>) -> BoxError {
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
