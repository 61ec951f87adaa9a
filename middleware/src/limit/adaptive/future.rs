//! The response future of
//! [`AdaptiveConcurrencyLimit`](super::AdaptiveConcurrencyLimit).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;
use tokio::time::Instant;

use super::algorithm::Algorithm;
use super::limiter::Permit;
use crate::classify::Classify;

/// The response future of
/// [`AdaptiveConcurrencyLimit`](super::AdaptiveConcurrencyLimit): the inner
/// response, holding a slot of the limiter until it is ready.
///
/// When the response is ready, its latency (since `call`) and outcome go to
/// the algorithm, then the slot goes back. Dropped before that, it gives
/// the slot back and reports nothing.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, A, C> {
    #[pin]
    inner: F,
    /// Reported and given back as soon as the response is ready, or given
    /// back with the future.
    permit: Option<Permit<A, C>>,
    /// When `call` was made.
    start: Instant,
}

impl<F, A, C> ResponseFuture<F, A, C> {
    pub(super) fn new(inner: F, permit: Permit<A, C>, start: Instant) -> Self {
        ResponseFuture {
            inner,
            permit: Some(permit),
            start,
        }
    }
}

impl<F, A, C, Res, E> Future for ResponseFuture<F, A, C>
where
    F: Future<Output = Result<Res, E>>,
    A: Algorithm,
    C: Classify<Res, E>,
{
    type Output = Result<Res, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        if let Some(permit) = this.permit.take() {
            permit.complete(&output, this.start.elapsed());
        }
        Poll::Ready(output)
    }
}

impl<F: fmt::Debug, A, C> fmt::Debug for ResponseFuture<F, A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .field("holds_slot", &self.permit.is_some())
            .field("start", &self.start)
            .finish()
    }
}
