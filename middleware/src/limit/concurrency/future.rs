//! The response future of [`ConcurrencyLimit`](super::ConcurrencyLimit).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use super::permits::Permit;

/// The response future of [`ConcurrencyLimit`](super::ConcurrencyLimit): the
/// inner response, holding a permit of the limit until it is ready.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    inner: F,
    /// Released as soon as the response is ready, or with the future.
    permit: Option<Permit>,
}

impl<F> ResponseFuture<F> {
    pub(in crate::limit) fn new(inner: F, permit: Permit) -> Self {
        ResponseFuture {
            inner,
            permit: Some(permit),
        }
    }
}

impl<F, Res, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
{
    type Output = Result<Res, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        *this.permit = None;
        Poll::Ready(output)
    }
}

impl<F: fmt::Debug> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .field("holds_permit", &self.permit.is_some())
            .finish()
    }
}
