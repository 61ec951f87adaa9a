//! [`ResponseFuture`], the future of a request through [`Metrics`](super::Metrics).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project::{pin_project, pinned_drop};
use tokio::time::Instant;

use super::kind::kind_index;
use super::service::Handles;

/// The response future of [`Metrics`](super::Metrics): the inner service's,
/// recording the request's outcome and duration when it finishes, or its
/// cancellation when dropped first.
#[pin_project(PinnedDrop)]
#[must_use = "futures do nothing unless polled"]
pub struct ResponseFuture<F> {
    #[pin]
    inner: F,
    handles: Arc<Handles>,
    started: Instant,
    finished: bool,
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, handles: Arc<Handles>, started: Instant) -> Self {
        ResponseFuture {
            inner,
            handles,
            started,
            finished: false,
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: 'static,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if !*this.finished {
            *this.finished = true;
            let handles = &**this.handles;
            handles
                .duration
                .record(this.started.elapsed().as_secs_f64());
            handles.in_flight.decrement(1.0);
            if let Err(error) = &result {
                handles.errors[kind_index(error)].increment(1);
            }
        }
        Poll::Ready(result)
    }
}

#[pinned_drop]
impl<F> PinnedDrop for ResponseFuture<F> {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if !*this.finished {
            this.handles.in_flight.decrement(1.0);
            this.handles.cancelled.increment(1);
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("name", &&*self.handles.name)
            .field("started", &self.started)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
