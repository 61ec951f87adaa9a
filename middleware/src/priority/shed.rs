//! [`PriorityShed`]: a bound on the requests in flight, of which each
//! class may use a share.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use donjon_layer::Layer;
use donjon_service::Service;
use pin_project::pin_project;

use super::class::{Priority, PriorityFor};
use crate::BoxError;
use crate::overloaded::ResponseFuture;
use crate::sync::Arc;
use crate::sync::atomic::{AtomicUsize, Ordering};

/// The share of the bound each class may fill, least critical first;
/// critical-plus requests may always fill all of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shares {
    below_critical_plus: [f64; 3],
}

impl Shares {
    /// Sheddable requests may fill `sheddable` of the bound, sheddable-plus
    /// `sheddable_plus`, critical `critical` (fractions, 0 to 1).
    ///
    /// # Panics
    ///
    /// If a share is not between 0 and 1, or a class gets less than the one
    /// below it.
    pub fn new(sheddable: f64, sheddable_plus: f64, critical: f64) -> Self {
        let shares = [sheddable, sheddable_plus, critical];
        assert!(
            shares.iter().all(|share| (0.0..=1.0).contains(share))
                && sheddable <= sheddable_plus
                && sheddable_plus <= critical,
            "a PriorityShed's shares are fractions between 0 and 1, each class's at least the \
             one below it, got {shares:?}"
        );
        Shares {
            below_critical_plus: shares,
        }
    }

    /// The queue delay at which each class is refused with a target of
    /// `target`: its share of it (critical-plus: all of it).
    fn delays(&self, target: Duration) -> [Duration; 4] {
        let [a, b, c] = self.below_critical_plus;
        [
            target.mul_f64(a),
            target.mul_f64(b),
            target.mul_f64(c),
            target,
        ]
    }

    /// The requests in flight each class may reach with a bound of `max`:
    /// its share of it, rounded down.
    fn limits(&self, max: usize) -> [usize; 4] {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a share of a count, rounded down"
        )]
        let of = |share: f64| ((share * max as f64) as usize).min(max);
        let [a, b, c] = self.below_critical_plus;
        [of(a), of(b), of(c), max]
    }
}

impl Default for Shares {
    /// 70%, 80% and 90%.
    fn default() -> Self {
        Shares::new(0.7, 0.8, 0.9)
    }
}

/// What the clones of a [`PriorityShed`] share: the requests in flight, and
/// how many each class may reach.
struct Counts {
    in_flight: AtomicUsize,
    limits: [usize; 4],
}

/// How long the callers of a queue have waited: the signal a
/// [`PriorityShed`] sheds by when given one
/// ([`with_queue_delay`](PriorityShed::with_queue_delay)).
///
/// It is implemented for closures returning a [`Duration`] and, with the
/// `limit` or `buffer` feature, for the
/// [`QueueDelay`](crate::limit::QueueDelay) of a concurrency limit or a
/// buffer whose queue has a discipline.
pub trait DelaySignal: Send + Sync + 'static {
    /// How long the oldest caller in the queue has waited so far.
    fn delay(&self) -> Duration;
}

impl<F> DelaySignal for F
where
    F: Fn() -> Duration + Send + Sync + 'static,
{
    fn delay(&self) -> Duration {
        self()
    }
}

#[cfg(any(feature = "limit", feature = "buffer"))]
impl DelaySignal for crate::discipline::QueueDelay {
    fn delay(&self) -> Duration {
        self.get()
    }
}

/// A signal shared by the services a layer makes.
#[derive(Clone)]
struct SharedSignal(Arc<dyn DelaySignal>);

impl DelaySignal for SharedSignal {
    fn delay(&self) -> Duration {
        self.0.delay()
    }
}

impl fmt::Debug for SharedSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelaySignal")
            .field("delay", &self.0.delay())
            .finish()
    }
}

/// A queue-delay signal, and the delay at which each class is refused.
struct DelayBound {
    signal: Box<dyn DelaySignal>,
    refused_at: [Duration; 4],
}

/// Bounds the requests in flight at `max`, of which each [`Priority`]
/// may fill only its share (see [`Shares`]): a request whose class has
/// reached its share is refused at once with
/// [`Overloaded`](super::error::Overloaded), without reaching
/// the inner service. Under growing load the least critical requests are
/// refused first, and critical-plus ones only when the whole bound is in
/// use.
///
/// Clones share the bound; a [`PriorityShedLayer`] gives each service it
/// wraps its own.
///
/// # Queue delay
///
/// A service in front of a queue (a
/// [`ConcurrencyLimit`](crate::limit::ConcurrencyLimit) or a
/// [`Buffer`](crate::buffer::Buffer) with a
/// [`QueueDiscipline`](crate::limit::QueueDiscipline)) is saturated when its
/// callers wait, before anything like a bound on the requests in flight
/// fills. [`with_queue_delay`](Self::with_queue_delay) adds that signal:
/// with a target `T`, a request is also refused once the queue's delay (how
/// long its oldest caller has waited) reaches its class's share of `T` (by
/// default 70% of `T` for sheddable requests, 80% and 90% for the next two,
/// and `T` for critical-plus). To shed by the delay alone, give a bound of
/// `usize::MAX`. The class is known at `call`, after readiness: put the
/// `PriorityShed` in front of a buffer, whose readiness only reserves a
/// place in its queue (not in front of a limit whose readiness waits in
/// the queue it measures), or read the delay of a queue elsewhere (the
/// pool the requests will wait for).
///
/// # Backpressure
///
/// `poll_ready` is the inner service's: it takes no slot (the request, and
/// so its class, is not known yet). `call` takes a slot or refuses. A
/// refused call does not reach the inner service: what its readiness
/// reserved stays reserved for the next call.
///
/// # Cancellation
///
/// A response future holds its slot until the response is ready, or until
/// it is dropped.
///
/// # Errors
///
/// The inner service's errors, boxed, and `Overloaded`.
///
/// # Memory ordering
///
/// The count of requests in flight is all there is, and guards no other
/// data: `Relaxed` throughout. A slot is taken by a compare-and-swap
/// against the class's limit, so that two callers racing for the last slot
/// of a class cannot both take it (a loom model checks it).
///
/// # Examples
///
/// See [the module](super).
pub struct PriorityShed<S, P> {
    inner: S,
    priorities: P,
    counts: Arc<Counts>,
    /// The classes whose last request was refused: a refusal after an
    /// admission is reported, the ones after it are not.
    refusing: [bool; 4],
    #[cfg(feature = "metrics")]
    refused: Arc<[metrics::Counter; 4]>,
    /// The queue-delay signal, if it sheds by one.
    delay: Option<Arc<DelayBound>>,
    /// The shares, for the delay's thresholds.
    shares: Shares,
}

impl<S, P> PriorityShed<S, P> {
    /// Wraps `inner`, with at most `max` requests in flight, shared by the
    /// classes as [`Shares::default`] says, reading each request's class
    /// with `priorities`.
    pub fn new(inner: S, max: usize, priorities: P) -> Self {
        Self::with_shares(inner, max, priorities, Shares::default())
    }

    /// Like [`new`](Self::new), with the classes' `shares`.
    pub fn with_shares(inner: S, max: usize, priorities: P, shares: Shares) -> Self {
        PriorityShed {
            inner,
            priorities,
            counts: Arc::new(Counts {
                in_flight: AtomicUsize::new(0),
                limits: shares.limits(max),
            }),
            refusing: [false; 4],
            #[cfg(feature = "metrics")]
            refused: Arc::new(meter(std::borrow::Cow::Borrowed("priority_shed"))),
            delay: None,
            shares,
        }
    }

    /// Also refuses a request once `signal`'s queue delay reaches its
    /// class's share of `target`: see [Queue delay](Self#queue-delay). The
    /// signal is read (one clock read, for a
    /// [`QueueDelay`](crate::limit::QueueDelay)) on each call.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use donjon::limit::{ConcurrencyLimit, QueueDiscipline};
    /// use donjon::priority::{Priority, PriorityShed};
    /// use donjon::{BoxError, service_fn};
    ///
    /// let backend = service_fn(|(_, n): (Priority, u32)| async move { Ok::<_, BoxError>(n) });
    /// let limit = ConcurrencyLimit::new(backend, 8).with_queue(QueueDiscipline::fifo());
    /// let delay = limit.queue_delay();
    /// // Sheddable requests are refused once the limit's callers have waited
    /// // 70 ms, critical ones at 90 ms, critical-plus at 100 ms.
    /// let server = PriorityShed::new(limit, usize::MAX, |request: &(Priority, u32)| request.0)
    ///     .with_queue_delay(delay, Duration::from_millis(100));
    /// # drop(server);
    /// ```
    pub fn with_queue_delay(mut self, signal: impl DelaySignal, target: Duration) -> Self {
        self.delay = Some(Arc::new(DelayBound {
            signal: Box::new(signal),
            refused_at: self.shares.delays(target),
        }));
        self
    }

    /// Names it in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"priority_shed"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.refused = Arc::new(meter(name.into()));
        self
    }

    /// The requests each class may have in flight, least critical first.
    pub fn limits(&self) -> [usize; 4] {
        self.counts.limits
    }

    /// The requests in flight now (a figure).
    pub fn in_flight(&self) -> usize {
        self.counts.in_flight.load(Ordering::Relaxed)
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

/// `donjon_priority_refusals_total`, one per class.
#[cfg(feature = "metrics")]
fn meter(name: std::borrow::Cow<'static, str>) -> [metrics::Counter; 4] {
    use crate::metrics::names;
    let name = metrics::SharedString::from(name);
    Priority::ALL.map(|class| {
        let labels = [
            (names::NAME, name.clone()),
            (
                names::PRIORITY,
                metrics::SharedString::const_str(class.as_str()),
            ),
        ];
        metrics::counter!(names::PRIORITY_REFUSALS, &labels)
    })
}

impl Counts {
    /// Takes a slot for a request of `class`, if its share allows one.
    fn take(self: &Arc<Self>, class: Priority) -> Option<Slot> {
        let limit = self.limits[class.index()];
        self.in_flight
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }
}

/// A request in flight, counted until dropped.
struct Slot(Arc<Counts>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<S, P, Req> Service<Req> for PriorityShed<S, P>
where
    S: Service<Req>,
    S::Error: Into<BoxError>,
    P: PriorityFor<Req>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = ResponseFuture<Slotted<S::Future>>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: Req) -> Self::Future {
        let class = self.priorities.priority_for(&request);
        if let Some(bound) = &self.delay {
            let delay = bound.signal.delay();
            if delay >= bound.refused_at[class.index()] {
                #[cfg(feature = "metrics")]
                self.refused[class.index()].increment(1);
                if !std::mem::replace(&mut self.refusing[class.index()], true) {
                    tracing_delayed(class, delay, bound.refused_at[class.index()]);
                }
                return ResponseFuture::overloaded();
            }
        }
        match self.counts.take(class) {
            Some(slot) => {
                self.refusing[class.index()] = false;
                ResponseFuture::called(Slotted {
                    inner: self.inner.call(request),
                    slot: Some(slot),
                })
            }
            None => {
                #[cfg(feature = "metrics")]
                self.refused[class.index()].increment(1);
                if !std::mem::replace(&mut self.refusing[class.index()], true) {
                    tracing_refusing(class, self.counts.limits[class.index()]);
                }
                ResponseFuture::overloaded()
            }
        }
    }
}

/// Reports a class starting to be refused.
#[cold]
fn tracing_refusing(class: Priority, limit: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        priority = class.as_str(),
        limit,
        "priority shed: the class has filled its share, its requests are refused"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (class, limit);
}

/// Reports a class starting to be refused for the queue's delay.
#[cold]
fn tracing_delayed(class: Priority, delay: Duration, refused_at: Duration) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        priority = class.as_str(),
        ?delay,
        ?refused_at,
        "priority shed: the queue's delay reached the class's share of the target, its \
         requests are refused"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (class, delay, refused_at);
}

impl<S: Clone, P: Clone> Clone for PriorityShed<S, P> {
    /// A service sharing the bound.
    fn clone(&self) -> Self {
        PriorityShed {
            inner: self.inner.clone(),
            priorities: self.priorities.clone(),
            counts: Arc::clone(&self.counts),
            refusing: [false; 4],
            #[cfg(feature = "metrics")]
            refused: Arc::clone(&self.refused),
            delay: self.delay.clone(),
            shares: self.shares,
        }
    }
}

impl<S: fmt::Debug, P> fmt::Debug for PriorityShed<S, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PriorityShed")
            .field("inner", &self.inner)
            .field("limits", &self.counts.limits)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// Wraps services in a [`PriorityShed`], each with a bound of its own.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct PriorityShedLayer<P> {
    max: usize,
    priorities: P,
    shares: Shares,
    /// The queue-delay signal and its target, if it sheds by one.
    delay: Option<(SharedSignal, Duration)>,
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl<P> PriorityShedLayer<P> {
    /// A layer bounding each service at `max` requests in flight, shared as
    /// [`Shares::default`] says.
    pub fn new(max: usize, priorities: P) -> Self {
        PriorityShedLayer {
            max,
            priorities,
            shares: Shares::default(),
            delay: None,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("priority_shed"),
        }
    }

    /// Its services also refuse a request once `signal`'s queue delay
    /// reaches its class's share of `target`: see
    /// [`PriorityShed::with_queue_delay`].
    pub fn with_queue_delay(mut self, signal: impl DelaySignal, target: Duration) -> Self {
        self.delay = Some((SharedSignal(Arc::new(signal)), target));
        self
    }

    /// Shares the bound as `shares` says.
    pub fn shares(mut self, shares: Shares) -> Self {
        self.shares = shares;
        self
    }

    /// Names its services in their metrics: `"priority_shed"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, P: Clone> Layer<S> for PriorityShedLayer<P> {
    type Service = PriorityShed<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        let mut service =
            PriorityShed::with_shares(inner, self.max, self.priorities.clone(), self.shares);
        if let Some((signal, target)) = &self.delay {
            service = service.with_queue_delay(signal.clone(), *target);
        }
        #[cfg(feature = "metrics")]
        let service = service.with_name(self.name.clone());
        service
    }
}

/// The future of a request [`PriorityShed`] admitted: the inner one,
/// holding the request's slot until it is ready or dropped.
#[pin_project]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Slotted<F> {
    #[pin]
    inner: F,
    slot: Option<Slot>,
}

impl<F: Future> Future for Slotted<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        this.slot.take();
        Poll::Ready(output)
    }
}

impl<F: fmt::Debug> fmt::Debug for Slotted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slotted")
            .field("inner", &self.inner)
            .field("holds_slot", &self.slot.is_some())
            .finish()
    }
}

#[cfg(all(test, donjon_loom))]
mod loom_models {
    use super::*;

    #[test]
    fn loom_priority_two_callers_racing_for_the_last_slot_get_one() {
        loom::model(|| {
            let counts = Arc::new(Counts {
                in_flight: AtomicUsize::new(0),
                limits: [1, 1, 1, 1],
            });
            let other = Arc::clone(&counts);
            let racer = loom::thread::spawn(move || other.take(Priority::Sheddable));
            let here = counts.take(Priority::CriticalPlus);
            let there = racer.join().unwrap();
            assert!(here.is_some() != there.is_some(), "one slot, one taker");
            drop((here, there));
            assert_eq!(counts.in_flight.load(Ordering::Relaxed), 0);
        });
    }
}
