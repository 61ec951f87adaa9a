//! The response future of [`Admit`](super::Admit) and
//! [`DeadlineFromHeader`](super::DeadlineFromHeader).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;

use crate::BoxError;

/// The inner service's response (its error boxed), or the error `E` at
/// once for a request refused before it reached the inner service.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct OrRefused<F, E> {
    #[pin]
    state: State<F, E>,
}

#[pin_project(project = StateProj)]
enum State<F, E> {
    Called(#[pin] F),
    Refused(Option<E>),
}

impl<F, E> OrRefused<F, E> {
    pub(super) fn called(future: F) -> Self {
        OrRefused {
            state: State::Called(future),
        }
    }

    pub(super) fn refused(error: E) -> Self {
        OrRefused {
            state: State::Refused(Some(error)),
        }
    }
}

impl<F, E, Res, Fe> Future for OrRefused<F, E>
where
    F: Future<Output = Result<Res, Fe>>,
    Fe: Into<BoxError>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called(future) => future.poll(cx).map_err(Into::into),
            StateProj::Refused(error) => Poll::Ready(Err(error
                .take()
                .expect("a refused response future is polled after it finished")
                .into())),
        }
    }
}

impl<F: fmt::Debug, E: fmt::Debug> fmt::Debug for OrRefused<F, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            State::Called(future) => f.debug_tuple("OrRefused::Called").field(future).finish(),
            State::Refused(error) => f.debug_tuple("OrRefused::Refused").field(error).finish(),
        }
    }
}
