use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use crate::BoxError;

/// The response future of [`Reconnect`](super::Reconnect): the
/// connection's response, or the error of the connection attempt that
/// failed before this call.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, E> {
    #[pin]
    state: State<F, E>,
}

#[pin_project(project = StateProj)]
enum State<F, E> {
    Called(#[pin] F),
    Failed(Option<E>),
}

impl<F, E> ResponseFuture<F, E> {
    pub(super) fn new(future: F) -> Self {
        ResponseFuture {
            state: State::Called(future),
        }
    }

    pub(super) fn failed(error: E) -> Self {
        ResponseFuture {
            state: State::Failed(Some(error)),
        }
    }
}

impl<F, Res, E, ME> Future for ResponseFuture<F, ME>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    ME: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called(future) => future.poll(cx).map_err(Into::into),
            StateProj::Failed(error) => {
                Poll::Ready(Err(error.take().expect("polled after completion").into()))
            }
        }
    }
}

impl<F: fmt::Debug, E: fmt::Debug> fmt::Debug for ResponseFuture<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called(future) => f.debug_tuple("ResponseFuture").field(future).finish(),
            State::Failed(error) => f.debug_tuple("ResponseFuture").field(error).finish(),
        }
    }
}
