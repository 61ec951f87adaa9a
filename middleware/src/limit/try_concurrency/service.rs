use std::task::{Context, Poll};

use donjon_service::Service;

use super::future::ResponseFuture;
use crate::BoxError;
use crate::limit::concurrency::future::ResponseFuture as Called;
use crate::limit::concurrency::permits::{Permit, Permits};
#[cfg(feature = "metrics")]
use crate::limit::meter;
use crate::sync::is_withdrawal;

/// Limits how many requests the inner service handles at once, refusing
/// the requests over the limit at once with
/// [`Overloaded`](super::error::Overloaded) instead of queueing them.
///
/// # Backpressure
///
/// `poll_ready` takes a free permit if there is one, then waits for the
/// inner service (`Pending` while it is not ready, the permit kept). When
/// no permit is free it returns `Ready(Ok(()))` at once, without polling the
/// inner service, and the next `call` fails with `Overloaded` without
/// reaching it. It never queues: there is no order among callers, and a
/// permit that comes back goes to whoever asks next. A limit of 0 refuses
/// every request.
///
/// # Cancellation
///
/// A dropped response future gives its permit back, as does a service
/// dropped while it holds an unused one. A refused call holds nothing.
/// A caller that gives up while the inner service is not ready (polled for
/// the last time by [`LoadShed`](crate::load_shed::LoadShed) or
/// [`TotalTimeout`](crate::timeout::TotalTimeout)) gives its permit back.
///
/// # Errors
///
/// The inner service's errors, boxed, and `Overloaded` for a refused call.
///
/// # Panics
///
/// `new` panics if `max` is more than
/// [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS). `call`
/// panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
///
/// # Metrics
///
/// With the `metrics` feature, the requests refused
/// (`donjon_concurrency_limit_refusals_total`, counted by the `call` that
/// fails) and the permits in use (`donjon_concurrency_limit_in_flight`, as
/// for a [`ConcurrencyLimit`](crate::limit::ConcurrencyLimit)), under the
/// name given to `with_name` (`"try_concurrency_limit"` if none). Its
/// callers never wait, so it records no waiters.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::TryConcurrencyLimit;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = TryConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 8);
/// assert_eq!(service.oneshot(3).await?, 3);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct TryConcurrencyLimit<S> {
    inner: S,
    /// A concurrency limit's permits, only ever taken without queueing.
    permits: Permits,
    /// What `poll_ready` decided for the next call.
    next: Next,
    /// Its last call was refused: a refusal after a request let through
    /// is reported, the ones after it are not.
    refusing: bool,
    /// The requests refused.
    #[cfg(feature = "metrics")]
    refusals: metrics::Counter,
}

#[derive(Debug)]
enum Next {
    /// `poll_ready` has not decided yet.
    Undecided,
    /// A permit, for a call once the inner service is ready.
    Permit(Permit),
    /// No permit was free: the call is refused.
    Refuse,
}

impl<S> TryConcurrencyLimit<S> {
    /// Wraps `inner`, letting at most `max` requests in flight at once and
    /// refusing the others.
    ///
    /// # Panics
    ///
    /// If `max` is more than
    /// [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS).
    pub fn new(inner: S, max: usize) -> Self {
        Self::with_parts(
            inner,
            max,
            #[cfg(feature = "metrics")]
            meter::TRY_CONCURRENCY_LIMIT.into(),
        )
    }

    /// Wraps `inner` in a limit of `max`, named `name` in its metrics.
    pub(super) fn with_parts(
        inner: S,
        max: usize,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        TryConcurrencyLimit {
            inner,
            permits: Permits::new(
                max,
                #[cfg(feature = "metrics")]
                meter::concurrency(name.clone(), false),
            ),
            next: Next::Undecided,
            refusing: false,
            #[cfg(feature = "metrics")]
            refusals: meter::concurrency_refusals(name),
        }
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"try_concurrency_limit"` unless set,
    /// so that two limits of one process should each have their own.
    ///
    /// The handles taken under the default name when the service was made
    /// stay with the recorder, at zero; a
    /// [`TryConcurrencyLimitLayer::with_name`](super::TryConcurrencyLimitLayer::with_name)
    /// takes only those of the name it is given.
    ///
    /// # Panics
    ///
    /// If the limit is shared already, or this service holds a permit:
    /// name a limit as it is made, before it is cloned or polled.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name = name.into();
        assert!(
            !matches!(self.next, Next::Permit(_))
                && self
                    .permits
                    .set_meter(meter::concurrency(name.clone(), false)),
            "TryConcurrencyLimit::with_name names a limit as it is made: call it before the \
             service is cloned or polled"
        );
        self.refusals = meter::concurrency_refusals(name);
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

    /// Returns the inner service, giving back an unused permit.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for TryConcurrencyLimit<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<Called<S::Future>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !matches!(self.next, Next::Permit(_)) {
            match self.permits.try_acquire() {
                Some(permit) => self.next = Next::Permit(permit),
                None => {
                    self.next = Next::Refuse;
                    return Poll::Ready(Ok(()));
                }
            }
        }
        match self.inner.poll_ready(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(error)) => {
                self.next = Next::Undecided;
                Poll::Ready(Err(error.into()))
            }
            Poll::Pending => {
                if is_withdrawal(cx.waker()) {
                    // The caller stops waiting: no permit held for it.
                    self.next = Next::Undecided;
                }
                Poll::Pending
            }
        }
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        match std::mem::replace(&mut self.next, Next::Undecided) {
            Next::Permit(permit) => {
                self.refusing = false;
                ResponseFuture::called(Called::new(self.inner.call(request), permit))
            }
            Next::Refuse => {
                if !self.refusing {
                    self.refusing = true;
                    tracing_refusing(&self.permits);
                }
                #[cfg(feature = "metrics")]
                self.refusals.increment(1);
                ResponseFuture::overloaded()
            }
            Next::Undecided => panic!(
                "TryConcurrencyLimit called before it was ready; poll_ready must return \
                 Ready(Ok(())) before each call"
            ),
        }
    }
}

/// Reports a service starting to refuse requests.
#[cold]
fn tracing_refusing(permits: &Permits) {
    tracing::debug!(
        limit = permits.limit(),
        "try concurrency limit: every permit is in use, requests are refused"
    );
}

impl<S: Clone> Clone for TryConcurrencyLimit<S> {
    /// A service sharing the limit, holding no permit.
    fn clone(&self) -> Self {
        TryConcurrencyLimit {
            inner: self.inner.clone(),
            permits: self.permits.clone(),
            next: Next::Undecided,
            refusing: false,
            #[cfg(feature = "metrics")]
            refusals: self.refusals.clone(),
        }
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load> crate::load::Load for TryConcurrencyLimit<S> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
