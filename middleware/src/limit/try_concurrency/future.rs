//! The response future of [`TryConcurrencyLimit`](super::TryConcurrencyLimit).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use crate::BoxError;
use crate::limit::concurrency::future::ResponseFuture as Called;
use crate::overloaded::Overloaded;

/// The response future of
/// [`TryConcurrencyLimit`](super::TryConcurrencyLimit): the inner response,
/// holding a permit of the limit until it is ready (as a
/// [`ConcurrencyLimit`](crate::limit::ConcurrencyLimit)'s does), or
/// `Overloaded` at once for a refused request.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    /// `None` for a refused request.
    #[pin]
    called: Option<Called<F>>,
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(called: Called<F>) -> Self {
        ResponseFuture {
            called: Some(called),
        }
    }

    pub(super) fn refused() -> Self {
        ResponseFuture { called: None }
    }
}

impl<F, Res, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().called.as_pin_mut() {
            Some(called) => called.poll(cx).map_err(Into::into),
            None => Poll::Ready(Err(Overloaded::new().into())),
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.called {
            Some(called) => f.debug_tuple("ResponseFuture").field(called).finish(),
            None => f.write_str("ResponseFuture::Refused"),
        }
    }
}
