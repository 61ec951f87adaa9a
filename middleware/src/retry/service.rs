use std::task::{Context, Poll};

use donjon_service::Service;

use super::Policy;
use super::future::ResponseFuture;

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
#[derive(Clone, Debug)]
pub struct Retry<P, S> {
    pub(super) policy: P,
    pub(super) service: S,
}

impl<P, S> Retry<P, S> {
    /// Wraps `service`, retrying as `policy` decides.
    pub const fn new(policy: P, service: S) -> Self {
        Retry { policy, service }
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
