//! The response future of [`Buffer`](super::Buffer).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project::{pin_project, pinned_drop};

use super::channel::{Received, Reply};
use crate::BoxError;

/// The response future of [`Buffer`](super::Buffer): first waiting for the
/// worker to call the inner service, then the inner response future itself,
/// polled in the caller's task.
///
/// Dropping it before the worker has taken the request off the queue frees
/// the request's place in the queue, and the request is never sent.
#[pin_project(PinnedDrop)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    state: State<F>,
}

#[pin_project(project = StateProj)]
enum State<F> {
    /// Failed before reaching the worker; `None` once reported.
    Failed(Option<BoxError>),
    /// Queued, or held by the worker.
    Waiting(Arc<Reply<F>>),
    /// The inner service was called.
    Called(#[pin] F),
}

impl<F> ResponseFuture<F> {
    pub(super) fn waiting(reply: Arc<Reply<F>>) -> Self {
        ResponseFuture {
            state: State::Waiting(reply),
        }
    }

    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            state: State::Called(future),
        }
    }

    pub(super) fn failed(error: BoxError) -> Self {
        ResponseFuture {
            state: State::Failed(Some(error)),
        }
    }
}

impl<F, Res, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Failed(error) => {
                    return Poll::Ready(Err(error.take().expect("polled after error")));
                }
                StateProj::Waiting(reply) => match ready!(reply.poll_answer(cx)) {
                    Received::Called(future) => state.set(State::Called(future)),
                    Received::Failed(error) => {
                        state.set(State::Failed(None));
                        return Poll::Ready(Err(error));
                    }
                },
                StateProj::Called(future) => return future.poll(cx).map_err(Into::into),
            }
        }
    }
}

#[pinned_drop]
impl<F> PinnedDrop for ResponseFuture<F> {
    fn drop(self: Pin<&mut Self>) {
        if let State::Waiting(reply) = &self.state {
            reply.cancel();
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Failed(error) => f
                .debug_tuple("ResponseFuture::Failed")
                .field(error)
                .finish(),
            State::Waiting(_) => f.write_str("ResponseFuture::Waiting"),
            State::Called(future) => f
                .debug_tuple("ResponseFuture::Called")
                .field(future)
                .finish(),
        }
    }
}
