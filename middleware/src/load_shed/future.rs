//! The response future of [`LoadShed`](super::LoadShed).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use super::error::Overloaded;
use crate::BoxError;

/// The response future of [`LoadShed`](super::LoadShed): the inner response,
/// or [`Overloaded`] at once for a shed request.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    state: Option<F>,
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            state: Some(future),
        }
    }

    pub(super) fn overloaded() -> Self {
        ResponseFuture { state: None }
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
        match self.project().state.as_pin_mut() {
            Some(future) => future.poll(cx).map_err(Into::into),
            None => Poll::Ready(Err(Overloaded::new().into())),
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
