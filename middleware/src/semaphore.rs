//! Waiting for a semaphore permit from `poll_ready`, for the middleware that
//! reserve capacity with a semaphore.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};

use crate::sync::is_withdrawal;

type Acquire =
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send + Sync>>;

/// A semaphore that can be polled for a permit.
///
/// A free permit is taken without waiting (and without allocating); only
/// when none is free does it queue up, behind the callers already waiting,
/// with a boxed acquire future kept until a permit arrives.
pub(crate) struct PollSemaphore {
    semaphore: Arc<Semaphore>,
    waiting: Option<Acquire>,
}

impl PollSemaphore {
    pub(crate) fn new(semaphore: Arc<Semaphore>) -> Self {
        PollSemaphore {
            semaphore,
            waiting: None,
        }
    }

    /// Polls for a permit, registering the task's waker while none is free;
    /// `Err` once the semaphore is closed.
    ///
    /// The permit is taken out of the semaphore and forgotten: the caller
    /// owns it and gives it back with [`Semaphore::add_permits`]`(1)` on
    /// [`semaphore`](Self::semaphore), which keeps its record of a permit
    /// down to one pointer.
    pub(crate) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let waiting = match &mut self.waiting {
            Some(waiting) => waiting,
            None => match self.semaphore.try_acquire() {
                Ok(permit) => {
                    permit.forget();
                    return Poll::Ready(Ok(()));
                }
                Err(TryAcquireError::NoPermits) => self
                    .waiting
                    .insert(Box::pin(Arc::clone(&self.semaphore).acquire_owned())),
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(Closed)),
            },
        };
        let Poll::Ready(permit) = waiting.as_mut().poll(cx) else {
            if is_withdrawal(cx.waker()) {
                // The caller stops waiting: leave the semaphore's queue.
                self.waiting = None;
            }
            return Poll::Pending;
        };
        self.waiting = None;
        Poll::Ready(permit.map(OwnedSemaphorePermit::forget).map_err(|_| Closed))
    }

    /// Whether the caller is in the semaphore's queue.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the concurrency limit reports waits")
    )]
    pub(crate) fn is_waiting(&self) -> bool {
        self.waiting.is_some()
    }

    /// The semaphore the permits are taken from.
    pub(crate) fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

/// The semaphore was closed: no permit will ever be given.
#[derive(Debug)]
pub(crate) struct Closed;

impl Clone for PollSemaphore {
    fn clone(&self) -> Self {
        // A clone shares the semaphore but not a place in its queue.
        PollSemaphore::new(Arc::clone(&self.semaphore))
    }
}

impl fmt::Debug for PollSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollSemaphore")
            .field("semaphore", &self.semaphore)
            .field("waiting", &self.waiting.is_some())
            .finish()
    }
}
