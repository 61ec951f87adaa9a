//! The limiter that the clones of an adaptive concurrency limit share: the
//! slots (a [`Gate`] whose limit the algorithm moves), the algorithm, and
//! the permits that hold slots.
//!
//! Taking and giving back a slot are the gate's: one compare-and-swap and
//! one atomic add, a lock only while callers wait. The algorithm's lock is
//! taken once per finished call, or, for a stateless algorithm, only when
//! the limit changes. Waiters are served first come, first
//! served: a slot freed (or added by a higher limit) while callers wait
//! goes to the first of them, never to a newcomer.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::algorithm::{Algorithm, Sample};
use crate::classify::{Classify, Outcome};
use crate::discipline::{QueueDelay, QueueDiscipline};
#[cfg(feature = "metrics")]
use crate::limit::meter;
use crate::sync::{Denied, Gate, MAX_PERMITS, Mutex, Place, lock};

/// The limit used when none is set, brought within the minimum and maximum.
const DEFAULT_INITIAL: usize = 20;

/// The minimum, initial and maximum limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub(super) min: usize,
    /// `DEFAULT_INITIAL` (within `min..=max`) when unset.
    pub(super) initial: Option<usize>,
    pub(super) max: usize,
    /// How the waiters are served, if not in order.
    pub(super) discipline: Option<QueueDiscipline>,
}

impl Limits {
    /// A minimum of 1, an initial limit of 20 and a maximum of 1000.
    pub(super) const DEFAULT: Limits = Limits {
        min: 1,
        initial: None,
        max: 1000,
        discipline: None,
    };

    /// The initial limit.
    ///
    /// # Panics
    ///
    /// If the minimum is above the maximum, or the initial limit, when set,
    /// is not between them.
    fn initial(&self) -> usize {
        let Limits {
            min, initial, max, ..
        } = *self;
        assert!(
            min <= max,
            "an adaptive concurrency limit's minimum limit ({min}) must not be above its maximum ({max})"
        );
        match initial {
            Some(initial) => {
                assert!(
                    min <= initial && initial <= max,
                    "an adaptive concurrency limit's initial limit ({initial}) must be between its \
                     minimum ({min}) and its maximum ({max})"
                );
                initial
            }
            None => DEFAULT_INITIAL.clamp(min, max),
        }
    }
}

/// What the clones of one limit share.
pub(super) struct Shared<A, C> {
    slots: Arc<Gate>,
    /// Locked once per finished call, or, for a stateless algorithm, once
    /// per change of the limit.
    algorithm: Mutex<A>,
    /// The algorithm's [`stateless_copy`](Algorithm::stateless_copy), if it
    /// has one: copied again for each sample, without the lock.
    stateless: Option<A>,
    classify: C,
    min: usize,
    max: usize,
    /// The limit, set whenever it changes (the gate holds the gauge of the
    /// requests in flight).
    #[cfg(feature = "metrics")]
    limit_gauge: metrics::Gauge,
}

impl<A, C> Shared<A, C> {
    /// A limiter at the initial limit of `limits`, named `name` in its
    /// metrics.
    ///
    /// # Panics
    ///
    /// If `limits` are inconsistent (see [`Limits::initial`]).
    pub(super) fn new(
        algorithm: A,
        classify: C,
        limits: Limits,
        #[cfg(feature = "metrics")] name: std::borrow::Cow<'static, str>,
    ) -> Self
    where
        A: Algorithm,
    {
        let initial = limits.initial();
        assert!(
            limits.max <= MAX_PERMITS,
            "an adaptive concurrency limit's maximum limit ({}) must be at most {MAX_PERMITS}",
            limits.max
        );
        #[cfg(feature = "metrics")]
        let (limit_gauge, gate_meter) = meter::adaptive(name);
        #[cfg(feature = "metrics")]
        limit_gauge.set(initial as f64);
        let mut slots = Gate::new(initial);
        #[cfg(feature = "metrics")]
        slots.set_meter(gate_meter);
        if let Some(discipline) = limits.discipline {
            slots.set_discipline(discipline);
        }
        Shared {
            slots: Arc::new(slots),
            stateless: algorithm.stateless_copy(),
            algorithm: Mutex::new(algorithm),
            classify,
            min: limits.min,
            max: limits.max,
            #[cfg(feature = "metrics")]
            limit_gauge,
        }
    }

    /// Records under `name` from now on; `false` (and nothing changes) if
    /// its slots are shared (with a [`Handle`](super::Handle)). The limit
    /// recorded under the old name is left as it is: another limit may
    /// have that name too.
    #[cfg(feature = "metrics")]
    pub(super) fn set_name(&mut self, name: std::borrow::Cow<'static, str>) -> bool {
        let Some(slots) = Arc::get_mut(&mut self.slots) else {
            return false;
        };
        let (limit_gauge, gate_meter) = meter::adaptive(name);
        limit_gauge.set(slots.limit() as f64);
        slots.set_meter(gate_meter);
        self.limit_gauge = limit_gauge;
        true
    }

    /// The slots, for a handle.
    pub(super) fn slots(&self) -> &Arc<Gate> {
        &self.slots
    }

    /// How long the oldest waiter has waited, with a discipline.
    pub(super) fn queue_delay(&self) -> Option<QueueDelay> {
        self.slots.queue_delay()
    }

    /// Feeds a finished call to the algorithm and applies the new limit.
    ///
    /// # Memory ordering
    ///
    /// With a stateless algorithm, the limit is first worked out from a
    /// `Relaxed` read of the limit, without the lock. When it stays where
    /// it is, nothing is written: the sample takes effect at that read, as
    /// if it had been fed before any change of the limit that the read does
    /// not see (concurrent completions have no order to keep). Otherwise
    /// the sample is fed again under the lock, from the limit then in force.
    #[inline]
    fn update(&self, latency: Duration, in_flight: usize, failure: bool)
    where
        A: Algorithm,
    {
        let sample = |limit| {
            if failure {
                Sample::failure(latency, in_flight, limit)
            } else {
                Sample::success(latency, in_flight, limit)
            }
        };
        if let Some(mut algorithm) = self.stateless.as_ref().and_then(A::stateless_copy) {
            let limit = self.slots.limit();
            if algorithm.update(sample(limit)).clamp(self.min, self.max) == limit {
                return;
            }
        }
        self.update_locked(sample);
    }

    /// [`update`](Self::update) under the lock.
    fn update_locked(&self, sample: impl FnOnce(usize) -> Sample)
    where
        A: Algorithm,
    {
        let mut algorithm = lock(&self.algorithm);
        let limit = self.slots.limit();
        let sample = sample(limit);
        let next = algorithm.update(sample).clamp(self.min, self.max);
        if next != limit {
            // Under the lock, so that limits are applied (and recorded) in
            // the order they were computed; reported once it is released.
            self.slots.set_limit(next);
            #[cfg(feature = "metrics")]
            self.limit_gauge.set(next as f64);
            drop(algorithm);
            #[cfg(feature = "tracing")]
            tracing::debug!(
                limit = next,
                previous = limit,
                latency = ?sample.latency(),
                in_flight = sample.in_flight(),
                failure = sample.is_failure(),
                "adaptive concurrency limit changed"
            );
        }
    }
}

/// One clone's access to the limiter, with its place in the queue while it
/// waits. Dropping it leaves the queue, or gives back the slot it was
/// granted in the meantime.
pub(super) struct Limiter<A, C> {
    shared: Arc<Shared<A, C>>,
    place: Place,
}

impl<A, C> Limiter<A, C> {
    pub(super) fn new(shared: Shared<A, C>) -> Self {
        let place = Place::new(Arc::clone(&shared.slots));
        Limiter {
            shared: Arc::new(shared),
            place,
        }
    }

    pub(super) fn shared(&self) -> &Shared<A, C> {
        &self.shared
    }

    /// The shared part, if no clone, permit or response shares it.
    #[cfg(feature = "metrics")]
    pub(super) fn into_shared(self) -> Option<Shared<A, C>> {
        let Limiter { shared, place } = self;
        drop(place);
        Arc::try_unwrap(shared).ok()
    }

    /// Takes a slot, or registers `cx` to be woken when one is granted. A
    /// withdrawal poll never queues (see [`Place::poll_acquire`]).
    #[inline]
    /// `None` when the limit's queue discipline refused the caller.
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Option<Permit<A, C>>> {
        match self.place.poll_acquire(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(Some(Permit {
                shared: Arc::clone(&self.shared),
                in_flight: self.shared.slots.in_flight(),
            })),
            Poll::Ready(Err(Denied::Refused)) => Poll::Ready(None),
            Poll::Ready(Err(Denied::Closed)) => {
                unreachable!("an adaptive limit's gate is never closed")
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<A, C> Clone for Limiter<A, C> {
    /// The same limiter, without this clone's place in the queue.
    fn clone(&self) -> Self {
        Limiter {
            shared: Arc::clone(&self.shared),
            place: self.place.clone(),
        }
    }
}

/// A slot of the limiter, given back when dropped.
pub(super) struct Permit<A, C> {
    shared: Arc<Shared<A, C>>,
    /// The in-flight count when the slot was taken.
    in_flight: usize,
}

impl<A: Algorithm, C> Permit<A, C> {
    /// Reports a finished call to the algorithm, as the classifier counts
    /// it, then gives the slot back.
    pub(super) fn complete<Res, E>(self, result: &Result<Res, E>, latency: Duration)
    where
        C: Classify<Res, E>,
    {
        match self.shared.classify.classify(result) {
            Outcome::Success => self.shared.update(latency, self.in_flight, false),
            Outcome::Failure => self.shared.update(latency, self.in_flight, true),
            Outcome::Ignored => {}
        }
    }
}

impl<A, C> Drop for Permit<A, C> {
    #[inline]
    fn drop(&mut self) {
        self.shared.slots.release();
    }
}

impl<A, C> fmt::Debug for Shared<A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("slots", &self.slots)
            .field("min", &self.min)
            .field("max", &self.max)
            .field("algorithm", &format_args!("{}", std::any::type_name::<A>()))
            .field("classify", &format_args!("{}", std::any::type_name::<C>()))
            .finish()
    }
}

impl<A, C> fmt::Debug for Limiter<A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("shared", &self.shared)
            .field("place", &self.place)
            .finish()
    }
}

impl<A, C> fmt::Debug for Permit<A, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("in_flight", &self.in_flight)
            .finish()
    }
}

/// loom models of the limiter while its limit moves: run with
/// `RUSTFLAGS="--cfg donjon_loom" cargo test -p donjon --features limit --release --lib loom`.
#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::future::poll_fn;
    use std::time::Duration;

    use loom::future::block_on;
    use loom::thread;

    use super::*;
    use crate::classify::ErrorsAreFailures;
    use crate::limit::adaptive::Aimd;

    /// Waits for a slot (a lost wake-up is reported as a deadlock), then
    /// completes the call, a failure (the limit shrinks) or a success (it
    /// grows).
    fn call(limiter: &mut Limiter<Aimd, ErrorsAreFailures>, failure: bool) {
        let permit = block_on(poll_fn(|cx| limiter.poll_acquire(cx))).expect("no discipline");
        let result: Result<(), ()> = if failure { Err(()) } else { Ok(()) };
        permit.complete(&result, Duration::from_millis(1));
    }

    #[test]
    fn loom_adaptive_callers_while_the_limit_shrinks_and_grows() {
        loom::model(|| {
            let limits = Limits {
                min: 1,
                initial: Some(2),
                max: 2,
                discipline: None,
            };
            let mut main = Limiter::new(Shared::new(
                Aimd::new(),
                ErrorsAreFailures,
                limits,
                #[cfg(feature = "metrics")]
                "loom".into(),
            ));
            let threads: Vec<_> = [true, false]
                .into_iter()
                .map(|failure| {
                    let mut limiter = main.clone();
                    thread::spawn(move || call(&mut limiter, failure))
                })
                .collect();
            call(&mut main, false);
            for thread in threads {
                thread.join().expect("no panic");
            }
            let slots = main.shared().slots();
            assert_eq!(slots.in_flight(), 0, "every slot is back");
            assert_eq!(
                slots.available(),
                slots.limit(),
                "free slots match the limit"
            );
            assert!((1..=2).contains(&slots.limit()));
        });
    }
}
