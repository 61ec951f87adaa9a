//! [`Fallback`], the service.

use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use super::{CloneRequest, Failure, KeepRequest};
use crate::BoxError;
use crate::classify::{Classify, ErrorsAreFailures};

/// Sends requests to the inner service and, when a call counts as failed,
/// answers from a fallback service instead; see the
/// [module documentation](super).
///
/// `K` keeps the request for the fallback ([`CloneRequest`] by default);
/// `C` decides what counts as failed ([`ErrorsAreFailures`] by default).
/// The fallback service is cloned into each response future, where it is
/// only driven if the call failed: make it cheap to clone (a `service_fn`,
/// or a handle such as a `Buffer`).
///
/// # Errors
///
/// A failed call whose fallback answers gets the fallback's response. A
/// call that failed but is not counted as failed (classified as ignored)
/// gets its own error, boxed. When the fallback fails too (its readiness or
/// its call), the error is a [`FallbackFailed`](super::error::FallbackFailed)
/// carrying both causes. An error from the inner service's `poll_ready` is
/// returned as it is: there is no request yet to fall back for.
///
/// # Backpressure
///
/// `poll_ready` is the inner service's. The fallback's readiness is awaited
/// inside the response future, only when it is needed.
///
/// # Cancellation
///
/// Dropping the response future drops whichever call is in flight, the
/// inner one or the fallback's, and the kept request.
#[derive(Debug, Clone)]
pub struct Fallback<S, Fb, K = CloneRequest, C = ErrorsAreFailures> {
    inner: S,
    fallback: Fb,
    keep: K,
    classify: C,
}

impl<S, Fb> Fallback<S, Fb> {
    /// Wraps `inner`, answering failed calls (every error) from `fallback`,
    /// which sees a clone of the request.
    pub const fn new(inner: S, fallback: Fb) -> Self {
        Fallback {
            inner,
            fallback,
            keep: CloneRequest,
            classify: ErrorsAreFailures,
        }
    }
}

impl<S, Fb, K, C> Fallback<S, Fb, K, C> {
    /// Keeps requests for the fallback with `keep` instead (for instance
    /// [`DropRequest`](super::DropRequest), for requests that cannot be
    /// cloned).
    pub fn keeping<K2>(self, keep: K2) -> Fallback<S, Fb, K2, C> {
        Fallback {
            inner: self.inner,
            fallback: self.fallback,
            keep,
            classify: self.classify,
        }
    }

    /// Decides what counts as a failed call with `classify` instead.
    pub fn classifying<C2>(self, classify: C2) -> Fallback<S, Fb, K, C2> {
        Fallback {
            inner: self.inner,
            fallback: self.fallback,
            keep: self.keep,
            classify,
        }
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns a reference to the fallback service.
    pub fn fallback_ref(&self) -> &Fb {
        &self.fallback
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Fb, K, C, Req> Service<Req> for Fallback<S, Fb, K, C>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    Fb: Service<Failure<Req, S::Response>, Response = S::Response> + Clone,
    Fb::Error: Into<BoxError>,
    K: KeepRequest<Req>,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, Fb, Req, S::Response, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let kept = self.keep.keep(&request);
        let response = self.inner.call(request);
        ResponseFuture::new(response, kept, self.fallback.clone(), self.classify.clone())
    }
}
