use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use donjon_service::Service;
use tokio::time::{Instant, Sleep};

use super::Quota;
use super::state::State;
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// Lets requests through at a steady rate, with a bounded burst: the
/// generic cell rate algorithm (GCRA).
///
/// In any interval of length `t`, at most `burst + rate × t` requests pass
/// (see [`Quota`]). Unlike [`RateLimit`](crate::limit::RateLimit)'s fixed
/// windows, which let up to twice the rate through across a window's end,
/// the limit holds over every interval, wherever it starts.
///
/// `Gcra` is `Clone`, and **all clones share one limit**. The state is one
/// atomic word: deciding takes one clock read and one compare-and-swap,
/// with no lock and no allocation.
///
/// # Backpressure
///
/// `poll_ready` admits one request for the handle's next `call`, then polls
/// the inner service. When the limit is reached it is `Pending`, and wakes
/// the caller when a request would be admitted (it sets a timer, the only
/// allocation, kept for the next wait). Waiting handles form no queue: each
/// tries again at its own time.
///
/// tokio's timers fire up to a millisecond late, and a waiting caller
/// admitted late cannot make up for it beyond the quota's burst: a single
/// caller that always waits gets at most about `burst` requests per
/// millisecond. For rates above a thousand per second, give the quota a
/// burst of at least `1 + 1 ms / emission interval` (see
/// [`Quota::with_burst`]).
///
/// # Cancellation
///
/// A handle dropped with an admitted request it did not use gives it back
/// if no request was admitted after it; otherwise the request counts as
/// used, since taking it back then could let the limit be exceeded.
///
/// # Panics
///
/// `call` panics without a preceding `poll_ready` returning `Ready(Ok(()))`.
/// `poll_ready` panics when it has to wait outside a tokio runtime with its
/// time driver enabled.
///
/// # Metrics
///
/// With the `metrics` feature, the callers made to wait
/// (`donjon_rate_limit_waits_total`, with the label `limiter` set to
/// `"gcra"`), under the name given to `with_name` (`"gcra"` if none): a
/// handle counts once each time `poll_ready` returns `Pending` after its
/// last admitted request. An admission costs one write of a flag of the
/// handle.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
/// use donjon::limit::gcra::{Gcra, Quota};
/// use futures::FutureExt;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), BoxError> {
/// // 10 per second, at most 2 at once.
/// let quota = Quota::new(10, Duration::from_secs(1))?.with_burst(2)?;
/// let echo = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
/// let mut limited = Gcra::new(echo, quota);
///
/// limited.ready().await?.call(1).await?;
/// limited.ready().await?.call(2).await?;
/// // The burst is spent; the next request is admitted 100 ms later.
/// assert!(limited.ready().now_or_never().is_none());
/// tokio::time::advance(Duration::from_millis(100)).await;
/// assert_eq!(limited.ready().await?.call(3).await?, 3);
/// # Ok(())
/// # }
/// ```
pub struct Gcra<S> {
    inner: S,
    admission: Admission,
    /// Wakes this handle when its next request would be admitted.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Whether this handle waits, and was counted in the state's waits
    /// (and reported).
    waiting: bool,
}

/// One handle's link to the shared state, with the request admitted for
/// its next call, given back (when it can be) if the handle is dropped.
#[derive(Debug)]
struct Admission {
    state: Arc<State>,
    /// The TAT left by the request admitted for the next call.
    tat: Option<u64>,
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(tat) = self.tat.take() {
            self.state.give_back(tat);
        }
    }
}

impl<S> Gcra<S> {
    /// Wraps `inner`, letting requests through as `quota` allows.
    pub fn new(inner: S, quota: Quota) -> Self {
        Self::with_parts(
            inner,
            quota,
            #[cfg(feature = "metrics")]
            meter::GCRA.into(),
        )
    }

    /// Wraps `inner` in a limit of `quota`, named `name` in its metrics.
    pub(super) fn with_parts(
        inner: S,
        quota: Quota,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self {
        let state = State::new(
            quota,
            #[cfg(feature = "metrics")]
            meter::rate_limit_waits(name, meter::GCRA),
        );
        Gcra {
            inner,
            admission: Admission {
                state: Arc::new(state),
                tat: None,
            },
            sleep: None,
            waiting: false,
        }
    }

    /// Names the limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"gcra"` unless set, so that two limits
    /// of one process should each have their own.
    ///
    /// The counter taken under the default name when the service was made
    /// stays with the recorder, at zero; a
    /// [`GcraLayer::with_name`](super::GcraLayer::with_name) takes only that
    /// of the name it is given.
    ///
    /// # Panics
    ///
    /// If the limit is shared already: name a limit as it is made, before
    /// it is cloned.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        Arc::get_mut(&mut self.admission.state)
            .expect("Gcra::with_name names a limit as it is made: call it before it is cloned")
            .set_waits(meter::rate_limit_waits(name.into(), meter::GCRA));
        self
    }

    /// The quota this service is limited to.
    pub fn quota(&self) -> Quota {
        self.admission.state.quota()
    }

    /// Returns a reference to the inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the inner service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the inner service, giving back an unused admitted request
    /// as a drop would.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Waits until `at`, then admits a request, as many times as needed.
    #[cold]
    fn poll_admit_slow(&mut self, cx: &mut Context<'_>, mut at: Instant) -> Poll<()> {
        loop {
            let sleep = crate::time::reset_sleep(&mut self.sleep, at);
            if sleep.as_mut().poll(cx).is_pending() {
                if !self.waiting {
                    self.waiting = true;
                    #[cfg(feature = "metrics")]
                    self.admission.state.waits().increment(1);
                    let quota = self.admission.state.quota();
                    tracing::debug!(
                        burst = quota.burst(),
                        num = quota.num(),
                        per = ?quota.per(),
                        retry_in = ?at.saturating_duration_since(Instant::now()),
                        "gcra: the limit is reached; a caller waits"
                    );
                }
                return Poll::Pending;
            }
            match self.admission.state.try_acquire() {
                Ok(tat) => {
                    self.admission.tat = Some(tat);
                    self.waiting = false;
                    return Poll::Ready(());
                }
                Err(next) => at = next,
            }
        }
    }
}

impl<S, Req> Service<Req> for Gcra<S>
where
    S: Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.admission.tat.is_none() {
            match self.admission.state.try_acquire() {
                Ok(tat) => {
                    self.admission.tat = Some(tat);
                    self.waiting = false;
                }
                Err(at) => ready!(self.poll_admit_slow(cx, at)),
            }
        }
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> Self::Future {
        self.admission
            .tat
            .take()
            .expect("Gcra called without an admitted request; poll_ready must return Ready(Ok(())) before each call");
        self.inner.call(request)
    }
}

impl<S: Clone> Clone for Gcra<S> {
    /// A handle on the same limit, with no request admitted.
    fn clone(&self) -> Self {
        Gcra {
            inner: self.inner.clone(),
            admission: Admission {
                state: Arc::clone(&self.admission.state),
                tat: None,
            },
            sleep: None,
            waiting: false,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for Gcra<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gcra")
            .field("inner", &self.inner)
            .field("quota", &self.quota())
            .field("admitted", &self.admission.tat.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "load")]
impl<S: crate::load::Load> crate::load::Load for Gcra<S> {
    type Metric = S::Metric;

    fn load(&self) -> Self::Metric {
        self.inner.load()
    }
}
