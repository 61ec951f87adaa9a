use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::sync::Semaphore;

use super::future::ResponseFuture;
use super::permits::{Permit, Permits};
use crate::BoxError;
use crate::discipline::{QueueDelay, QueueDiscipline};
#[cfg(feature = "metrics")]
use crate::limit::meter;
use crate::overloaded::ResponseFuture as MaybeRefused;
use crate::sync::is_withdrawal;

/// The queue of a [`ConcurrencyLimit`] that serves its waiters first come,
/// first served and never refuses one: tower's (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Fifo(());

/// The queue of a [`ConcurrencyLimit`] served by a [`QueueDiscipline`]
/// (see [`with_queue`](ConcurrencyLimit::with_queue)): its errors are boxed,
/// and a caller the discipline refuses gets
/// [`Overloaded`](crate::limit::try_concurrency::error::Overloaded).
#[derive(Debug, Clone, Copy, Default)]
pub struct Disciplined {
    /// The discipline refused this service's caller: the next call fails.
    refused: bool,
}

impl Disciplined {
    /// Reserves a permit into `reserved` with `acquire`, unless one is
    /// reserved already; `Ready(true)` when the caller is refused (now, or
    /// by an earlier poll whose call has not come yet), `Ready(false)` with
    /// a permit reserved.
    #[inline]
    pub(in crate::limit) fn poll_reserve<P>(
        &mut self,
        reserved: &mut Option<P>,
        acquire: impl FnOnce() -> Poll<Option<P>>,
    ) -> Poll<bool> {
        if !self.refused && reserved.is_none() {
            match ready!(acquire()) {
                Some(permit) => *reserved = Some(permit),
                None => self.refused = true,
            }
        }
        Poll::Ready(self.refused)
    }

    /// Whether the call to come was refused; the refusal is used up.
    #[inline]
    pub(in crate::limit) fn take_refusal(&mut self) -> bool {
        std::mem::take(&mut self.refused)
    }
}

/// Limits how many requests the inner service handles at once.
///
/// `poll_ready` first waits for a permit of the limit's semaphore, then
/// for the inner service; the permit is kept (not taken twice) if the
/// inner service is not ready yet. `call` moves the permit into the
/// response future, which gives it back as soon as the response is ready,
/// fails, or the future is dropped. Clones share the semaphore, and start
/// without a permit.
///
/// # Backpressure
///
/// `poll_ready` is `Pending` while every permit is out; waiting callers are
/// woken one at a time, in the order they started waiting. A limit of 0 is
/// never ready.
///
/// # Queue discipline
///
/// [`with_queue`](Self::with_queue) serves the waiters by a
/// [`QueueDiscipline`] instead: CoDel's refusals, newest first once the
/// queue stands, or both. The service is then a
/// `ConcurrencyLimit<S, Disciplined>`, whose errors are boxed: a caller the
/// discipline refuses sees `poll_ready` return `Ready(Ok(()))`, and its
/// `call` fails at once with
/// [`Overloaded`](crate::limit::try_concurrency::error::Overloaded), without reaching
/// the inner service (which keeps what its readiness reserved, for the
/// next call). [`queue_delay`](ConcurrencyLimit::queue_delay) reads how
/// long the oldest waiter has waited.
///
/// # Cancellation
///
/// A dropped response future, or a dropped service holding an unused permit,
/// gives the permit back.
///
/// # Panics
///
/// `call` panics when no permit is held, that is, without a preceding
/// `poll_ready` returning `Ready(Ok(()))`. `poll_ready` panics if a
/// semaphore handed to [`with_semaphore`](ConcurrencyLimit::with_semaphore)
/// is closed.
///
/// # Metrics
///
/// With the `metrics` feature, the callers waiting for a permit
/// (`donjon_concurrency_limit_waiters`) and the permits in use, from the
/// `poll_ready` that takes one until the response is ready
/// (`donjon_concurrency_limit_in_flight`), under the name given to
/// `with_name` (`"concurrency_limit"`, or `"global_concurrency_limit"` for
/// a [`GlobalConcurrencyLimitLayer`](super::GlobalConcurrencyLimitLayer)'s
/// limit, if none). Each permit taken and given back moves the second
/// gauge; a caller joining or leaving the queue moves the first. Callers a
/// discipline refuses are counted in `donjon_concurrency_limit_refusals_total`.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::ConcurrencyLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = ConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 5);
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ConcurrencyLimit<S, Q = Fifo> {
    inner: S,
    permits: Permits,
    /// The permit reserved by `poll_ready` for the next call.
    permit: Option<Permit>,
    queue: Q,
}

impl<S> ConcurrencyLimit<S> {
    /// Wraps `inner`, letting at most `max` requests in flight at once.
    ///
    /// # Panics
    ///
    /// If `max` is more than [`Semaphore::MAX_PERMITS`].
    pub fn new(inner: S, max: usize) -> Self {
        Self::with_permits(
            inner,
            Permits::new(
                max,
                #[cfg(feature = "metrics")]
                meter::concurrency(meter::CONCURRENCY_LIMIT.into(), true),
            ),
        )
    }

    /// Wraps `inner`, taking a permit of `semaphore` for each request in
    /// flight.
    ///
    /// Sharing one semaphore between services makes them share one limit.
    /// The semaphore must not be closed.
    pub fn with_semaphore(inner: S, semaphore: Arc<Semaphore>) -> Self {
        Self::with_permits(
            inner,
            Permits::with_semaphore(
                semaphore,
                #[cfg(feature = "metrics")]
                meter::concurrency(meter::CONCURRENCY_LIMIT.into(), true),
            ),
        )
    }

    pub(super) fn with_permits(inner: S, permits: Permits) -> Self {
        ConcurrencyLimit {
            inner,
            permits,
            permit: None,
            queue: Fifo(()),
        }
    }

    /// Serves the limit's waiting callers by `discipline`: see
    /// [Queue discipline](Self#queue-discipline). A tokio runtime with its
    /// time driver must be running when a caller waits under a discipline
    /// that refuses.
    ///
    /// # Panics
    ///
    /// If the limit takes its permits from a user's semaphore
    /// ([`with_semaphore`](Self::with_semaphore)), is shared already, or
    /// this service holds or waits for a permit: set the discipline as the
    /// limit is made, before it is cloned or polled, and on the
    /// [`GlobalConcurrencyLimitLayer`](super::GlobalConcurrencyLimitLayer)
    /// for a shared limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use donjon::limit::{ConcurrencyLimit, QueueDiscipline};
    /// use donjon::limit::try_concurrency::error::Overloaded;
    /// use donjon::{BoxError, Service, ServiceExt, service_fn};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let slow = service_fn(|n: u32| async move {
    ///     tokio::time::sleep(Duration::from_secs(1)).await;
    ///     Ok::<_, BoxError>(n)
    /// });
    /// let mut limit = ConcurrencyLimit::new(slow, 1)
    ///     .with_queue(QueueDiscipline::fifo().codel(Duration::from_millis(5), Duration::from_millis(100)));
    ///
    /// let first = tokio::spawn(limit.ready().await.unwrap().call(1));
    /// // The permit is out for a second; a caller waiting for it is refused
    /// // after 100 ms (the queue formed when it joined).
    /// let mut other = limit.clone();
    /// let error = other.ready().await.unwrap().call(2).await.unwrap_err();
    /// assert!(error.is::<Overloaded>());
    /// assert_eq!(first.await.unwrap().unwrap(), 1);
    /// # }
    /// ```
    pub fn with_queue(mut self, discipline: QueueDiscipline) -> ConcurrencyLimit<S, Disciplined> {
        assert!(
            self.permit.is_none() && self.permits.set_discipline(discipline),
            "ConcurrencyLimit::with_queue sets the discipline of a limit as it is made: call it \
             before the service is cloned or polled, on the GlobalConcurrencyLimitLayer for a \
             shared limit, and not for a limit over a user's semaphore"
        );
        ConcurrencyLimit {
            inner: self.inner,
            permits: self.permits,
            permit: None,
            queue: Disciplined::default(),
        }
    }
}

impl<S> ConcurrencyLimit<S, Disciplined> {
    /// A service over the permits of a shared limit that has a discipline.
    pub(super) fn with_shared_permits(inner: S, permits: Permits) -> Self {
        ConcurrencyLimit {
            inner,
            permits,
            permit: None,
            queue: Disciplined::default(),
        }
    }

    /// How long the oldest caller waiting for a permit has waited so far
    /// (shared by the clones; zero while nobody waits).
    pub fn queue_delay(&self) -> QueueDelay {
        self.permits
            .queue_delay()
            .expect("a disciplined limit's gate has a discipline")
    }
}

impl<S, Q> ConcurrencyLimit<S, Q> {
    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"concurrency_limit"` unless set, so
    /// that two limits of one process should each have their own.
    ///
    /// The handles taken under the default name when the service was made
    /// stay with the recorder, at zero; a
    /// [`ConcurrencyLimitLayer::with_name`](super::ConcurrencyLimitLayer::with_name)
    /// takes only those of the name it is given.
    ///
    /// # Panics
    ///
    /// If the limit is shared already, or this service holds or waits for
    /// a permit: name a limit as it is made, before it is cloned or polled,
    /// and name the limit of a
    /// [`GlobalConcurrencyLimitLayer`](super::GlobalConcurrencyLimitLayer)
    /// on the layer.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        assert!(
            self.permit.is_none()
                && self
                    .permits
                    .set_meter(meter::concurrency(name.into(), true)),
            "ConcurrencyLimit::with_name names a limit as it is made: call it before the service \
             is cloned or polled, and on the GlobalConcurrencyLimitLayer for a shared limit"
        );
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

    /// Returns the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for ConcurrencyLimit<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.permit.is_none() {
            let permit = ready!(self.permits.poll_acquire(cx));
            self.permit = Some(permit.expect("a limit without a discipline refuses nobody"));
        }
        let ready = self.inner.poll_ready(cx);
        if ready.is_pending() && is_withdrawal(cx.waker()) {
            // The caller stops waiting: the permit is not held for a call
            // that is not coming.
            self.permit = None;
        }
        ready
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let permit = self
            .permit
            .take()
            .expect("max requests in-flight; poll_ready must be called first");
        ResponseFuture::new(self.inner.call(request), permit)
    }
}

impl<S, Req> Service<Req> for ConcurrencyLimit<S, Disciplined>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = MaybeRefused<ResponseFuture<S::Future>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let permits = &mut self.permits;
        if ready!(
            self.queue
                .poll_reserve(&mut self.permit, || permits.poll_acquire(cx))
        ) {
            // Refused: the call fails at once.
            return Poll::Ready(Ok(()));
        }
        let ready = self.inner.poll_ready(cx);
        if ready.is_pending() && is_withdrawal(cx.waker()) {
            self.permit = None;
        }
        ready.map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        if self.queue.take_refusal() {
            return MaybeRefused::overloaded();
        }
        let permit = self
            .permit
            .take()
            .expect("max requests in-flight; poll_ready must be called first");
        MaybeRefused::called(ResponseFuture::new(self.inner.call(request), permit))
    }
}

impl<S: Clone, Q: Clone + Default> Clone for ConcurrencyLimit<S, Q> {
    /// A service sharing the limit, holding no permit.
    fn clone(&self) -> Self {
        ConcurrencyLimit {
            inner: self.inner.clone(),
            permits: self.permits.clone(),
            permit: None,
            queue: Q::default(),
        }
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load, Q> crate::load::Load for ConcurrencyLimit<S, Q> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
