//! Waiting for a semaphore permit from `poll_ready`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};

type Acquire =
    Pin<Box<dyn Future<Output = Result<OwnedSemaphorePermit, AcquireError>> + Send + Sync>>;

/// A semaphore that can be polled for a permit.
///
/// A free permit is taken without waiting (and without allocating); only
/// when none is free does it queue up, behind the callers already waiting,
/// with a boxed acquire future kept until a permit arrives.
pub(super) struct PollSemaphore {
    semaphore: Arc<Semaphore>,
    waiting: Option<Acquire>,
}

impl PollSemaphore {
    pub(super) fn new(semaphore: Arc<Semaphore>) -> Self {
        PollSemaphore {
            semaphore,
            waiting: None,
        }
    }

    /// Polls for a permit, registering the task's waker while none is free.
    ///
    /// # Panics
    ///
    /// If the semaphore was closed (only possible for one handed over by the
    /// user).
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<OwnedSemaphorePermit> {
        let waiting = match &mut self.waiting {
            Some(waiting) => waiting,
            None => match Arc::clone(&self.semaphore).try_acquire_owned() {
                Ok(permit) => return Poll::Ready(permit),
                Err(TryAcquireError::NoPermits) => self
                    .waiting
                    .insert(Box::pin(Arc::clone(&self.semaphore).acquire_owned())),
                Err(TryAcquireError::Closed) => closed(),
            },
        };
        let permit = ready!(waiting.as_mut().poll(cx));
        self.waiting = None;
        Poll::Ready(permit.unwrap_or_else(|_| closed()))
    }
}

fn closed() -> ! {
    panic!(
        "ConcurrencyLimit's semaphore was closed; a semaphore given to a concurrency limit must stay open"
    )
}

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
