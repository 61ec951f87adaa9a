//! [`RequestTimeout`]: a timeout whose duration each request chooses.

use std::fmt;
use std::task::{Context, Poll};
use std::time::Duration;

use donjon_layer::Layer;
use donjon_service::Service;
use tokio::time::Instant;

use super::future::ResponseFuture;
use crate::BoxError;

/// Chooses a request's timeout.
///
/// Implemented by every `Fn(&Req) -> Option<Duration>` (`None`: no timeout
/// for that request) and by [`OrDefault`].
pub trait TimeoutFor<Req> {
    /// The timeout of `request`, or `None` for none.
    fn timeout_for(&self, request: &Req) -> Option<Duration>;
}

impl<F, Req> TimeoutFor<Req> for F
where
    F: Fn(&Req) -> Option<Duration>,
{
    #[inline]
    fn timeout_for(&self, request: &Req) -> Option<Duration> {
        self(request)
    }
}

/// The timeout a function reads from the request, or a default when it
/// gives `None`: for requests that may carry their own timeout.
///
/// Made by [`RequestTimeout::with_default`] and
/// [`RequestTimeoutLayer::with_default`].
#[derive(Clone, Copy)]
pub struct OrDefault<F> {
    read: F,
    default: Duration,
}

impl<F, Req> TimeoutFor<Req> for OrDefault<F>
where
    F: Fn(&Req) -> Option<Duration>,
{
    #[inline]
    fn timeout_for(&self, request: &Req) -> Option<Duration> {
        Some((self.read)(request).unwrap_or(self.default))
    }
}

impl<F> fmt::Debug for OrDefault<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrDefault")
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

/// Fails requests that take longer than their own timeout, chosen per
/// request by a [`TimeoutFor`].
///
/// Like [`Timeout`](super::Timeout), the clock starts at `call`, no timer
/// is made for a response ready at its first poll, and readiness is not
/// bounded (see [`TotalTimeout`](super::TotalTimeout) for that). A request
/// whose timeout is `None`, or too long for the clock to hold, has none.
///
/// # Errors
///
/// [`Elapsed`](super::error::Elapsed) when a request's time is up; the inner
/// service's errors as they are, boxed.
///
/// # Cancellation
///
/// Dropping the response future drops the inner one and the timer.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::timeout::RequestTimeout;
/// use donjon::timeout::error::Elapsed;
///
/// /// A request that may carry its own deadline.
/// struct Query {
///     work: Duration,
///     timeout: Option<Duration>,
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let worker = service_fn(|query: Query| async move {
///     tokio::time::sleep(query.work).await;
///     Ok::<_, BoxError>("done")
/// });
/// // The request's timeout, or one second.
/// let service = RequestTimeout::with_default(worker, Duration::from_secs(1), |query: &Query| query.timeout);
///
/// let quick = Query { work: Duration::from_millis(500), timeout: None };
/// assert_eq!(service.clone().oneshot(quick).await?, "done");
/// let impatient = Query { work: Duration::from_millis(500), timeout: Some(Duration::from_millis(100)) };
/// assert!(service.oneshot(impatient).await.unwrap_err().is::<Elapsed>());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RequestTimeout<S, P> {
    inner: S,
    timeout_for: P,
}

impl<S, P> RequestTimeout<S, P> {
    /// Wraps `inner`, timing each request out after what `timeout_for`
    /// says (`None`: no timeout).
    pub const fn new(inner: S, timeout_for: P) -> Self {
        RequestTimeout { inner, timeout_for }
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

impl<S, F> RequestTimeout<S, OrDefault<F>> {
    /// Wraps `inner`, timing each request out after the timeout `read`
    /// finds in it, or after `default` when it finds none.
    pub const fn with_default(inner: S, default: Duration, read: F) -> Self {
        RequestTimeout::new(inner, OrDefault { read, default })
    }
}

impl<S, P, Req> Service<Req> for RequestTimeout<S, P>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    P: TimeoutFor<Req>,
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
        let deadline = self
            .timeout_for
            .timeout_for(&request)
            .and_then(|timeout| Instant::now().checked_add(timeout));
        ResponseFuture::new(self.inner.call(request), deadline)
    }
}

/// Wraps services in a [`RequestTimeout`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct RequestTimeoutLayer<P> {
    timeout_for: P,
}

impl<P> RequestTimeoutLayer<P> {
    /// A layer timing each request out after what `timeout_for` says.
    pub const fn new(timeout_for: P) -> Self {
        RequestTimeoutLayer { timeout_for }
    }
}

impl<F> RequestTimeoutLayer<OrDefault<F>> {
    /// A layer timing each request out after the timeout `read` finds in
    /// it, or after `default`.
    pub const fn with_default(default: Duration, read: F) -> Self {
        RequestTimeoutLayer::new(OrDefault { read, default })
    }
}

impl<S, P: Clone> Layer<S> for RequestTimeoutLayer<P> {
    type Service = RequestTimeout<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTimeout::new(inner, self.timeout_for.clone())
    }
}
