//! The response futures of [`Filter`](super::Filter) and
//! [`AsyncFilter`](super::AsyncFilter).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

use super::AsyncPredicate;
use crate::BoxError;

/// The response future of [`Filter`](super::Filter): the inner service's
/// response, or the predicate's rejection.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<Res, F> {
    #[pin]
    state: State<Res, F>,
}

#[pin_project(project = StateProj)]
enum State<Res, F> {
    Rejected(Option<BoxError>, PhantomData<fn() -> Res>),
    Called(#[pin] F),
}

impl<Res, F> ResponseFuture<Res, F> {
    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            state: State::Called(future),
        }
    }

    pub(super) fn rejected(error: BoxError) -> Self {
        ResponseFuture {
            state: State::Rejected(Some(error), PhantomData),
        }
    }
}

impl<Res, F, E> Future for ResponseFuture<Res, F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Called(future) => future.poll(cx).map_err(Into::into),
            StateProj::Rejected(error, _) => {
                Poll::Ready(Err(error.take().expect("polled after completion")))
            }
        }
    }
}

impl<Res, F> fmt::Debug for ResponseFuture<Res, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResponseFuture")
            .field(&format_args!("..."))
            .finish()
    }
}

/// The response future of [`AsyncFilter`](super::AsyncFilter): first the
/// predicate's check, then the inner service's response.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AsyncResponseFuture<P, S, Req>
where
    P: AsyncPredicate<Req>,
    S: Service<P::Request>,
{
    #[pin]
    state: AsyncState<P::Future, S::Future>,
    /// The service made ready for this request; taken when it is called.
    service: Option<S>,
}

#[pin_project(project = AsyncStateProj)]
enum AsyncState<C, F> {
    Checking(#[pin] C),
    Called(#[pin] F),
}

impl<P, S, Req> AsyncResponseFuture<P, S, Req>
where
    P: AsyncPredicate<Req>,
    S: Service<P::Request>,
{
    pub(super) fn new(check: P::Future, service: S) -> Self {
        AsyncResponseFuture {
            state: AsyncState::Checking(check),
            service: Some(service),
        }
    }
}

impl<P, S, Req> Future for AsyncResponseFuture<P, S, Req>
where
    P: AsyncPredicate<Req>,
    S: Service<P::Request>,
    S::Error: Into<BoxError>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                AsyncStateProj::Checking(check) => {
                    let request = ready!(check.poll(cx))?;
                    let mut service = this.service.take().expect("polled after completion");
                    this.state.set(AsyncState::Called(service.call(request)));
                }
                AsyncStateProj::Called(future) => {
                    return future.poll(cx).map_err(Into::into);
                }
            }
        }
    }
}

impl<P, S, Req> fmt::Debug for AsyncResponseFuture<P, S, Req>
where
    P: AsyncPredicate<Req>,
    S: Service<P::Request>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.state {
            AsyncState::Checking(_) => "checking",
            AsyncState::Called(_) => "called",
        };
        f.debug_struct("AsyncResponseFuture")
            .field("stage", &format_args!("{stage}"))
            .finish_non_exhaustive()
    }
}
