//! The response future of [`TryConcurrencyLimit`](super::TryConcurrencyLimit).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use crate::BoxError;
use crate::overloaded::Overloaded;
use crate::sync::GatePermit;

/// The response future of
/// [`TryConcurrencyLimit`](super::TryConcurrencyLimit): the inner response,
/// holding a permit of the limit until it is ready, or
/// `Overloaded` at once for a refused request.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    state: State<F>,
}

#[pin_project(project = StateProj)]
enum State<F> {
    Called {
        #[pin]
        inner: F,
        /// Given back as soon as the response is ready, or with the future.
        permit: Option<GatePermit>,
    },
    Refused,
}

impl<F> ResponseFuture<F> {
    pub(super) fn called(inner: F, permit: GatePermit) -> Self {
        ResponseFuture {
            state: State::Called {
                inner,
                permit: Some(permit),
            },
        }
    }

    pub(super) fn refused() -> Self {
        ResponseFuture {
            state: State::Refused,
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { inner, permit } => {
                let output = ready!(inner.poll(cx));
                *permit = None;
                Poll::Ready(output.map_err(Into::into))
            }
            StateProj::Refused => Poll::Ready(Err(Overloaded::new().into())),
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called { inner, permit } => f
                .debug_struct("ResponseFuture")
                .field("inner", inner)
                .field("holds_permit", &permit.is_some())
                .finish(),
            State::Refused => f.write_str("ResponseFuture::Refused"),
        }
    }
}
