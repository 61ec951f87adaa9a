//! The response future of [`Throttle`](super::Throttle).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use super::error::Throttled;
use super::service::Shared;
use crate::BoxError;
use crate::classify::{Classify, Outcome};

/// The response future of [`Throttle`](super::Throttle): the inner
/// response, counted in the window once it is classified, or
/// [`Throttled`] at once for a request the client refused.
#[pin_project(project = Projected)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, C> {
    #[pin]
    state: State<F, C>,
}

#[pin_project(project = StateProj)]
enum State<F, C> {
    Called {
        #[pin]
        future: F,
        /// Taken when the outcome is counted.
        shared: Option<Arc<Shared<C>>>,
    },
    Throttled(Option<Throttled>),
}

impl<F, C> ResponseFuture<F, C> {
    pub(super) fn called(future: F, shared: Arc<Shared<C>>) -> Self {
        ResponseFuture {
            state: State::Called {
                future,
                shared: Some(shared),
            },
        }
    }

    pub(super) fn throttled(error: Throttled) -> Self {
        ResponseFuture {
            state: State::Throttled(Some(error)),
        }
    }
}

impl<F, C, Res, E> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    C: Classify<Res, E>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called { future, shared } => {
                let result = ready!(future.poll(cx));
                if let Some(shared) = shared.take() {
                    match shared.classify.classify(&result) {
                        Outcome::Success => shared.record(true),
                        Outcome::Failure => shared.record(false),
                        Outcome::Ignored => {}
                    }
                }
                Poll::Ready(result.map_err(Into::into))
            }
            StateProj::Throttled(error) => Poll::Ready(Err(error
                .take()
                .expect("a throttled response future is polled after it finished")
                .into())),
        }
    }
}

impl<F: fmt::Debug, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called { future, .. } => f
                .debug_struct("ResponseFuture::Called")
                .field("future", future)
                .finish_non_exhaustive(),
            State::Throttled(error) => f
                .debug_tuple("ResponseFuture::Throttled")
                .field(error)
                .finish(),
        }
    }
}
