//! [`Spawn`]: a service with a mock task of its own, to poll it without an
//! executor.
//!
//! Use it to drive the service under test step by step: its
//! [`poll_ready`](Spawn::poll_ready) needs no [`Context`](std::task::Context),
//! and [`is_woken`](Spawn::is_woken) tells whether the service woke the task
//! since it was last polled, which is how tests check that a `Pending` is
//! followed by a wake-up. [`mock::spawn`](super::spawn()) and friends return
//! one already wrapped around a mock.
//!
//! # Examples
//!
//! ```
//! use donjon_test::mock::{self, Spawn};
//! use tokio_test::{assert_pending, assert_ready_ok};
//!
//! let (mock, mut handle) = mock::pair::<(), ()>();
//! let mut service = Spawn::new(mock);
//!
//! handle.allow(0);
//! assert_pending!(service.poll_ready());
//! assert!(!service.is_woken());
//!
//! handle.allow(1);
//! assert!(service.is_woken());
//! assert_ready_ok!(service.poll_ready());
//! ```

use std::task::Poll;

use donjon_service::Service;

/// A service paired with its own mock task.
///
/// Every [`poll_ready`](Self::poll_ready) runs inside that task, whose waker
/// records wake-ups; [`call`](Self::call) forwards to the service as is.
/// Cloning clones the service into a new `Spawn` with a task of its own.
#[derive(Debug)]
pub struct Spawn<T> {
    inner: T,
    task: tokio_test::task::Spawn<()>,
}

impl<T> Spawn<T> {
    /// Wraps `inner` with a fresh mock task.
    pub fn new(inner: T) -> Self {
        Spawn {
            inner,
            task: tokio_test::task::spawn(()),
        }
    }

    /// Whether the task was woken since the last
    /// [`poll_ready`](Self::poll_ready).
    pub fn is_woken(&self) -> bool {
        self.task.is_woken()
    }

    /// How many references to the task's waker exist, the task's own
    /// included (so never zero).
    ///
    /// A service that parked the task holds one more; tests use this to
    /// check that dropping or waking releases it.
    pub fn waker_ref_count(&self) -> usize {
        self.task.waker_ref_count()
    }

    /// Polls the service's readiness with the task's context, after
    /// clearing the task's wake-up flag.
    pub fn poll_ready<Request>(&mut self) -> Poll<Result<(), T::Error>>
    where
        T: Service<Request>,
    {
        self.task.enter(|cx, _| self.inner.poll_ready(cx))
    }

    /// Calls the service. The readiness contract is the caller's business:
    /// this does not poll for readiness first.
    pub fn call<Request>(&mut self, req: Request) -> T::Future
    where
        T: Service<Request>,
    {
        self.inner.call(req)
    }

    /// Unwraps the service, dropping the task.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: Clone> Clone for Spawn<T> {
    fn clone(&self) -> Self {
        Spawn::new(self.inner.clone())
    }
}
