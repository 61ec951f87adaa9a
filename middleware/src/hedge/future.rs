use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use donjon_service::Service;
use pin_project::pin_project;
use tokio::time::{Instant, Sleep, sleep};

use super::Policy;
use super::service::Shared;
use crate::BoxError;

/// The response future of [`Hedge`](super::Hedge): the first of the
/// original request and its hedge to finish.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Future<S, Req>
where
    S: Service<Req>,
{
    #[pin]
    inner: S::Future,
}

impl<S, Req> Future<S, Req>
where
    S: Service<Req>,
{
    pub(super) fn new(inner: S::Future) -> Self {
        Future { inner }
    }
}

impl<S, Req> std::future::Future for Future<S, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map_err(Into::into)
    }
}

impl<S, Req> fmt::Debug for Future<S, Req>
where
    S: Service<Req>,
    S::Future: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Future")
            .field("inner", &self.inner)
            .finish()
    }
}

/// A hedge waiting to be sent: after `delay`, `copy` goes to `service`.
pub(super) struct Armed<S, P, Req> {
    pub(super) delay: Duration,
    pub(super) copy: Req,
    pub(super) service: S,
    pub(super) policy: P,
}

/// The future behind [`Future`]: the original request, and its hedge.
#[doc(hidden)]
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct HedgedFuture<S, P, Req>
where
    S: Service<Req>,
{
    #[pin]
    primary: S::Future,
    sent_at: Instant,
    #[pin]
    hedge: Hedge<S, P, Req>,
    shared: Arc<Shared>,
}

#[pin_project(project = HedgeProj)]
enum Hedge<S, P, Req>
where
    S: Service<Req>,
{
    /// No hedge for this request.
    Off,
    /// Waiting for the hedge delay.
    Waiting {
        #[pin]
        sleep: Sleep,
        delay: Duration,
        parts: Option<(S, P, Req)>,
    },
    /// Driving the hedge's service to readiness.
    Readying {
        delay: Duration,
        budget_left: f64,
        parts: Option<(S, Req)>,
        permit: Permit,
    },
    /// The hedge was sent.
    Sent {
        #[pin]
        future: S::Future,
        sent_at: Instant,
        /// Held while the hedge is in flight.
        permit: Permit,
    },
}

/// The permit of a shared [`InFlightBudget`](crate::retry::budget::InFlightBudget)
/// a hedge holds, if the hedge was given one.
#[cfg(feature = "retry")]
type Permit = Option<crate::retry::budget::in_flight::ExtraPermit>;
#[cfg(not(feature = "retry"))]
type Permit = ();

/// The permit a hedge needs from the shared budget: `None` when the budget
/// refuses one (no hedge), `Some` (holding nothing without a budget)
/// otherwise.
fn shared_permit(shared: &Shared) -> Option<Permit> {
    #[cfg(feature = "retry")]
    return match &shared.in_flight {
        Some(budget) => budget.try_extra().map(Some),
        None => Some(None),
    };
    #[cfg(not(feature = "retry"))]
    {
        let _ = shared;
        Some(())
    }
}

impl<S, P, Req> HedgedFuture<S, P, Req>
where
    S: Service<Req>,
{
    pub(super) fn new(
        primary: S::Future,
        sent_at: Instant,
        armed: Option<Armed<S, P, Req>>,
        shared: Arc<Shared>,
    ) -> Self {
        let hedge = match armed {
            None => Hedge::Off,
            Some(armed) => Hedge::Waiting {
                sleep: sleep(armed.delay),
                delay: armed.delay,
                parts: Some((armed.service, armed.policy, armed.copy)),
            },
        };
        HedgedFuture {
            primary,
            sent_at,
            hedge,
            shared,
        }
    }
}

impl<S, P, Req> std::future::Future for HedgedFuture<S, P, Req>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    P: Policy<Req>,
{
    type Output = Result<S::Response, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.primary.poll(cx) {
            if result.is_ok() {
                this.shared.record(*this.sent_at);
            }
            return Poll::Ready(result.map_err(Into::into));
        }
        loop {
            match this.hedge.as_mut().project() {
                HedgeProj::Off => return Poll::Pending,
                HedgeProj::Waiting {
                    sleep,
                    delay,
                    parts,
                } => {
                    ready!(sleep.poll(cx));
                    let delay = *delay;
                    let (service, policy, copy) = parts.take().expect("the hedge is sent once");
                    // The shared budget first: refused, the hedge's own is
                    // not drawn on.
                    let allowed = if policy.can_retry(&copy) {
                        shared_permit(this.shared)
                            .and_then(|permit| Some((this.shared.spend()?, permit)))
                    } else {
                        None
                    };
                    match allowed {
                        Some((budget_left, permit)) => this.hedge.set(Hedge::Readying {
                            delay,
                            budget_left,
                            parts: Some((service, copy)),
                            permit,
                        }),
                        None => this.hedge.set(Hedge::Off),
                    }
                }
                HedgeProj::Readying {
                    delay,
                    budget_left,
                    parts,
                    permit,
                } => {
                    let (service, _) = parts.as_mut().expect("the hedge is sent once");
                    ready!(service.poll_ready(cx)).map_err(Into::into)?;
                    let (mut service, copy) = parts.take().expect("the hedge is sent once");
                    tracing::debug!(
                        ?delay,
                        percentile = %this.shared.percentile(),
                        budget_left = *budget_left,
                        "hedge: the request outlived the latency threshold; sending a copy"
                    );
                    let future = service.call(copy);
                    #[cfg(feature = "metrics")]
                    this.shared.meter.sent.increment(1);
                    let permit = std::mem::take(permit);
                    this.hedge.set(Hedge::Sent {
                        future,
                        sent_at: Instant::now(),
                        permit,
                    });
                }
                HedgeProj::Sent {
                    future, sent_at, ..
                } => {
                    let result = ready!(future.poll(cx));
                    #[cfg(feature = "metrics")]
                    this.shared.meter.won.increment(1);
                    if result.is_ok() {
                        this.shared.record(*sent_at);
                    }
                    return Poll::Ready(result.map_err(Into::into));
                }
            }
        }
    }
}

impl<S, P, Req> fmt::Debug for HedgedFuture<S, P, Req>
where
    S: Service<Req>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hedge = match &self.hedge {
            Hedge::Off => "off",
            Hedge::Waiting { .. } => "waiting",
            Hedge::Readying { .. } => "readying",
            Hedge::Sent { .. } => "sent",
        };
        f.debug_struct("HedgedFuture")
            .field("hedge", &format_args!("{hedge}"))
            .finish_non_exhaustive()
    }
}
