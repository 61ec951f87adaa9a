//! The response future of [`Fallback`](super::Fallback).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

use super::error::FallbackFailed;
use super::{Failure, SharedError};
use crate::BoxError;
use crate::classify::{Classify, Outcome};

/// The response future of [`Fallback`](super::Fallback): the inner call,
/// then, if it failed, the fallback's.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, Fb, Req, Res, C>
where
    Fb: Service<Failure<Req, Res>>,
{
    #[pin]
    state: State<F, Fb, Req, Res, C>,
    /// `donjon_fallbacks_total`.
    #[cfg(feature = "metrics")]
    fallbacks: metrics::Counter,
}

#[pin_project(project = StateProj)]
enum State<F, Fb, Req, Res, C>
where
    Fb: Service<Failure<Req, Res>>,
{
    /// The inner call.
    Primary {
        #[pin]
        response: F,
        request: Option<Req>,
        fallback: Option<Fb>,
        classify: C,
    },
    /// The call failed: waiting for the fallback to be ready.
    FallbackReady {
        fallback: Fb,
        failure: Option<Failure<Req, Res>>,
        primary: Option<SharedError>,
    },
    /// The fallback's call.
    FallbackCalled {
        #[pin]
        response: Fb::Future,
        primary: Option<SharedError>,
    },
    Done,
}

impl<F, Fb, Req, Res, C> ResponseFuture<F, Fb, Req, Res, C>
where
    Fb: Service<Failure<Req, Res>>,
{
    pub(super) fn new(
        response: F,
        request: Option<Req>,
        fallback: Fb,
        classify: C,
        #[cfg(feature = "metrics")] fallbacks: metrics::Counter,
    ) -> Self {
        ResponseFuture {
            state: State::Primary {
                response,
                request,
                fallback: Some(fallback),
                classify,
            },
            #[cfg(feature = "metrics")]
            fallbacks,
        }
    }
}

/// What the state machine does next.
enum Next<Req, Res, Fb, F> {
    Fall(Fb, Failure<Req, Res>, Option<SharedError>),
    Called(F, Option<SharedError>),
}

impl<F, Fb, Req, Res, E, C> Future for ResponseFuture<F, Fb, Req, Res, C>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    Fb: Service<Failure<Req, Res>, Response = Res>,
    Fb::Error: Into<BoxError>,
    C: Classify<Res, E>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut state = this.state;
        loop {
            let next = match state.as_mut().project() {
                StateProj::Primary {
                    response,
                    request,
                    fallback,
                    classify,
                } => {
                    let result = ready!(response.poll(cx));
                    if classify.classify(&result) != Outcome::Failure {
                        state.set(State::Done);
                        return Poll::Ready(result.map_err(Into::into));
                    }
                    let (outcome, primary) = match result {
                        Ok(response) => (Ok(response), None),
                        Err(error) => {
                            let shared = SharedError::new(error.into());
                            (Err(shared.clone()), Some(shared))
                        }
                    };
                    let fallback = fallback.take().expect("the fallback is used once");
                    Next::Fall(fallback, Failure::new(request.take(), outcome), primary)
                }
                StateProj::FallbackReady {
                    fallback,
                    failure,
                    primary,
                } => match ready!(fallback.poll_ready(cx)) {
                    Ok(()) => {
                        let failure = failure.take().expect("the failure is sent once");
                        Next::Called(fallback.call(failure), primary.take())
                    }
                    Err(error) => {
                        let failed = FallbackFailed::new(primary.take(), error.into());
                        state.set(State::Done);
                        return Poll::Ready(Err(Box::new(failed)));
                    }
                },
                StateProj::FallbackCalled { response, primary } => {
                    let result = ready!(response.poll(cx));
                    let primary = primary.take();
                    state.set(State::Done);
                    #[cfg(feature = "metrics")]
                    if result.is_ok() {
                        this.fallbacks.increment(1);
                    }
                    return Poll::Ready(result.map_err(|error| {
                        Box::new(FallbackFailed::new(primary, error.into())) as BoxError
                    }));
                }
                StateProj::Done => panic!("fallback response future polled after completion"),
            };
            match next {
                Next::Fall(fallback, failure, primary) => {
                    tracing_fell_back(&primary);
                    state.set(State::FallbackReady {
                        fallback,
                        failure: Some(failure),
                        primary,
                    });
                }
                Next::Called(response, primary) => {
                    state.set(State::FallbackCalled { response, primary });
                }
            }
        }
    }
}

/// Reports a call answered by the fallback.
fn tracing_fell_back(primary: &Option<SharedError>) {
    #[cfg(feature = "tracing")]
    match primary {
        Some(error) => {
            tracing::debug!(%error, "fallback: the call failed; answering from the fallback")
        }
        None => tracing::debug!(
            "fallback: the response counted as a failure; answering from the fallback"
        ),
    }
    #[cfg(not(feature = "tracing"))]
    let _ = primary;
}

impl<F, Fb, Req, Res, C> fmt::Debug for ResponseFuture<F, Fb, Req, Res, C>
where
    Fb: Service<Failure<Req, Res>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match &self.state {
            State::Primary { .. } => "Primary",
            State::FallbackReady { .. } => "FallbackReady",
            State::FallbackCalled { .. } => "FallbackCalled",
            State::Done => "Done",
        };
        f.debug_struct("ResponseFuture")
            .field("stage", &stage)
            .finish_non_exhaustive()
    }
}
