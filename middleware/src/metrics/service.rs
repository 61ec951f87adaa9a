use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use donjon_service::Service;
use metrics::{Counter, Gauge, Histogram, SharedString};
use tokio::time::Instant;

use super::future::ResponseFuture;
use super::kind::KINDS;
use super::names;

/// Records, for each request through it, the RED metrics of the service it
/// wraps: requests, errors by kind, duration, and requests in flight (see the
/// [module's table](super)).
///
/// # Errors
///
/// Passes the inner service's errors through unchanged; each is counted in
/// `donjon_request_errors_total` with its [kind](super::error_kind).
///
/// # Cancellation
///
/// A response future dropped before it finishes counts in
/// `donjon_requests_cancelled_total`, and leaves the requests in flight.
///
/// # Costs
///
/// Per request: two clock reads (tokio's clock, which follows a paused test
/// clock) and four updates of the recorder's handles (five on failure), all
/// taken when the service is made. Nothing is recorded readiness-wise:
/// `poll_ready` is the inner service's.
pub struct Metrics<S> {
    inner: S,
    handles: Arc<Handles>,
}

pub(super) struct Handles {
    pub(super) name: SharedString,
    pub(super) requests: Counter,
    pub(super) cancelled: Counter,
    pub(super) duration: Histogram,
    pub(super) in_flight: Gauge,
    /// One per kind, in the order of [`KINDS`].
    pub(super) errors: [Counter; KINDS.len()],
}

impl<S> Metrics<S> {
    /// Wraps `inner`, recording under the `name` label. The handles are taken
    /// from the recorder installed now.
    pub fn new(inner: S, name: impl Into<Cow<'static, str>>) -> Self {
        let name: SharedString = match name.into() {
            Cow::Borrowed(name) => SharedString::const_str(name),
            Cow::Owned(name) => SharedString::from_owned(name),
        };
        let label = || [(names::NAME, name.clone())];
        let handles = Handles {
            requests: metrics::counter!(names::REQUESTS, &label()),
            cancelled: metrics::counter!(names::REQUESTS_CANCELLED, &label()),
            duration: metrics::histogram!(names::REQUEST_DURATION, &label()),
            in_flight: metrics::gauge!(names::REQUESTS_IN_FLIGHT, &label()),
            errors: KINDS.map(|kind| {
                let labels = [(names::NAME, name.clone()), (names::KIND, kind.into())];
                metrics::counter!(names::REQUEST_ERRORS, &labels)
            }),
            name,
        };
        Metrics {
            inner,
            handles: Arc::new(handles),
        }
    }

    /// The name label of its metrics.
    pub fn name(&self) -> &str {
        &self.handles.name
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service; the metrics stop.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for Metrics<S>
where
    S: Service<Req>,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.handles.requests.increment(1);
        self.handles.in_flight.increment(1.0);
        let started = Instant::now();
        ResponseFuture::new(self.inner.call(request), Arc::clone(&self.handles), started)
    }
}

impl<S: Clone> Clone for Metrics<S> {
    fn clone(&self) -> Self {
        Metrics {
            inner: self.inner.clone(),
            handles: Arc::clone(&self.handles),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Metrics<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("inner", &self.inner)
            .field("name", &self.name())
            .finish()
    }
}
