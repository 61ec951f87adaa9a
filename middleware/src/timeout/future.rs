//! The response futures of [`Timeout`](super::Timeout),
//! [`RequestTimeout`](super::RequestTimeout) and
//! [`TotalTimeout`](super::TotalTimeout).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project::pin_project;
use tokio::time::{Instant, Sleep, sleep_until};

use super::error::Elapsed;
use crate::BoxError;

/// The response future of [`Timeout`](super::Timeout): the inner response,
/// or [`Elapsed`] once the deadline has passed.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F> {
    #[pin]
    response: F,
    /// The timer, set up the first time the response is not ready.
    #[pin]
    sleep: Option<Sleep>,
    /// When the request times out; `None` for a timeout too long to
    /// represent, which never fires.
    deadline: Option<Instant>,
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(response: F, deadline: Option<Instant>) -> Self {
        ResponseFuture {
            response,
            sleep: None,
            deadline,
        }
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
        let mut this = self.project();
        if let Poll::Ready(result) = this.response.poll(cx) {
            return Poll::Ready(result.map_err(Into::into));
        }
        let Some(deadline) = *this.deadline else {
            return Poll::Pending;
        };
        if this.sleep.is_none() {
            this.sleep.set(Some(sleep_until(deadline)));
        }
        let sleep = this.sleep.as_pin_mut().expect("the timer was just set up");
        match sleep.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new().into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("response", &self.response)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

/// The response future of [`TotalTimeout`](super::TotalTimeout): the inner
/// response under the deadline, or [`Elapsed`] at once when the deadline
/// passed while waiting for readiness.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TotalResponseFuture<F> {
    #[pin]
    state: TotalState<F>,
}

#[pin_project(project = TotalStateProj)]
enum TotalState<F> {
    Called(#[pin] ResponseFuture<F>),
    Elapsed,
}

impl<F> TotalResponseFuture<F> {
    pub(super) fn called(response: F, deadline: Option<Instant>) -> Self {
        TotalResponseFuture {
            state: TotalState::Called(ResponseFuture::new(response, deadline)),
        }
    }

    pub(super) fn elapsed() -> Self {
        TotalResponseFuture {
            state: TotalState::Elapsed,
        }
    }
}

impl<F, Res, E> Future for TotalResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            TotalStateProj::Called(response) => response.poll(cx),
            TotalStateProj::Elapsed => Poll::Ready(Err(Elapsed::new().into())),
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for TotalResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.state {
            TotalState::Called(response) => f
                .debug_tuple("TotalResponseFuture::Called")
                .field(response)
                .finish(),
            TotalState::Elapsed => f.write_str("TotalResponseFuture::Elapsed"),
        }
    }
}
