use std::fmt;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::time::Instant;

use super::algorithm::Algorithm;
use super::future::ResponseFuture;
use super::handle::Handle;
use super::limiter::{Limiter, Limits, Permit, Shared};
use crate::BoxError;
use crate::classify::{Classify, ErrorsAreFailures};
use crate::discipline::QueueDelay;
use crate::limit::concurrency::{Disciplined, Fifo};
#[cfg(feature = "metrics")]
use crate::limit::meter;
use crate::overloaded::ResponseFuture as MaybeRefused;

/// Limits how many requests the inner service handles at once, with a
/// limit that an [`Algorithm`] moves after each finished call.
///
/// `poll_ready` first takes a slot of the limiter (a request counts as in
/// flight from then on), then waits for the inner service; the slot is kept
/// (not taken twice) while the inner service is not ready. `call` starts
/// the clock (tokio's) and moves the slot into the response future. When
/// the response is ready, the classifier (by default
/// [`ErrorsAreFailures`]) says whether the call succeeded or failed; the
/// algorithm gets a [`Sample`](super::Sample) of its latency, of the
/// in-flight count when its slot was taken, and of the outcome, and
/// returns the new limit, which is brought within the minimum and maximum;
/// then the slot goes back. A call classified
/// [`Ignored`](crate::classify::Outcome::Ignored) only gives its slot back.
///
/// Clones share one limiter (one limit, one in-flight count, one
/// algorithm), and start without a slot. [`handle`](Self::handle) reads
/// the figures.
///
/// Taking a slot is one compare-and-swap; no allocation is made per
/// request (a clone allocates its place in the queue the first time it
/// waits, and keeps it). The algorithm runs under a lock shared by the
/// clones, held for one [`Algorithm::update`] per finished call; an
/// algorithm with a [stateless copy](Algorithm::stateless_copy), such as
/// [`Aimd`](super::Aimd), runs without it, and the lock is taken only when
/// the limit changes.
///
/// # Backpressure
///
/// `poll_ready` is `Pending` while the requests in flight reach the limit.
/// A waiting caller is woken when a request finishes (or is dropped) and
/// its slot is free under the limit then in force, or when the limit grows;
/// waiting callers are served one at a time, in the order they started
/// waiting. After the limit shrinks below the requests in flight, new
/// callers wait until enough of them finish.
///
/// The layer's
/// [`with_queue`](super::AdaptiveConcurrencyLimitLayer::with_queue) serves
/// the waiters by a [`QueueDiscipline`](crate::limit::QueueDiscipline)
/// instead, as [`ConcurrencyLimit`](crate::limit::ConcurrencyLimit#queue-discipline)
/// does: the service is then an `AdaptiveConcurrencyLimit<S, A, C,
/// Disciplined>`, whose errors are boxed, and a refused caller's call fails
/// at once with `Overloaded` (no sample for the algorithm).
///
/// # Errors
///
/// None of its own (without a discipline): errors from the inner service
/// (from `poll_ready` or from the response future) reach the caller
/// unchanged. An error of the inner `poll_ready` gives back the slot this
/// clone held; an error of a response is classified like any result.
///
/// # Cancellation
///
/// A response future dropped before it finished gives its slot back and
/// counts as neither a success nor a failure: the algorithm does not see
/// it. A dropped service gives back the slot it reserved, or its place in
/// the queue.
///
/// # Panics
///
/// `call` panics when no slot is held, that is, without a preceding
/// `poll_ready` returning `Ready(Ok(()))`.
///
/// # Metrics
///
/// With the `metrics` feature, the limit (`donjon_adaptive_limit`, set
/// when the service is made and whenever the algorithm moves it, under the
/// lock that orders the changes) and the requests in flight as the
/// [`Handle`] counts them (`donjon_adaptive_limit_in_flight`, moved by each
/// slot taken and given back), under the name given to `with_name`
/// (`"adaptive_concurrency_limit"` if none).
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use donjon::Service;
/// use donjon::limit::adaptive::{AdaptiveConcurrencyLimit, Vegas};
///
/// # #[derive(Clone)] struct Backend;
/// # impl Service<u32> for Backend {
/// #     type Response = u32;
/// #     type Error = std::convert::Infallible;
/// #     type Future = std::future::Ready<Result<u32, Self::Error>>;
/// #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
/// #         std::task::Poll::Ready(Ok(()))
/// #     }
/// #     fn call(&mut self, n: u32) -> Self::Future { std::future::ready(Ok(n * 2)) }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), std::convert::Infallible> {
/// // `Backend` is any service; this one doubles numbers.
/// let mut service = AdaptiveConcurrencyLimit::new(Backend, Vegas::new());
/// let handle = service.handle();
/// assert_eq!(handle.limit(), 20);
///
/// poll_fn(|cx| service.poll_ready(cx)).await?;
/// assert_eq!(handle.in_flight(), 1);
/// assert_eq!(service.call(21).await?, 42);
/// assert_eq!(handle.in_flight(), 0);
/// # Ok(())
/// # }
/// ```
pub struct AdaptiveConcurrencyLimit<S, A, C = ErrorsAreFailures, Q = Fifo> {
    inner: S,
    limiter: Limiter<A, C>,
    /// The slot reserved by `poll_ready` for the next call.
    reserved: Option<Permit<A, C>>,
    /// Whether a discipline refused this service's caller, for a
    /// disciplined queue.
    queue: Q,
}

impl<S, A: Algorithm> AdaptiveConcurrencyLimit<S, A> {
    /// Wraps `inner`, with a limit moved by `algorithm`: starting at 20,
    /// between 1 and 1000, errors counted as failures.
    ///
    /// Use [`AdaptiveConcurrencyLimitLayer`](super::AdaptiveConcurrencyLimitLayer)
    /// to set the limits or the classification.
    pub fn new(inner: S, algorithm: A) -> Self {
        Self::with_parts(
            inner,
            algorithm,
            ErrorsAreFailures,
            Limits::DEFAULT,
            #[cfg(feature = "metrics")]
            meter::ADAPTIVE_CONCURRENCY_LIMIT.into(),
        )
    }
}

impl<S, A: Algorithm, C, Q: Default> AdaptiveConcurrencyLimit<S, A, C, Q> {
    /// # Panics
    ///
    /// If `limits` are inconsistent.
    pub(super) fn with_parts(
        inner: S,
        algorithm: A,
        classify: C,
        limits: Limits,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        AdaptiveConcurrencyLimit {
            inner,
            limiter: Limiter::new(Shared::new(
                algorithm,
                classify,
                limits,
                #[cfg(feature = "metrics")]
                name,
            )),
            reserved: None,
            queue: Q::default(),
        }
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"adaptive_concurrency_limit"` unless
    /// set, so that two limits of one process should each have their own.
    ///
    /// The handles taken under the default name when the service was made
    /// stay with the recorder (the limit at its initial value); an
    /// [`AdaptiveConcurrencyLimitLayer::with_name`](super::AdaptiveConcurrencyLimitLayer::with_name)
    /// takes only those of the name it is given.
    ///
    /// # Panics
    ///
    /// If the limiter is shared already (with a clone, a [`Handle`] or a
    /// response future), or this service holds a slot: name a limit as it
    /// is made, before it is cloned, polled or asked for a handle.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        const MISUSE: &str = "AdaptiveConcurrencyLimit::with_name names a limit as it is made: \
                              call it before the service is cloned, polled or asked for a handle";
        let AdaptiveConcurrencyLimit {
            inner,
            limiter,
            reserved,
            queue,
        } = self;
        assert!(reserved.is_none(), "{MISUSE}");
        let mut shared = limiter.into_shared().expect(MISUSE);
        assert!(shared.set_name(name.into()), "{MISUSE}");
        AdaptiveConcurrencyLimit {
            inner,
            limiter: Limiter::new(shared),
            reserved: None,
            queue,
        }
    }
}

impl<S, A, C> AdaptiveConcurrencyLimit<S, A, C, Disciplined> {
    /// How long the oldest caller waiting for a slot has waited so far
    /// (shared by the clones; zero while nobody waits).
    pub fn queue_delay(&self) -> QueueDelay {
        self.limiter
            .shared()
            .queue_delay()
            .expect("a disciplined limit's gate has a discipline")
    }
}

impl<S, A, C, Q> AdaptiveConcurrencyLimit<S, A, C, Q> {
    /// Returns a handle that reads the limit and the in-flight count of
    /// this service and its clones.
    pub fn handle(&self) -> Handle {
        Handle::new(std::sync::Arc::clone(self.limiter.shared().slots()))
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, giving back the slot this service
    /// reserved.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, A, C, Req> Service<Req> for AdaptiveConcurrencyLimit<S, A, C>
where
    S: Service<Req>,
    A: Algorithm,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, A, C>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.reserved.is_none() {
            let permit = ready!(self.limiter.poll_acquire(cx));
            self.reserved = Some(permit.expect("a limit without a discipline refuses nobody"));
        }
        let ready = self.inner.poll_ready(cx);
        if let Poll::Ready(Err(_)) = ready {
            // A failed service does not keep a slot from the others.
            self.reserved = None;
        }
        ready
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let permit = self.reserved.take().expect(
            "AdaptiveConcurrencyLimit called without a reserved slot; \
             poll_ready must be called first and return Ready(Ok(()))",
        );
        let start = Instant::now();
        ResponseFuture::new(self.inner.call(request), permit, start)
    }
}

impl<S, A, C, Req> Service<Req> for AdaptiveConcurrencyLimit<S, A, C, Disciplined>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    A: Algorithm,
    C: Classify<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = MaybeRefused<ResponseFuture<S::Future, A, C>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let limiter = &mut self.limiter;
        if ready!(
            self.queue
                .poll_reserve(&mut self.reserved, || limiter.poll_acquire(cx))
        ) {
            // Refused: the call fails at once, and is no sample.
            return Poll::Ready(Ok(()));
        }
        let ready = self.inner.poll_ready(cx);
        if let Poll::Ready(Err(_)) = ready {
            self.reserved = None;
        }
        ready.map_err(Into::into)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        if self.queue.take_refusal() {
            return MaybeRefused::overloaded();
        }
        let permit = self.reserved.take().expect(
            "AdaptiveConcurrencyLimit called without a reserved slot; \
             poll_ready must be called first and return Ready(Ok(()))",
        );
        let start = Instant::now();
        MaybeRefused::called(ResponseFuture::new(self.inner.call(request), permit, start))
    }
}

impl<S: Clone, A, C, Q: Default> Clone for AdaptiveConcurrencyLimit<S, A, C, Q> {
    /// The same limiter, without this service's reserved slot.
    fn clone(&self) -> Self {
        AdaptiveConcurrencyLimit {
            inner: self.inner.clone(),
            limiter: self.limiter.clone(),
            reserved: None,
            queue: Q::default(),
        }
    }
}

impl<S: fmt::Debug, A, C, Q> fmt::Debug for AdaptiveConcurrencyLimit<S, A, C, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveConcurrencyLimit")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter)
            .field("reserved", &self.reserved.is_some())
            .finish()
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load, A, C, Q> crate::load::Load for AdaptiveConcurrencyLimit<S, A, C, Q> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
