use std::task::{Context, Poll};
use std::time::Duration;

use donjon_service::Service;
use tokio::time::Instant;

use super::future::ResponseFuture;
use crate::BoxError;
use crate::deadline::{Deadline, DeadlineFor, NoDeadline};

/// Fails each request that the inner service does not answer within a set
/// duration.
///
/// The clock starts at `call`. A response that is ready when first polled
/// costs no timer at all: the timer is only set up the first time the inner
/// future is not ready. When the inner future and the deadline are ready at
/// the same poll, the response wins.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the inner service's errors as they
/// are, and [`Elapsed`](super::error::Elapsed) for a request that timed out.
///
/// # Cancellation
///
/// When the deadline passes, the inner response future is dropped, which
/// cancels the request if the inner service supports it.
///
/// # Panics
///
/// Polling a response future that is still waiting on the inner service
/// needs a tokio runtime with its time driver enabled.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::timeout::Timeout;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let slow = service_fn(|()| async {
///     tokio::time::sleep(Duration::from_secs(10)).await;
///     Ok::<_, BoxError>(())
/// });
/// let error = Timeout::new(slow, Duration::from_secs(1)).oneshot(()).await.unwrap_err();
/// assert_eq!(error.to_string(), "request timed out");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Timeout<S, D = NoDeadline> {
    inner: S,
    timeout: Duration,
    deadlines: D,
}

impl<S> Timeout<S> {
    /// Wraps `inner`, failing requests that take longer than `timeout`.
    pub const fn new(inner: S, timeout: Duration) -> Self {
        Timeout {
            inner,
            timeout,
            deadlines: NoDeadline,
        }
    }
}

impl<S, D> Timeout<S, D> {
    /// Ends each call at the earlier of the timeout and the request's
    /// [`Deadline`], read with `deadlines` (see
    /// [`deadline`](crate::deadline)).
    pub fn with_deadlines<D2>(self, deadlines: D2) -> Timeout<S, D2> {
        Timeout {
            inner: self.inner,
            timeout: self.timeout,
            deadlines,
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

impl<S, D, Req> Service<Req> for Timeout<S, D>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    D: DeadlineFor<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        // A deadline past what `Instant` can hold is no deadline.
        let own = Instant::now().checked_add(self.timeout).map(Deadline::at);
        let deadline = Deadline::earliest(own, self.deadlines.deadline_for(&request));
        ResponseFuture::new(self.inner.call(request), deadline.map(Deadline::instant))
    }
}
