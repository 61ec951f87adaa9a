use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use donjon_service::Service;
use tokio::time::{Instant, Sleep};

use super::future::ResponseFuture;
use crate::BoxError;
#[cfg(feature = "metrics")]
use crate::metrics::names;

/// Rejects requests at once with [`Overloaded`](super::error::Overloaded) when the inner service is
/// not ready, instead of making the caller wait.
///
/// `poll_ready` polls the inner service once and reports ready either way;
/// the next `call` then goes to the inner service if it was ready, or fails
/// with [`Overloaded`](super::error::Overloaded) without touching it. Each readiness of the inner
/// service serves one call.
///
/// # Errors
///
/// Errors are boxed into a [`BoxError`]: [`Overloaded`](super::error::Overloaded) for shed requests,
/// the inner service's errors (from `poll_ready` or the response) as they
/// are.
///
/// # Bounded wait
///
/// Made with [`with_max_wait`](LoadShed::with_max_wait), it waits up to a
/// set time for the inner service to become ready before shedding: a
/// `Pending` that resolves within the wait (a permit freed, or a spurious
/// `Pending` from tokio's cooperative budget) costs a short wait, not a
/// rejected request. Around a concurrency limit, that makes a bulkhead with
/// a maximum wait. The wait starts at the first `Pending` (the clock is read
/// then, not on the fast path) and ends when the inner service is ready or
/// the time is up, whichever comes first; its timer is allocated once per
/// service and reused. Waiting needs a tokio runtime with its time driver.
///
/// # Backpressure
///
/// None reaches the caller beyond the bounded wait: that is the point. The
/// inner service's readiness is still polled, so its wake-ups are
/// registered, but a caller is never left `Pending` by this layer for longer
/// than the maximum wait (never at all without one).
///
/// # Cancellation
///
/// The response future is the inner service's (or `Overloaded` at once):
/// dropping it drops the inner one, and whatever that held. A shed request
/// holds nothing. When the caller is shed (at once, or when a bounded wait
/// runs out), the inner service is polled one last time with a withdrawal
/// waker, so that a limit under it does not keep a queue place or a
/// permit for a caller that is gone (see `ConcurrencyLimit` and the
/// adaptive limit). Dropping the service during a bounded wait drops its
/// timer.
///
/// # Metrics
///
/// With the `metrics` feature, each shed request counts in
/// `donjon_load_shed_total` (see [`metrics`](crate::metrics)), under the
/// name given to [`with_name`](LoadShed::with_name) or to the layer
/// (`"load_shed"` by default for a [`LoadShedLayer`](super::LoadShedLayer)).
/// [`new`](LoadShed::new) and [`with_max_wait`](LoadShed::with_max_wait)
/// are `const fn`s, which cannot reach a recorder: a `LoadShed` made with
/// them records nothing until it is named. The counter's handle is taken
/// when it is named, and shared by its clones. A shed request costs one
/// increment of it; a served one, nothing.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt};
/// use donjon::load_shed::LoadShed;
///
/// # futures::executor::block_on(async {
/// let mut service = LoadShed::new(donjon::service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }));
/// assert_eq!(service.ready().await?.call(7).await?, 7);
/// # Ok::<(), BoxError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct LoadShed<S> {
    inner: S,
    /// Whether the last `poll_ready` found the inner service ready.
    inner_ready: bool,
    /// How long to wait for the inner service before shedding.
    max_wait: Option<Duration>,
    /// The timer of the current (or last) wait, kept for reuse.
    timer: Option<Pin<Box<Sleep>>>,
    /// Whether `timer` times a wait in progress.
    waiting: bool,
    /// `donjon_load_shed_total`: a no-op until named.
    #[cfg(feature = "metrics")]
    shed: metrics::Counter,
}

impl<S> LoadShed<S> {
    /// Wraps `inner`.
    pub const fn new(inner: S) -> Self {
        LoadShed {
            inner,
            inner_ready: false,
            max_wait: None,
            timer: None,
            waiting: false,
            #[cfg(feature = "metrics")]
            shed: metrics::Counter::noop(),
        }
    }

    /// Wraps `inner`, waiting up to `max_wait` for it to become ready
    /// before shedding a request; see [Bounded wait](LoadShed#bounded-wait).
    /// A `max_wait` of zero sheds at the first `Pending`, as
    /// [`new`](LoadShed::new) does.
    pub const fn with_max_wait(inner: S, max_wait: Duration) -> Self {
        LoadShed {
            inner,
            inner_ready: false,
            max_wait: Some(max_wait),
            timer: None,
            waiting: false,
            #[cfg(feature = "metrics")]
            shed: metrics::Counter::noop(),
        }
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)), taking the handle of
    /// `donjon_load_shed_total` from the recorder installed now.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        let name: std::borrow::Cow<'static, str> = name.into();
        self.shed = metrics::counter!(names::LOAD_SHED, names::NAME => name);
        self
    }

    /// How long it waits for the inner service before shedding, if at all.
    pub const fn max_wait(&self) -> Option<Duration> {
        self.max_wait
    }

    /// Whether the bounded wait is over (or there is none): `true` to shed,
    /// `false` to keep waiting, with `cx` registered with the timer.
    fn wait_is_over(&mut self, cx: &mut Context<'_>) -> bool {
        let max_wait = match self.max_wait {
            Some(max_wait) if !max_wait.is_zero() => max_wait,
            _ => return true,
        };
        let timer = match &mut self.timer {
            Some(timer) if self.waiting => timer,
            slot => crate::time::reset_sleep(slot, crate::time::deadline(Instant::now(), max_wait)),
        };
        self.waiting = true;
        // The wait stays over (a finished timer stays ready) until the shed
        // call, so that polling again does not start a new one.
        timer.as_mut().poll(cx).is_ready()
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

impl<S, Req> Service<Req> for LoadShed<S>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        if !self.inner_ready {
            let mut ready = self.inner.poll_ready(cx);
            if ready.is_pending() {
                if !self.wait_is_over(cx) {
                    return Poll::Pending;
                }
                // Nobody waits any more: the services below give back what
                // they hold or queue for (a concurrency limit's place in its
                // queue), unless they became ready just now, and then the
                // call is served after all.
                ready = crate::sync::withdraw(&mut self.inner);
                if ready.is_pending() {
                    tracing_shed(self.max_wait);
                }
            }
            match ready {
                Poll::Ready(Ok(())) => {
                    self.inner_ready = true;
                    self.waiting = false;
                }
                Poll::Ready(Err(error)) => {
                    self.waiting = false;
                    return Poll::Ready(Err(error.into()));
                }
                // Shed: the wait stays over until the call.
                Poll::Pending => {}
            }
        }
        // Ready either way: a call made now is either served or shed.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Req) -> Self::Future {
        self.waiting = false;
        if std::mem::take(&mut self.inner_ready) {
            ResponseFuture::called(self.inner.call(request))
        } else {
            #[cfg(feature = "metrics")]
            self.shed.increment(1);
            ResponseFuture::overloaded()
        }
    }
}

impl<S: Clone> Clone for LoadShed<S> {
    fn clone(&self) -> Self {
        // A clone has not polled the inner service yet, nor started a wait.
        LoadShed {
            max_wait: self.max_wait,
            #[cfg(feature = "metrics")]
            shed: self.shed.clone(),
            ..LoadShed::new(self.inner.clone())
        }
    }
}

/// Reports a request about to be shed after a full wait.
/// Reports a request shed after a bounded wait (not one shed at once).
fn tracing_shed(max_wait: Option<Duration>) {
    #[cfg(feature = "tracing")]
    if let Some(max_wait) = max_wait.filter(|wait| !wait.is_zero()) {
        tracing::debug!(
            ?max_wait,
            "load shed: the inner service was not ready in time"
        );
    }
    #[cfg(not(feature = "tracing"))]
    let _ = max_wait;
}
