use std::fmt;
use std::task::{Context, Poll};

use donjon_service::Service;

use super::error::RateLimited;
use super::future::ResponseFuture;
use super::store::{Answer, Decision, RateStore};
use crate::BoxError;
use crate::limit::gcra::Quota;
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A rate limit per key taken from each request, for servers: a request
/// over its key's limit is answered at once with [`RateLimited`], which
/// says when to retry.
///
/// Each request's key (a client id, an address, a tenant, a route...) comes
/// from the function `F`; the store `St` keeps one GCRA limit of `quota`
/// per key ([`MemoryStore`](super::MemoryStore) in this process, or a
/// store the fleet shares). Requests within their key's limit reach the
/// inner service.
///
/// # Backpressure
///
/// `poll_ready` is the inner service's: the limit never makes the service
/// unready, since it depends on each request's key. It refuses requests
/// instead.
///
/// # Errors
///
/// The response future fails with a [`RateLimited`] (boxed in a
/// [`BoxError`]) when the key is over its limit, with the store's error
/// when the store could not decide, and with the inner service's error
/// (converted into a `BoxError`) otherwise.
///
/// A store that answers at once (an in-process one) decides within `call`:
/// a refused request never reaches the inner service, and an admitted one
/// is passed on at once. A store that answers later gets the inner service
/// handed over: `call` keeps a clone of it for the next request (hence
/// `S: Clone`) and moves the one that was made ready into the response
/// future, which calls it once the store admits the request.
///
/// # Cancellation
///
/// A response future dropped while the store decides drops the request
/// and the service it held; a request the store admitted but that was never
/// sent still counts against the key's limit.
///
/// # Metrics
///
/// With the `metrics` feature, the requests refused because their key is
/// over its limit (`donjon_rate_limit_refusals_total`, with the label
/// `limiter` set to `"keyed_rate_limit"`; a store's errors are not
/// refusals), under the name given to `with_name` (`"keyed_rate_limit"` if
/// none). A refusal costs one counter update; a store that answers later
/// gets a clone of the counter's handle with each request.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{KeyedRateLimit, MemoryStore};
/// use donjon::limit::keyed::error::RateLimited;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// // Requests are (client, payload) pairs; each client gets 2 per second.
/// let echo = service_fn(|(_, n): (&str, u32)| async move { Ok::<_, BoxError>(n) });
/// let mut service = KeyedRateLimit::new(
///     echo,
///     MemoryStore::new(),
///     |(client, _): &(&str, u32)| client.to_string(),
///     Quota::per_second(2)?,
/// );
///
/// service.ready().await?.call(("alice", 1)).await?;
/// service.ready().await?.call(("alice", 2)).await?;
/// let error = service.ready().await?.call(("alice", 3)).await.unwrap_err();
/// let limited = error.downcast_ref::<RateLimited>().unwrap();
/// assert_eq!(limited.retry_after().as_millis(), 500);
/// // Bob has his own limit.
/// assert_eq!(service.ready().await?.call(("bob", 4)).await?, 4);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct KeyedRateLimit<S, St, F> {
    inner: S,
    store: St,
    key: F,
    quota: Quota,
    /// The requests refused.
    #[cfg(feature = "metrics")]
    refusals: metrics::Counter,
}

impl<S, St, F> KeyedRateLimit<S, St, F> {
    /// Wraps `inner`, limiting each key `key` finds in requests to `quota`
    /// in `store`.
    pub fn new(inner: S, store: St, key: F, quota: Quota) -> Self {
        Self::with_parts(
            inner,
            store,
            key,
            quota,
            #[cfg(feature = "metrics")]
            meter::KEYED_RATE_LIMIT.into(),
        )
    }

    /// Wraps `inner`, limiting each key to `quota` in `store`, named `name`
    /// in its metrics.
    pub(super) fn with_parts(
        inner: S,
        store: St,
        key: F,
        quota: Quota,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        KeyedRateLimit {
            inner,
            store,
            key,
            quota,
            #[cfg(feature = "metrics")]
            refusals: meter::rate_limit_refusals(name, meter::KEYED_RATE_LIMIT),
        }
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"keyed_rate_limit"` unless set, so
    /// that two limits of one process should each have their own. Clones
    /// made from then on keep the name.
    ///
    /// The counter taken under the default name when the service was made
    /// stays with the recorder, at zero; a
    /// [`KeyedRateLimitLayer::with_name`](super::KeyedRateLimitLayer::with_name)
    /// takes only that of the name it is given.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.refusals = meter::rate_limit_refusals(name.into(), meter::KEYED_RATE_LIMIT);
        self
    }

    /// The quota of each key.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The store keeping the limits.
    pub fn store(&self) -> &St {
        &self.store
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, St, F, K, Req> Service<Req> for KeyedRateLimit<S, St, F>
where
    S: Service<Req> + Clone,
    S::Error: Into<BoxError>,
    St: RateStore<K>,
    F: Fn(&Req) -> K,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future, St::Future, S, Req>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let key = (self.key)(&request);
        match self.store.acquire(&key, self.quota) {
            Answer::Now(Ok(Decision::Allowed)) => ResponseFuture::called(self.inner.call(request)),
            Answer::Now(Ok(Decision::Limited { retry_after })) => {
                #[cfg(feature = "metrics")]
                self.refusals.increment(1);
                ResponseFuture::refused(RateLimited::new(retry_after).into())
            }
            Answer::Now(Err(error)) => ResponseFuture::refused(error.into()),
            Answer::Later(acquire) => {
                // The service made ready goes with the request; this handle
                // keeps a clone, to be made ready for the next one.
                let clone = self.inner.clone();
                let ready = std::mem::replace(&mut self.inner, clone);
                ResponseFuture::acquiring(
                    acquire,
                    ready,
                    request,
                    #[cfg(feature = "metrics")]
                    self.refusals.clone(),
                )
            }
        }
    }
}

impl<S: fmt::Debug, St: fmt::Debug, F> fmt::Debug for KeyedRateLimit<S, St, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedRateLimit")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}
