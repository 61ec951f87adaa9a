//! The response future of [`Retry`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

use super::{Policy, Retry};

/// The response future of [`Retry`]: attempts, and delays
/// between them, until the policy accepts an outcome.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<P, S, Req>
where
    P: Policy<Req, S::Response, S::Error>,
    S: Service<Req>,
{
    /// The copy of the request for the next attempt; `None` when the policy
    /// could not copy it.
    request: Option<Req>,
    retry: Retry<P, S>,
    #[pin]
    state: State<S::Future, P::Future>,
}

#[pin_project(project = StateProj)]
enum State<F, D> {
    /// An attempt is in flight.
    Called(#[pin] F),
    /// Waiting for the policy's delay before the next attempt.
    Waiting(#[pin] D),
    /// Waiting for the service to be ready for the next attempt.
    Retrying,
}

impl<P, S, Req> ResponseFuture<P, S, Req>
where
    P: Policy<Req, S::Response, S::Error>,
    S: Service<Req>,
{
    pub(super) fn new(request: Option<Req>, retry: Retry<P, S>, future: S::Future) -> Self {
        ResponseFuture {
            request,
            retry,
            state: State::Called(future),
        }
    }
}

impl<P, S, Req> Future for ResponseFuture<P, S, Req>
where
    P: Policy<Req, S::Response, S::Error>,
    S: Service<Req>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Called(future) => {
                    let mut result = ready!(future.poll(cx));
                    let Some(request) = this.request.as_mut() else {
                        return Poll::Ready(result);
                    };
                    match this.retry.policy.retry(request, &mut result) {
                        Some(delay) => {
                            tracing_retry(result.is_ok());
                            this.state.set(State::Waiting(delay));
                        }
                        None => return Poll::Ready(result),
                    }
                }
                StateProj::Waiting(delay) => {
                    ready!(delay.poll(cx));
                    this.state.set(State::Retrying);
                }
                StateProj::Retrying => {
                    ready!(this.retry.service.poll_ready(cx))?;
                    let request = this
                        .request
                        .take()
                        .expect("a retry is only started with a copy of the request");
                    *this.request = this.retry.policy.clone_request(&request);
                    let future = this.retry.service.call(request);
                    #[cfg(feature = "metrics")]
                    this.retry.retries.increment(1);
                    this.state.set(State::Called(future));
                }
            }
        }
    }
}

/// Reports the policy asking for another attempt after an error, or after
/// a response when `response`.
#[inline]
fn tracing_retry(response: bool) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        after = if response { "response" } else { "error" },
        "retry: the policy asked for another attempt"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = response;
}

impl<P, S, Req> fmt::Debug for ResponseFuture<P, S, Req>
where
    P: Policy<Req, S::Response, S::Error> + fmt::Debug,
    S: Service<Req> + fmt::Debug,
    Req: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Called(_) => "Called",
            State::Waiting(_) => "Waiting",
            State::Retrying => "Retrying",
        };
        f.debug_struct("ResponseFuture")
            .field("request", &self.request)
            .field("retry", &self.retry)
            .field("state", &format_args!("{state}"))
            .finish()
    }
}
