use std::fmt;
use std::task::{Context, Poll};

use donjon_service::Service;

use super::Policy;
use super::future::ResponseFuture;
#[cfg(feature = "metrics")]
use crate::metrics::names;

/// Retries requests as its [`Policy`] decides.
///
/// `call` asks the policy to copy the request, sends the original, and
/// returns a future holding the copy and a clone of this `Retry` (policy
/// and service). When an attempt finishes, the policy decides; for a retry
/// the future waits for the policy's delay, then for its clone of the
/// service to be ready, and sends the copy (making a fresh copy for the
/// attempt after). A request the policy could not copy is never retried.
///
/// # Errors
///
/// The inner service's errors, unchanged: the last attempt's error, or a
/// readiness error of the service while retrying.
///
/// # Cancellation
///
/// Dropping the response future drops the attempt in flight or the delay,
/// with the clones of the policy and service it held.
///
/// # Metrics
///
/// With the `metrics` feature, each retry sent to the service counts in
/// `donjon_retries_total` (see [`metrics`](crate::metrics)), under the name
/// given to [`with_name`](Retry::with_name) or to the layer (`"retry"` by
/// default for a [`RetryLayer`](super::RetryLayer)). [`new`](Retry::new) is
/// a `const fn`, which cannot reach a recorder: a `Retry` made with it
/// records nothing until it is named. The counter's handle is taken when it
/// is named, and shared by its clones: the clone in each response future
/// holds it too (a reference count raised and lowered per request, once a
/// recorder gave a handle), and a retry costs one increment. A
/// [`TpsBudget`](super::budget::TpsBudget) has its own metric.
#[derive(Clone)]
pub struct Retry<P, S> {
    pub(super) policy: P,
    pub(super) service: S,
    /// `donjon_retries_total`: a no-op until named.
    #[cfg(feature = "metrics")]
    pub(super) retries: metrics::Counter,
}

impl<P, S> Retry<P, S> {
    /// Wraps `service`, retrying as `policy` decides.
    pub const fn new(policy: P, service: S) -> Self {
        Retry {
            policy,
            service,
            #[cfg(feature = "metrics")]
            retries: metrics::Counter::noop(),
        }
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handle of
    /// `donjon_retries_total` from the recorder installed now.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name: std::borrow::Cow<'static, str> = name.into();
        self.retries = metrics::counter!(names::RETRIES, names::NAME => name);
        self
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.service
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.service
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.service
    }
}

impl<P, S, Req> Service<Req> for Retry<P, S>
where
    P: Policy<Req, S::Response, S::Error> + Clone,
    S: Service<Req> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<P, S, Req>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let copy = self.policy.clone_request(&request);
        let future = self.service.call(request);
        ResponseFuture::new(copy, self.clone(), future)
    }
}

impl<P: fmt::Debug, S: fmt::Debug> fmt::Debug for Retry<P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("service", &self.service)
            .finish()
    }
}
