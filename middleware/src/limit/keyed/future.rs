//! The response futures of the keyed limits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use pin_project::pin_project;

use super::error::RateLimited;
use super::store::Decision;
use crate::BoxError;

/// The response future of [`KeyedRateLimit`](super::KeyedRateLimit): the
/// store's decision, then the inner service's response.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, A, S, Req> {
    #[pin]
    state: State<F, A, S, Req>,
}

#[pin_project(project = StateProj)]
enum State<F, A, S, Req> {
    /// The request reached the inner service.
    Called {
        #[pin]
        future: F,
    },
    /// The store is deciding; `service` was made ready for `request`.
    Acquiring {
        #[pin]
        acquire: A,
        service: Option<S>,
        request: Option<Req>,
        /// Counts the request if the store refuses it.
        #[cfg(feature = "metrics")]
        refusals: metrics::Counter,
    },
    /// Refused, or the store failed: the error, until it is returned.
    Refused { error: Option<BoxError> },
}

impl<F, A, S, Req> ResponseFuture<F, A, S, Req> {
    pub(super) fn called(future: F) -> Self {
        ResponseFuture {
            state: State::Called { future },
        }
    }

    pub(super) fn refused(error: BoxError) -> Self {
        ResponseFuture {
            state: State::Refused { error: Some(error) },
        }
    }

    pub(super) fn acquiring(
        acquire: A,
        service: S,
        request: Req,
        #[cfg(feature = "metrics")] refusals: metrics::Counter,
    ) -> Self {
        ResponseFuture {
            state: State::Acquiring {
                acquire,
                service: Some(service),
                request: Some(request),
                #[cfg(feature = "metrics")]
                refusals,
            },
        }
    }
}

impl<F, A, S, Req, Res, E, StoreError> Future for ResponseFuture<F, A, S, Req>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
    A: Future<Output = Result<Decision, StoreError>>,
    StoreError: Into<BoxError>,
    S: Service<Req, Future = F, Response = Res, Error = E>,
{
    type Output = Result<Res, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    return future.poll(cx).map_err(Into::into);
                }
                StateProj::Acquiring {
                    acquire,
                    service,
                    request,
                    #[cfg(feature = "metrics")]
                    refusals,
                } => {
                    let decision = ready!(acquire.poll(cx));
                    match decision {
                        Ok(Decision::Allowed) => {
                            let mut service = service
                                .take()
                                .expect("the keyed limit's service is taken once");
                            let request = request
                                .take()
                                .expect("the keyed limit's request is taken once");
                            let future = service.call(request);
                            this.state.set(State::Called { future });
                        }
                        Ok(Decision::Limited { retry_after }) => {
                            #[cfg(feature = "metrics")]
                            refusals.increment(1);
                            this.state.set(State::Refused { error: None });
                            return Poll::Ready(Err(RateLimited::new(retry_after).into()));
                        }
                        Err(error) => {
                            this.state.set(State::Refused { error: None });
                            return Poll::Ready(Err(error.into()));
                        }
                    }
                }
                StateProj::Refused { error } => {
                    return Poll::Ready(Err(error
                        .take()
                        .expect("a keyed limit's response future was polled after it completed")));
                }
            }
        }
    }
}

impl<F, A, S, Req> fmt::Debug for ResponseFuture<F, A, S, Req> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Called { .. } => "called",
            State::Acquiring { .. } => "acquiring",
            State::Refused { .. } => "refused",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

/// The response future of [`SharedRateLimit`](super::SharedRateLimit): the
/// inner service's response, or the store's error found while waiting for
/// readiness.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct SharedResponseFuture<F> {
    #[pin]
    state: SharedState<F>,
}

#[pin_project(project = SharedStateProj)]
enum SharedState<F> {
    Called {
        #[pin]
        future: F,
    },
    Failed {
        error: Option<BoxError>,
    },
}

impl<F> SharedResponseFuture<F> {
    pub(super) fn called(future: F) -> Self {
        SharedResponseFuture {
            state: SharedState::Called { future },
        }
    }

    pub(super) fn failed(error: BoxError) -> Self {
        SharedResponseFuture {
            state: SharedState::Failed { error: Some(error) },
        }
    }
}

impl<F, Res, E> Future for SharedResponseFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Into<BoxError>,
{
    type Output = Result<Res, BoxError>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            SharedStateProj::Called { future } => future.poll(cx).map_err(Into::into),
            SharedStateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .expect("a shared rate limit's response future was polled after it completed"))),
        }
    }
}

impl<F> fmt::Debug for SharedResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            SharedState::Called { .. } => "called",
            SharedState::Failed { .. } => "failed",
        };
        f.debug_struct("SharedResponseFuture")
            .field("state", &state)
            .finish_non_exhaustive()
    }
}
