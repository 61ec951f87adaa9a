//! The response future of [`CircuitBreaker`](super::CircuitBreaker).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project::pin_project;

use super::error::CircuitOpen;
use super::ticket::Ticket;
use crate::BoxError;
use crate::classify::Classify;

/// The response future of [`CircuitBreaker`](super::CircuitBreaker): the
/// inner response, whose outcome the breaker records when it is ready, or
/// [`CircuitOpen`] at once for a refused request.
///
/// Dropping it before it is ready records nothing; if the request was a
/// half-open probe, its slot is given back for another probe.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ResponseFuture<F, C> {
    #[pin]
    kind: Kind<F, C>,
}

#[pin_project(project = KindProj)]
enum Kind<F, C> {
    Called {
        #[pin]
        response: F,
        /// What records the outcome, with the classifier that decides it;
        /// `None` while the breaker is disabled, or once recorded.
        tracking: Option<(Ticket, C)>,
    },
    Refused {
        /// Taken when the future completes.
        error: Option<CircuitOpen>,
    },
}

impl<F, C> ResponseFuture<F, C> {
    pub(super) fn called(response: F, tracking: Option<(Ticket, C)>) -> Self {
        ResponseFuture {
            kind: Kind::Called { response, tracking },
        }
    }

    pub(super) fn refused(error: CircuitOpen) -> Self {
        ResponseFuture {
            kind: Kind::Refused { error: Some(error) },
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

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Called { response, tracking } => {
                let result = ready!(response.poll(cx));
                if let Some((ticket, classify)) = tracking.take() {
                    ticket.finish(classify.classify(&result));
                }
                Poll::Ready(result.map_err(Into::into))
            }
            KindProj::Refused { error } => {
                let error = error
                    .take()
                    .expect("circuit breaker ResponseFuture polled after it completed");
                Poll::Ready(Err(error.into()))
            }
        }
    }
}

impl<F, C> fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("ResponseFuture");
        match &self.kind {
            Kind::Called { tracking, .. } => {
                debug.field("ticket", &tracking.as_ref().map(|(ticket, _)| ticket))
            }
            Kind::Refused { error } => debug.field("refused", error),
        };
        debug.finish_non_exhaustive()
    }
}
