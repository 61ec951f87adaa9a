use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::{AsyncResponseFuture, ResponseFuture};
use super::{AsyncPredicate, FilterLayer, Predicate};
use crate::BoxError;

/// Checks each request with a synchronous [`Predicate`] before it reaches
/// the inner service.
///
/// A request the predicate lets through (possibly rewritten) is sent to the
/// inner service; a rejected one never reaches it, and its response future
/// fails at once with the predicate's error. A rejection does not use up the
/// inner service's readiness: the next request can use it.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the predicate's error as it
/// returned it, or the inner service's error, neither wrapped.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::filter::Filter;
///
/// # futures::executor::block_on(async {
/// let echo = service_fn(|text: String| async move { Ok::<_, BoxError>(text) });
/// let no_empty = |text: String| if text.is_empty() { Err("empty request") } else { Ok(text) };
/// let service = Filter::new(echo, no_empty);
///
/// assert_eq!(service.clone().oneshot("hi".to_string()).await?, "hi");
/// assert_eq!(service.oneshot(String::new()).await.unwrap_err().to_string(), "empty request");
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Filter<S, P> {
    inner: S,
    predicate: P,
}

impl<S, P> Filter<S, P> {
    /// Wraps `inner`, checking requests with `predicate`.
    pub const fn new(inner: S, predicate: P) -> Self {
        Filter { inner, predicate }
    }

    /// Returns a layer that wraps services in a `Filter` with `predicate`.
    pub fn layer(predicate: P) -> FilterLayer<P> {
        FilterLayer::new(predicate)
    }

    /// Checks `request` with the predicate, without calling the service.
    pub fn check<Req>(&mut self, request: Req) -> Result<P::Request, BoxError>
    where
        P: Predicate<Req>,
    {
        self.predicate.check(request)
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, dropping the predicate.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, P, Req> Service<Req> for Filter<S, P>
where
    P: Predicate<Req>,
    S: Service<P::Request>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Response, S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match self.predicate.check(request) {
            Ok(request) => ResponseFuture::called(self.inner.call(request)),
            Err(error) => ResponseFuture::rejected(error),
        }
    }
}

/// Checks each request with an [`AsyncPredicate`] before it reaches the
/// inner service.
///
/// The check runs inside the response future; once it lets the request
/// through, the request is sent to the service instance that was made
/// ready. To that end `call` keeps a clone of the inner service for the next
/// request and moves the ready instance into the response future, so any
/// reservation made by `poll_ready` (a queue slot, a permit) travels with the
/// request. The inner service should therefore be cheap to clone.
///
/// To build its layer use [`AsyncFilterLayer::new`](super::AsyncFilterLayer::new):
/// [`AsyncFilter::layer`] returns the synchronous [`FilterLayer`], as in
/// tower, and compiles only with a synchronous predicate.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: the predicate's error, or the inner
/// service's error, neither wrapped.
///
/// # Cancellation
///
/// Dropping the response future while the check runs drops the check and
/// the service instance it held, with any reservation.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::filter::AsyncFilter;
///
/// # futures::executor::block_on(async {
/// let echo = service_fn(|user: String| async move { Ok::<_, BoxError>(format!("welcome, {user}")) });
/// let known = |user: String| async move {
///     // An asynchronous lookup would go here.
///     if user == "ada" { Ok(user) } else { Err(BoxError::from("unknown user")) }
/// };
/// let service = AsyncFilter::new(echo, known);
///
/// assert_eq!(service.clone().oneshot("ada".to_string()).await?, "welcome, ada");
/// assert!(service.oneshot("eve".to_string()).await.is_err());
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct AsyncFilter<S, P> {
    inner: S,
    predicate: P,
}

impl<S, P> AsyncFilter<S, P> {
    /// Wraps `inner`, checking requests with the asynchronous `predicate`.
    pub const fn new(inner: S, predicate: P) -> Self {
        AsyncFilter { inner, predicate }
    }

    /// Returns a layer that wraps services in a [`Filter`] (not an
    /// `AsyncFilter`) with `predicate`.
    ///
    /// This signature is tower's, kept so that code written for tower
    /// compiles. For an asynchronous predicate use
    /// [`AsyncFilterLayer::new`](super::AsyncFilterLayer::new) instead.
    pub fn layer(predicate: P) -> FilterLayer<P> {
        FilterLayer::new(predicate)
    }

    /// Checks `request` with the predicate, without calling the service.
    pub async fn check<Req>(&mut self, request: Req) -> Result<P::Request, BoxError>
    where
        P: AsyncPredicate<Req>,
    {
        self.predicate.check(request).await
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, dropping the predicate.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, P, Req> Service<Req> for AsyncFilter<S, P>
where
    P: AsyncPredicate<Req>,
    S: Service<P::Request> + Clone,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = AsyncResponseFuture<P, S, Req>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        // The instance that was made ready goes with the request; a fresh
        // clone stays for the next one.
        let fresh = self.inner.clone();
        let ready = std::mem::replace(&mut self.inner, fresh);
        AsyncResponseFuture::new(self.predicate.check(request), ready)
    }
}
