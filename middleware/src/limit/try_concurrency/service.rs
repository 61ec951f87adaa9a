use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use crate::BoxError;
use crate::limit::concurrency::future::ResponseFuture as Called;
use crate::limit::concurrency::permits::{Permit, Permits};
use crate::sync::is_withdrawal;

/// Limits how many requests the inner service handles at once, refusing
/// the requests over the limit at once with
/// [`Overloaded`](super::error::Overloaded) instead of queueing them.
///
/// # Backpressure
///
/// `poll_ready` takes a free permit if there is one, then waits for the
/// inner service (`Pending` while it is not ready, the permit kept). When
/// no permit is free it returns `Ready(Ok(()))` at once, without polling the
/// inner service, and the next `call` fails with `Overloaded` without
/// reaching it. It never queues: there is no order among callers, and a
/// permit that comes back goes to whoever asks next. A limit of 0 refuses
/// every request.
///
/// # Cancellation
///
/// A dropped response future gives its permit back, as does a service
/// dropped while it holds an unused one. A refused call holds nothing.
/// A caller that gives up while the inner service is not ready (polled for
/// the last time by [`LoadShed`](crate::load_shed::LoadShed) or
/// [`TotalTimeout`](crate::timeout::TotalTimeout)) gives its permit back.
///
/// # Errors
///
/// The inner service's errors, boxed, and `Overloaded` for a refused call.
///
/// # Panics
///
/// `new` panics if `max` is more than
/// [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS). `call`
/// panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::TryConcurrencyLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = TryConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 8);
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TryConcurrencyLimit<S> {
    inner: S,
    /// A concurrency limit's permits, only ever taken without queueing.
    permits: Permits,
    /// What `poll_ready` decided for the next call.
    next: Next,
}

#[derive(Debug)]
enum Next {
    /// `poll_ready` has not decided yet.
    Undecided,
    /// A permit, for a call once the inner service is ready.
    Permit(Permit),
    /// No permit was free: the call is refused.
    Refuse,
}

impl<S> TryConcurrencyLimit<S> {
    /// Wraps `inner`, letting at most `max` requests in flight at once and
    /// refusing the others.
    ///
    /// # Panics
    ///
    /// If `max` is more than
    /// [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS).
    pub fn new(inner: S, max: usize) -> Self {
        TryConcurrencyLimit {
            inner,
            permits: Permits::new(max),
            next: Next::Undecided,
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

    /// Returns the inner service, giving back an unused permit.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for TryConcurrencyLimit<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !matches!(self.next, Next::Permit(_)) {
            match self.permits.try_acquire() {
                Some(permit) => self.next = Next::Permit(permit),
                None => {
                    self.next = Next::Refuse;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.next = Next::Undecided;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => {
                if is_withdrawal(cx.waker()) {
                    // The caller stops waiting: no permit held for it.
                    self.next = Next::Undecided;
                }
                Poll::Pending
            }
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        match std::mem::replace(&mut self.next, Next::Undecided) {
            Next::Permit(permit) => {
                ResponseFuture::called(Called::new(self.inner.call(request), permit))
            }
            Next::Refuse => ResponseFuture::refused(),
            Next::Undecided => panic!(
                "TryConcurrencyLimit called before it was ready; poll_ready must return \
                 Ready(Ok(())) before each call"
            ),
        }
    }
}

impl<S: Clone> Clone for TryConcurrencyLimit<S> {
    /// A service sharing the limit, holding no permit.
    fn clone(&self) -> Self {
        TryConcurrencyLimit {
            inner: self.inner.clone(),
            permits: self.permits.clone(),
            next: Next::Undecided,
        }
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load> crate::load::Load for TryConcurrencyLimit<S> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
