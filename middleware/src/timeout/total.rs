//! [`TotalTimeout`]: a timeout that also bounds the wait for readiness.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use donjon_layer::Layer;
use donjon_service::Service;
use tokio::time::{Instant, Sleep};

use super::future::TotalResponseFuture;
use crate::BoxError;
use crate::deadline::{Deadline, DeadlineFor, NoDeadline};

/// Fails requests whose wait for readiness plus response takes longer than
/// a set duration.
///
/// [`Timeout`](super::Timeout) starts its clock at `call`, so a request
/// stuck behind a rate limit or a full concurrency limit waits for ever.
/// `TotalTimeout` starts the clock at the first `poll_ready` that finds the
/// inner service not ready (or at `call`, if it was ready at once), and the
/// same deadline covers the call.
///
/// When the time runs out while waiting, `poll_ready` turns `Ready` (it
/// does not fail: an error from `poll_ready` would mean the service is
/// broken, and a balancer or buffer would drop it), and the next `call`
/// fails at once with [`Elapsed`](super::error::Elapsed) without reaching
/// the inner service.
///
/// # Errors
///
/// [`Elapsed`](super::error::Elapsed) when the time is up, waiting or
/// answering; the inner service's errors as they are, boxed.
///
/// # Backpressure
///
/// The inner service's `Pending` reaches the caller until the deadline; then
/// the caller is let through to fail fast.
///
/// # Cancellation
///
/// Dropping the response future drops the inner one and its timer. A clone
/// starts with no wait in progress.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, Layer, ServiceExt};
/// use donjon::limit::ConcurrencyLimitLayer;
/// use donjon::timeout::TotalTimeoutLayer;
/// use donjon::timeout::error::Elapsed;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let slow = donjon::service_fn(|ms: u64| async move {
///     tokio::time::sleep(Duration::from_millis(ms)).await;
///     Ok::<_, BoxError>(ms)
/// });
/// let service = TotalTimeoutLayer::new(Duration::from_millis(100))
///     .layer(ConcurrencyLimitLayer::new(1).layer(slow));
///
/// let busy = tokio::spawn(service.clone().oneshot(80));
/// tokio::task::yield_now().await;
/// // Waits 80 ms for the permit, then has 20 ms left: not enough for 50.
/// let error = service.clone().oneshot(50).await.unwrap_err();
/// assert!(error.is::<Elapsed>());
/// assert_eq!(busy.await??, 80);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TotalTimeout<S, D = NoDeadline> {
    inner: S,
    timeout: Duration,
    /// How each request's deadline is read.
    deadlines: D,
    /// The timer of the current (or last) wait, kept for reuse.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether `timer` times a wait in progress.
    waiting: bool,
    /// Whether the deadline passed while waiting: the next call fails.
    expired: bool,
}

impl<S> TotalTimeout<S> {
    /// Wraps `inner`, bounding wait plus response by `timeout`.
    pub const fn new(inner: S, timeout: Duration) -> Self {
        TotalTimeout {
            inner,
            timeout,
            deadlines: NoDeadline,
            timer: None,
            waiting: false,
            expired: false,
        }
    }
}

impl<S, D> TotalTimeout<S, D> {
    /// Ends each call at the earlier of its own deadline and the request's
    /// [`Deadline`], read with `deadlines` (see
    /// [`deadline`](crate::deadline)). The wait for readiness comes before
    /// the request is known: it is bounded by the timeout alone.
    pub fn with_deadlines<D2>(self, deadlines: D2) -> TotalTimeout<S, D2> {
        TotalTimeout {
            inner: self.inner,
            timeout: self.timeout,
            deadlines,
            timer: self.timer,
            waiting: self.waiting,
            expired: self.expired,
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

impl<S: Clone, D: Clone> Clone for TotalTimeout<S, D> {
    fn clone(&self) -> Self {
        TotalTimeout::new(self.inner.clone(), self.timeout).with_deadlines(self.deadlines.clone())
    }
}

impl<S, D, Req> Service<Req> for TotalTimeout<S, D>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    D: DeadlineFor<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = TotalResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if self.expired {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(result) => Poll::Ready(result.map_err(Into::into)),
            Poll::Pending => {
                let timer = match &mut self.timer {
                    Some(timer) if self.waiting => timer,
                    // Too far to hold: a timer that never fires soon.
                    slot => crate::time::reset_sleep(
                        slot,
                        crate::time::deadline(Instant::now(), self.timeout),
                    ),
                };
                self.waiting = true;
                if timer.as_mut().poll(cx).is_ready() {
                    // Out of time: the services below give back what they
                    // hold or queue for (a concurrency limit's place in its
                    // queue), unless they became ready just now; then the
                    // call goes ahead and meets its deadline, already past.
                    match crate::sync::withdraw(&mut self.inner) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(error)) => {
                            self.waiting = false;
                            return Poll::Ready(Err(error.into()));
                        }
                        Poll::Pending => self.expired = true,
                    }
                    return Poll::Ready(Ok(()));
                }
                Poll::Pending
            }
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let waited = std::mem::take(&mut self.waiting);
        if std::mem::take(&mut self.expired) {
            return TotalResponseFuture::elapsed();
        }
        let own = match (&self.timer, waited) {
            (Some(timer), true) => Some(timer.deadline()),
            _ => Instant::now().checked_add(self.timeout),
        };
        let deadline =
            Deadline::earliest(own.map(Deadline::at), self.deadlines.deadline_for(&request));
        TotalResponseFuture::called(self.inner.call(request), deadline.map(Deadline::instant))
    }
}

/// Wraps services in a [`TotalTimeout`].
#[derive(Debug, Clone, Copy)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TotalTimeoutLayer<D = NoDeadline> {
    timeout: Duration,
    deadlines: D,
}

impl TotalTimeoutLayer {
    /// A layer bounding wait plus response by `timeout`.
    pub const fn new(timeout: Duration) -> Self {
        TotalTimeoutLayer {
            timeout,
            deadlines: NoDeadline,
        }
    }
}

impl<D> TotalTimeoutLayer<D> {
    /// Makes its services end each call at the earlier of their own
    /// deadline and the request's, read with `deadlines`; see
    /// [`TotalTimeout::with_deadlines`].
    pub fn with_deadlines<D2>(self, deadlines: D2) -> TotalTimeoutLayer<D2> {
        TotalTimeoutLayer {
            timeout: self.timeout,
            deadlines,
        }
    }
}

impl<S, D: Clone> Layer<S> for TotalTimeoutLayer<D> {
    type Service = TotalTimeout<S, D>;

    fn layer(&self, inner: S) -> Self::Service {
        TotalTimeout::new(inner, self.timeout).with_deadlines(self.deadlines.clone())
    }
}
