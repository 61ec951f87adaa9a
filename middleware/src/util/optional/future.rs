//! The response future of [`Optional`](crate::util::Optional).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use super::error;
use crate::BoxError;

/// The response future of [`Optional`](crate::util::Optional): the inner
/// service's future, or an immediate [`error::None`] when there is no
/// service.
#[pin_project]
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    inner: Option<F>,
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: Option<F>) -> ResponseFuture<F> {
        ResponseFuture { inner }
    }
}

impl<F, Res, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().inner.as_pin_mut() {
            Some(future) => Poll::Ready(ready!(future.poll(cx)).map_err(Into::into)),
            None => Poll::Ready(Err(error::None::new().into())),
        }
    }
}
