//! [`Fallback`], the service.

use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use super::{CloneRequest, Failure, KeepRequest};
use crate::BoxError;
use crate::classify::{Classify, ErrorsAreFailures};
#[cfg(feature = "metrics")]
use crate::metrics::names;

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
///
/// # Metrics
///
/// With the `metrics` feature, each call the fallback answers (with a
/// response, not an error) counts in `donjon_fallbacks_total` (see
/// [`metrics`](crate::metrics)), under the name given to
/// [`with_name`](Fallback::with_name) or to the layer (`"fallback"` by
/// default for a [`FallbackLayer`](super::FallbackLayer)).
/// [`new`](Fallback::new) is a `const fn`, which cannot reach a recorder: a
/// `Fallback` made with it records nothing until it is named. The
/// counter's handle is taken when it is named, and shared by its clones;
/// each response future holds a clone of it (a reference count raised and
/// lowered per request, once a recorder gave a handle), and a call the
/// fallback answers costs one increment.
#[derive(Debug, Clone)]
pub struct Fallback<S, Fb, K = CloneRequest, C = ErrorsAreFailures> {
    inner: S,
    fallback: Fb,
    keep: K,
    classify: C,
    /// `donjon_fallbacks_total`: a no-op until named.
    #[cfg(feature = "metrics")]
    fallbacks: metrics::Counter,
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
            #[cfg(feature = "metrics")]
            fallbacks: metrics::Counter::noop(),
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
            #[cfg(feature = "metrics")]
            fallbacks: self.fallbacks,
        }
    }

    /// Decides what counts as a failed call with `classify` instead.
    pub fn classifying<C2>(self, classify: C2) -> Fallback<S, Fb, K, C2> {
        Fallback {
            inner: self.inner,
            fallback: self.fallback,
            keep: self.keep,
            classify,
            #[cfg(feature = "metrics")]
            fallbacks: self.fallbacks,
        }
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handle of
    /// `donjon_fallbacks_total` from the recorder installed now.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name: std::borrow::Cow<'static, str> = name.into();
        self.fallbacks = metrics::counter!(names::FALLBACKS, names::NAME => name);
        self
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
        ResponseFuture::new(
            response,
            kept,
            self.fallback.clone(),
            self.classify.clone(),
            #[cfg(feature = "metrics")]
            self.fallbacks.clone(),
        )
    }
}
