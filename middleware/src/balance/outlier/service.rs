//! [`Ejectable`]: an endpoint that is not ready while its detector has it
//! ejected.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use donjon_service::Service;
use tokio::time::Sleep;

use super::future::ResponseFuture;
use super::{Detector, EndpointId};
use crate::classify::{Classify, ErrorsAreFailures};
use crate::load::Load;
use crate::time::reset_sleep;

/// An endpoint watched by an outlier [`Detector`]: each of its calls is
/// classified and reported, and it is not ready while ejected.
///
/// Made by [`Detector::wrap`], [`EjectableLayer`](super::EjectableLayer) or
/// [`OutlierDiscover`](super::OutlierDiscover); it registers with the
/// detector when made, and unregisters when dropped (or unwrapped with
/// [`into_inner`](Self::into_inner)). Its [`Load`] is the inner service's.
///
/// # Readiness
///
/// While the endpoint is ejected, `poll_ready` returns `Pending` without
/// polling the inner service, and a tokio timer set for the end of the
/// ejection wakes the task then. It never fails for an ejection: a load
/// balancer such as [`p2c::Balance`](crate::balance::p2c::Balance) drops an
/// endpoint whose readiness fails, but keeps a pending one aside and sends
/// it nothing until it is ready again. Otherwise `poll_ready` is the inner
/// service's, `Pending`, ready or failed. A call made after a `Ready` goes
/// to the inner service even if the endpoint was ejected in between.
///
/// # Errors
///
/// The inner service's errors, unchanged.
///
/// # Cancellation
///
/// A response future dropped before it finished reports nothing: the call
/// counts as neither a success nor a failure (nor as a request, for the
/// success rate), as the [`classify`](crate::classify) module has it.
///
/// # Panics
///
/// `poll_ready` panics outside a tokio runtime with its time driver when
/// it finds the endpoint ejected (the timer needs one).
pub struct Ejectable<S, C = ErrorsAreFailures> {
    inner: S,
    registration: Registration<C>,
    /// The timer of the current or last ejection, kept for the next.
    sleep: Option<Pin<Box<Sleep>>>,
}

/// An endpoint's registration with its detector, ended when dropped.
struct Registration<C> {
    detector: Detector<C>,
    id: EndpointId,
}

impl<C> Drop for Registration<C> {
    fn drop(&mut self) {
        self.detector.unregister(self.id);
    }
}

impl<S, C> Ejectable<S, C> {
    /// Wraps `inner`, registering it with `detector`.
    pub fn new(inner: S, detector: &Detector<C>) -> Self {
        Ejectable {
            inner,
            registration: Registration {
                detector: detector.clone(),
                id: detector.register(),
            },
            sleep: None,
        }
    }

    /// The endpoint's id in its detector.
    pub fn id(&self) -> EndpointId {
        self.registration.id
    }

    /// The detector the endpoint is registered with.
    pub fn detector(&self) -> &Detector<C> {
        &self.registration.detector
    }

    /// Whether the endpoint is ejected now.
    pub fn is_ejected(&self) -> bool {
        self.registration.detector.is_ejected(self.registration.id)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service; the endpoint is unregistered.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// `Pending` until the endpoint's ejection, if any, is over, with the
    /// timer set to wake the task then.
    fn poll_ejection(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Registration { detector, id } = &self.registration;
        while let Some(until) = detector.ejected_until(*id) {
            let sleep = reset_sleep(&mut self.sleep, until);
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }
}

impl<S: Load, C> Load for Ejectable<S, C> {
    type Metric = S::Metric;

    #[inline]
    fn load(&self) -> S::Metric {
        self.inner.load()
    }
}

impl<S, C, Req> Service<Req> for Ejectable<S, C>
where
    S: Service<Req>,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.poll_ejection(cx).is_pending() {
            return Poll::Pending;
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        ResponseFuture::new(
            self.inner.call(request),
            self.registration.detector.clone(),
            self.registration.id,
        )
    }
}

impl<S: fmt::Debug, C> fmt::Debug for Ejectable<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ejectable")
            .field("inner", &self.inner)
            .field("id", &self.registration.id)
            .finish_non_exhaustive()
    }
}
