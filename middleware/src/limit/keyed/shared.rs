use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::time::{Instant, Sleep};

use super::error::InvalidKey;
use super::future::SharedResponseFuture;
use super::store::{Answer, Decision, RateStore};
use crate::BoxError;
use crate::limit::gcra::Quota;
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A rate limit on one key of a store, for clients: `poll_ready` waits
/// until the key's limit admits a request.
///
/// Every `SharedRateLimit` on the same key of the same store (every clone,
/// and, with a store shared by a fleet, every process) draws from one
/// limit of `quota`: a fleet of clients calling one API stays within the
/// API's rate together.
///
/// # Backpressure
///
/// `poll_ready` asks the store to admit a request for the next call. When
/// the key is over its limit it is `Pending`, and asks again after the
/// `retry_after` the store gave (a timer wakes the caller). Once a request
/// is admitted, it polls the inner service.
///
/// # Errors
///
/// When the store fails to decide (a remote store unreachable, say),
/// `poll_ready` still returns `Ready(Ok(()))`, without polling the inner
/// service, and the next `call` returns the store's error without reaching
/// it: an error from `poll_ready` would tell a balancer or a buffer that
/// the service itself is broken. The inner service's errors are converted
/// into [`BoxError`].
///
/// # Cancellation
///
/// A request the store admitted counts against the limit even if the
/// handle is dropped before calling: a store cannot take an admission back.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
///
/// # Metrics
///
/// With the `metrics` feature, the callers made to wait
/// (`donjon_rate_limit_waits_total`, with the label `limiter` set to
/// `"shared_rate_limit"`), under the name given to `with_name`
/// (`"shared_rate_limit"` if none): a handle counts once when the store
/// first answers that the key is over its limit, however many times it
/// asks again before a request is admitted. Each handle keeps the
/// counter's handle (a clone costs one more reference count); an
/// admission costs one write of a flag of the handle.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{MemoryStore, SharedRateLimit};
/// use futures::FutureExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// let store = MemoryStore::new();
/// let quota = Quota::per_second(1)?;
/// let api = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let mut first = SharedRateLimit::new(api, store.clone(), "partner-api", quota)?;
/// let mut second = SharedRateLimit::new(api, store, "partner-api", quota)?;
///
/// first.ready().await?.call(1).await?;
/// // The key's one request of this second is spent, for both.
/// assert!(second.ready().now_or_never().is_none());
/// tokio::time::advance(Duration::from_secs(1)).await;
/// assert_eq!(second.ready().await?.call(2).await?, 2);
/// # Ok(())
/// # }
/// ```
pub struct SharedRateLimit<S, St, K>
where
    St: RateStore<K>,
{
    inner: S,
    store: St,
    key: K,
    quota: Quota,
    /// The store's decision in progress.
    acquiring: Option<St::Future>,
    /// Waiting to ask the store again.
    sleep: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    admission: Admission,
    /// The callers made to wait.
    #[cfg(feature = "metrics")]
    waits: metrics::Counter,
    /// The store's last decision refused a request: the wait that began
    /// then is counted already.
    #[cfg(feature = "metrics")]
    limited: bool,
}

enum Admission {
    None,
    /// A request was admitted for the next call.
    Admitted,
    /// The store failed: the next call fails with this error.
    Failed(BoxError),
}

impl<S, St, K> SharedRateLimit<S, St, K>
where
    St: RateStore<K>,
{
    /// Wraps `inner`, limiting it to `quota` on `key` of `store`.
    ///
    /// # Errors
    ///
    /// [`InvalidKey`] if the store refuses `key`
    /// ([`RateStore::check_key`]).
    pub fn new(inner: S, store: St, key: K, quota: Quota) -> Result<Self, InvalidKey> {
        Self::with_parts(
            inner,
            store,
            key,
            quota,
            #[cfg(feature = "metrics")]
            meter::SHARED_RATE_LIMIT.into(),
        )
    }

    /// Wraps `inner`, limiting it to `quota` on `key` of `store`, named
    /// `name` in its metrics.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub(super) fn with_parts(
        inner: S,
        store: St,
        key: K,
        quota: Quota,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Result<Self, InvalidKey> {
        store.check_key(&key)?;
        Ok(SharedRateLimit {
            inner,
            store,
            key,
            quota,
            acquiring: None,
            sleep: None,
            waiting: false,
            admission: Admission::None,
            #[cfg(feature = "metrics")]
            waits: meter::rate_limit_waits(name, meter::SHARED_RATE_LIMIT),
            #[cfg(feature = "metrics")]
            limited: false,
        })
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"shared_rate_limit"` unless set, so
    /// that two limits of one process should each have their own. Clones
    /// made from then on keep the name.
    ///
    /// The counter taken under the default name when the service was made
    /// stays with the recorder, at zero; a
    /// [`SharedRateLimitLayer::with_name`](super::SharedRateLimitLayer::with_name)
    /// takes only that of the name it is given.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.waits = meter::rate_limit_waits(name.into(), meter::SHARED_RATE_LIMIT);
        self
    }

    /// The key this service is limited on.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// The quota of the key.
    pub fn quota(&self) -> Quota {
        self.quota
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

impl<S, St, K> SharedRateLimit<S, St, K>
where
    St: RateStore<K>,
    St::Future: Unpin,
{
    /// Gets a decision for the next call: admitted, or the store failed.
    fn poll_admit(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.waiting {
                if let Some(sleep) = &mut self.sleep {
                    ready!(sleep.as_mut().poll(cx));
                }
                self.waiting = false;
            }
            let decision = match &mut self.acquiring {
                Some(acquire) => {
                    let decision = ready!(Pin::new(acquire).poll(cx));
                    self.acquiring = None;
                    decision
                }
                None => match self.store.acquire(&self.key, self.quota) {
                    Answer::Now(decision) => decision,
                    Answer::Later(acquire) => {
                        self.acquiring = Some(acquire);
                        continue;
                    }
                },
            };
            #[cfg(feature = "metrics")]
            {
                let limited = matches!(decision, Ok(Decision::Limited { .. }));
                if limited && !self.limited {
                    self.waits.increment(1);
                }
                self.limited = limited;
            }
            match decision {
                Ok(Decision::Allowed) => {
                    self.admission = Admission::Admitted;
                    return Poll::Ready(());
                }
                Ok(Decision::Limited { retry_after }) => {
                    // A store that rounds a short wait down to nothing must
                    // not make this loop ask it again at once.
                    let retry_after = retry_after.max(MIN_WAIT);
                    let until = crate::time::deadline(Instant::now(), retry_after);
                    crate::time::reset_sleep(&mut self.sleep, until);
                    self.waiting = true;
                }
                Err(error) => {
                    self.admission = Admission::Failed(error.into());
                    return Poll::Ready(());
                }
            }
        }
    }
}

/// The shortest wait before asking the store again: tokio's timers have a
/// resolution of one millisecond.
const MIN_WAIT: std::time::Duration = std::time::Duration::from_millis(1);

impl<S, St, K, Req> Service<Req> for SharedRateLimit<S, St, K>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    St: RateStore<K>,
    St::Future: Unpin,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = SharedResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if let Admission::None = self.admission {
            ready!(self.poll_admit(cx));
        }
        match self.admission {
            Admission::Admitted => self.inner.poll_ready(cx).map_err(Into::into),
            Admission::Failed(_) => Poll::Ready(Ok(())),
            Admission::None => unreachable!("poll_admit decides"),
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        match std::mem::replace(&mut self.admission, Admission::None) {
            Admission::Admitted => SharedResponseFuture::called(self.inner.call(request)),
            Admission::Failed(error) => SharedResponseFuture::failed(error),
            Admission::None => panic!(
                "SharedRateLimit called without an admitted request; poll_ready must return \
                 Ready(Ok(())) before each call"
            ),
        }
    }
}

impl<S, St, K> Clone for SharedRateLimit<S, St, K>
where
    S: Clone,
    St: RateStore<K> + Clone,
    K: Clone,
{
    /// A handle on the same key of the same store, with no request
    /// admitted.
    fn clone(&self) -> Self {
        SharedRateLimit {
            inner: self.inner.clone(),
            store: self.store.clone(),
            key: self.key.clone(),
            quota: self.quota,
            acquiring: None,
            sleep: None,
            waiting: false,
            admission: Admission::None,
            #[cfg(feature = "metrics")]
            waits: self.waits.clone(),
            #[cfg(feature = "metrics")]
            limited: false,
        }
    }
}

impl<S, St, K> fmt::Debug for SharedRateLimit<S, St, K>
where
    S: fmt::Debug,
    St: RateStore<K> + fmt::Debug,
    K: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let admission = match self.admission {
            Admission::None if self.waiting || self.acquiring.is_some() => "waiting",
            Admission::None => "none",
            Admission::Admitted => "admitted",
            Admission::Failed(_) => "store failed",
        };
        f.debug_struct("SharedRateLimit")
            .field("inner", &self.inner)
            .field("store", &self.store)
            .field("key", &self.key)
            .field("quota", &self.quota)
            .field("admission", &admission)
            .finish_non_exhaustive()
    }
}
