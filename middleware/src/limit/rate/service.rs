use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;

use super::Rate;
use super::budget::{Budget, Taken};
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// Lets at most [`Rate::num`] requests through per [`Rate::per`].
///
/// The budget is counted in fixed windows: a window opens with the first
/// request after the previous window ended, and holds `num` requests. When
/// the budget is spent, `poll_ready` is `Pending` until the window ends.
///
/// `RateLimit` is `Clone`, and **all clones share one budget**: cloning a
/// rate-limited service (as web frameworks do per connection or per route)
/// does not multiply the rate. Each `poll_ready` that returns `Ready(Ok(()))`
/// takes one request of the budget for its handle's next `call`; a handle
/// dropped before using it gives it back.
///
/// It can be built, and used until its first budget runs out, outside a
/// tokio runtime; waiting for a window to end needs one. Taking a request of
/// the budget reads no clock and takes no lock: the end of each window is
/// signalled by a tokio timer, so a window lasts at least its period (a
/// little more if the runtime is slow to fire timers), never less.
///
/// A handle that took a request in one window and calls only after that
/// window ended is charged in the window its call starts in, so that at
/// most `num` calls start in any window. If other clones have spent that
/// window already, the call still goes ahead, as its `poll_ready` promised,
/// and is taken from the next window's budget.
///
/// # Backpressure
///
/// `poll_ready` is `Pending` while the budget of the current window is
/// spent, and wakes the caller when the window ends. The inner service's
/// readiness is polled once a request of the budget is held.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
/// `poll_ready` panics when it has to wait for a window to end outside a
/// tokio runtime, and inside a runtime without its time driver enabled.
///
/// # Metrics
///
/// With the `metrics` feature, the callers made to wait
/// (`donjon_rate_limit_waits_total`, with the label `limiter` set to
/// `"rate_limit"`), under the name given to `with_name` (`"rate_limit"` if
/// none): a handle counts once each time `poll_ready` returns `Pending`
/// after it last got a request of the budget (a handle woken and made to
/// wait again, for the next window, is still the same wait). Getting a
/// request of the budget costs a test of a flag of the handle.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, ServiceExt, service_fn};
/// use donjon::limit::rate::{Rate, RateLimit};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let echo = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let limited = RateLimit::new(echo, Rate::new(10, Duration::from_secs(1)));
/// // Clones share the 10 requests per second.
/// let clone = limited.clone();
/// assert_eq!(limited.oneshot(1).await? + clone.oneshot(2).await?, 3);
/// # Ok(())
/// # }
/// ```
pub struct RateLimit<S> {
    inner: S,
    budget: BudgetHandle,
}

/// One handle's link to the shared budget, with the request of the budget
/// it holds for its next call, given back if the handle is dropped unused.
struct BudgetHandle {
    budget: Arc<Budget>,
    /// Identifies this handle among those waiting for the budget; 0 until
    /// it first waits, and while it is 0 it is not among them.
    id: u64,
    reserved: Option<Taken>,
    /// Whether this handle waits, and was counted in the budget's waits.
    #[cfg(feature = "metrics")]
    waiting: bool,
}

impl BudgetHandle {
    fn new(budget: Arc<Budget>) -> Self {
        BudgetHandle {
            budget,
            id: 0,
            reserved: None,
            #[cfg(feature = "metrics")]
            waiting: false,
        }
    }

    /// Takes a request of the budget for the next call, or registers `cx`
    /// to be woken when one may be available.
    #[inline]
    fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let polled = self.budget.poll_take(&mut self.id, cx);
        #[cfg(feature = "metrics")]
        if polled.is_pending() != self.waiting {
            self.waiting = polled.is_pending();
            if self.waiting {
                self.budget.waits().increment(1);
            }
        }
        self.reserved = Some(ready!(polled));
        Poll::Ready(())
    }
}

impl Drop for BudgetHandle {
    fn drop(&mut self) {
        if let Some(taken) = self.reserved.take() {
            self.budget.give_back(taken);
        }
        if self.id != 0 {
            self.budget.forget(self.id);
        }
    }
}

impl<S> RateLimit<S> {
    /// Wraps `inner`, letting `rate.num()` requests through per
    /// `rate.per()`.
    pub fn new(inner: S, rate: Rate) -> Self {
        Self::with_parts(
            inner,
            rate,
            #[cfg(feature = "metrics")]
            meter::RATE_LIMIT.into(),
        )
    }

    /// Wraps `inner` in a limit of `rate`, named `name` in its metrics.
    pub(super) fn with_parts(
        inner: S,
        rate: Rate,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        let budget = Budget::new(
            rate,
            #[cfg(feature = "metrics")]
            meter::rate_limit_waits(name, meter::RATE_LIMIT),
        );
        RateLimit {
            inner,
            budget: BudgetHandle::new(budget),
        }
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"rate_limit"` unless set, so that two
    /// limits of one process should each have their own.
    ///
    /// The counter taken under the default name when the service was made
    /// stays with the recorder, at zero; a
    /// [`RateLimitLayer::with_name`](super::RateLimitLayer::with_name) takes
    /// only that of the name it is given.
    ///
    /// # Panics
    ///
    /// If the budget is shared already: name a limit as it is made, before
    /// it is cloned.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Arc::get_mut(&mut self.budget.budget)
            .expect(
                "RateLimit::with_name names a limit as it is made: call it before the service is \
                 cloned",
            )
            .set_waits(meter::rate_limit_waits(name.into(), meter::RATE_LIMIT));
        self
    }

    /// The rate this service is limited to.
    pub fn rate(&self) -> Rate {
        self.budget.budget.rate()
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, giving back an unused request of the
    /// budget.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> Service<Req> for RateLimit<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.budget.reserved.is_none() {
            ready!(self.budget.poll_reserve(cx));
        }
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        let taken = self
            .budget
            .reserved
            .take()
            .expect("service not ready; poll_ready must be called first");
        self.budget.budget.charge(taken);
        self.inner.call(request)
    }
}

impl<S: Clone> Clone for RateLimit<S> {
    fn clone(&self) -> Self {
        RateLimit {
            inner: self.inner.clone(),
            // Same budget; the clone holds no request of it.
            budget: BudgetHandle::new(Arc::clone(&self.budget.budget)),
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for RateLimit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("rate", &self.rate())
            .field("reserved", &self.budget.reserved.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load> crate::load::Load for RateLimit<S> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
