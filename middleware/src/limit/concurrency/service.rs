use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::sync::Semaphore;

use super::future::ResponseFuture;
use super::permits::{Permit, Permits};
use crate::sync::is_withdrawal;

/// Limits how many requests the inner service handles at once.
///
/// `poll_ready` first waits for a permit of the limit's semaphore, then
/// for the inner service; the permit is kept (not taken twice) if the
/// inner service is not ready yet. `call` moves the permit into the
/// response future, which gives it back as soon as the response is ready,
/// fails, or the future is dropped. Clones share the semaphore, and start
/// without a permit.
///
/// # Backpressure
///
/// `poll_ready` is `Pending` while every permit is out; waiting callers are
/// woken one at a time, in the order they started waiting. A limit of 0 is
/// never ready.
///
/// # Cancellation
///
/// A dropped response future, or a dropped service holding an unused permit,
/// gives the permit back.
///
/// # Panics
///
/// `call` panics when no permit is held, that is, without a preceding
/// `poll_ready` returning `Ready(Ok(()))`. `poll_ready` panics if a
/// semaphore handed to [`with_semaphore`](ConcurrencyLimit::with_semaphore)
/// is closed.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::ConcurrencyLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = ConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 5);
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ConcurrencyLimit<S> {
    inner: S,
    permits: Permits,
    /// The permit reserved by `poll_ready` for the next call.
    permit: Option<Permit>,
}

impl<S> ConcurrencyLimit<S> {
    /// Wraps `inner`, letting at most `max` requests in flight at once.
    ///
    /// # Panics
    ///
    /// If `max` is more than [`Semaphore::MAX_PERMITS`].
    pub fn new(inner: S, max: usize) -> Self {
        Self::with_permits(inner, Permits::new(max))
    }

    /// Wraps `inner`, taking a permit of `semaphore` for each request in
    /// flight.
    ///
    /// Sharing one semaphore between services makes them share one limit.
    /// The semaphore must not be closed.
    pub fn with_semaphore(inner: S, semaphore: Arc<Semaphore>) -> Self {
        Self::with_permits(inner, Permits::with_semaphore(semaphore))
    }

    pub(super) fn with_permits(inner: S, permits: Permits) -> Self {
        ConcurrencyLimit {
            inner,
            permits,
            permit: None,
        }
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for ConcurrencyLimit<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.permit.is_none() {
            self.permit = Some(ready!(self.permits.poll_acquire(cx)));
        }
        let ready = self.inner.poll_ready(cx);
        if ready.is_pending() && is_withdrawal(cx.waker()) {
            // The caller stops waiting: the permit is not held for a call
            // that is not coming.
            self.permit = None;
        }
        ready
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let permit = self
            .permit
            .take()
            .expect("max requests in-flight; poll_ready must be called first");
        ResponseFuture::new(self.inner.call(request), permit)
    }
}

impl<S: Clone> Clone for ConcurrencyLimit<S> {
    fn clone(&self) -> Self {
        ConcurrencyLimit {
            inner: self.inner.clone(),
            permits: self.permits.clone(),
            permit: None,
        }
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load> crate::load::Load for ConcurrencyLimit<S> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
