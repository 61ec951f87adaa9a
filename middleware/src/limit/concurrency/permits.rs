//! The permits a concurrency limit hands out: its own lightweight counter
//! ([`Gate`]), or a tokio [`Semaphore`] given by the user.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;

use crate::discipline::{QueueDelay, QueueDiscipline};
use crate::semaphore::PollSemaphore;
#[cfg(feature = "metrics")]
use crate::sync::GateMeter;
use crate::sync::{Denied, Gate, GatePermit, Place};

/// Where a concurrency limit takes its permits from.
#[derive(Debug)]
pub(in crate::limit) enum Permits {
    /// Its own counter, shared by its clones, with this clone's place in
    /// its queue.
    Gate(Place),
    /// A semaphore given by the user (`with_semaphore`).
    Semaphore(UserSemaphore),
}

/// A semaphore given by the user, with (feature `metrics`) the limit's
/// meter, which its gate would hold otherwise, and whether this clone is
/// counted among the waiters.
#[derive(Debug)]
pub(in crate::limit) struct UserSemaphore {
    semaphore: PollSemaphore,
    #[cfg(feature = "metrics")]
    meter: Arc<GateMeter>,
    #[cfg(feature = "metrics")]
    waiting: bool,
}

/// A permit, given back when dropped.
///
/// Either kind is one pointer (without the `metrics` feature), and dropping
/// either is inlined: the response future carries and drops a permit on
/// every request. A tokio `OwnedSemaphorePermit` (a pointer and a count,
/// dropped out of line) in place of the semaphore's kind made the gate's
/// path a sixth slower (37.6 against 31.4 ns in `benches/paired.sh 3 21
/// concurrency_limit`); a trait object in place of the enum cost a third
/// more instructions.
#[derive(Debug)]
pub(in crate::limit) enum Permit {
    Gate(#[allow(dead_code, reason = "held for its drop, which gives it back")] GatePermit),
    Semaphore(
        #[allow(dead_code, reason = "held for its drop, which gives it back")] SemaphorePermit,
    ),
}

/// One permit taken from a user's semaphore, added back to it on drop.
#[derive(Debug)]
pub(in crate::limit) struct SemaphorePermit {
    semaphore: Arc<Semaphore>,
    /// The meter of the limit it was taken for.
    #[cfg(feature = "metrics")]
    meter: Arc<GateMeter>,
}

impl Drop for SemaphorePermit {
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        self.meter.in_flight.decrement(1.0);
        self.semaphore.add_permits(1);
    }
}

impl Permits {
    /// Permits from a new counter of `max`, recording into `meter`.
    pub(in crate::limit) fn new(max: usize, #[cfg(feature = "metrics")] meter: GateMeter) -> Self {
        assert!(
            max <= Semaphore::MAX_PERMITS,
            "a concurrency limit allows at most Semaphore::MAX_PERMITS ({}) requests at once, got {max}",
            Semaphore::MAX_PERMITS
        );
        let gate = Gate::new(max).reporting_waits();
        #[cfg(feature = "metrics")]
        let gate = gate.with_meter(meter);
        Permits::Gate(Place::new(Arc::new(gate)))
    }

    /// Permits from `semaphore`, recording into `meter`.
    pub(super) fn with_semaphore(
        semaphore: Arc<Semaphore>,
        #[cfg(feature = "metrics")] meter: GateMeter,
    ) -> Self {
        Permits::Semaphore(UserSemaphore {
            semaphore: PollSemaphore::new(semaphore),
            #[cfg(feature = "metrics")]
            meter: Arc::new(meter),
            #[cfg(feature = "metrics")]
            waiting: false,
        })
    }

    /// Records into `meter` from now on, in place of the meter the permits
    /// were made with; `false` (and nothing changes) if other clones (or
    /// permits) share the limit, or this clone waits for a permit.
    #[cfg(feature = "metrics")]
    pub(in crate::limit) fn set_meter(&mut self, meter: GateMeter) -> bool {
        match self {
            Permits::Gate(place) => match place.gate_mut() {
                Some(gate) => {
                    gate.set_meter(meter);
                    true
                }
                None => false,
            },
            Permits::Semaphore(user) => match Arc::get_mut(&mut user.meter) {
                Some(shared) if !user.waiting => {
                    *shared = meter;
                    true
                }
                _ => false,
            },
        }
    }

    /// Serves the limit's queue by `discipline`; `false` (and nothing
    /// changes) for a user's semaphore, or if other clones (or permits)
    /// share the limit, or this clone waits for a permit.
    pub(in crate::limit) fn set_discipline(&mut self, discipline: QueueDiscipline) -> bool {
        match self {
            Permits::Gate(place) => match place.gate_mut() {
                Some(gate) => {
                    gate.set_discipline(discipline);
                    true
                }
                None => false,
            },
            Permits::Semaphore(_) => false,
        }
    }

    /// How long the oldest waiter has waited, for a limit with a
    /// discipline.
    pub(in crate::limit) fn queue_delay(&self) -> Option<QueueDelay> {
        match self {
            Permits::Gate(place) => place.gate().queue_delay(),
            Permits::Semaphore(_) => None,
        }
    }

    /// The limit, for a limit of its own (a user's semaphore does not say).
    pub(in crate::limit) fn limit(&self) -> Option<usize> {
        match self {
            Permits::Gate(place) => Some(place.gate().limit()),
            Permits::Semaphore(_) => None,
        }
    }

    /// Takes a free permit without queueing for one, if there is one.
    pub(in crate::limit) fn try_acquire(&mut self) -> Option<Permit> {
        match self {
            Permits::Gate(place) => place.gate().try_acquire().map(Permit::Gate),
            Permits::Semaphore(user) => {
                let permit = user.semaphore.semaphore().try_acquire().ok()?;
                permit.forget();
                Some(Permit::Semaphore(user.taken()))
            }
        }
    }

    /// Takes a permit, or registers `cx` to be woken when one is free;
    /// `None` when the limit's discipline refused the caller.
    #[inline]
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Option<Permit>> {
        match self {
            Permits::Gate(place) => place.poll_acquire(cx).map(|taken| match taken {
                Ok(()) => Some(Permit::Gate(place.gate().owned())),
                Err(Denied::Refused) => None,
                Err(Denied::Closed) => unreachable!("a concurrency limit's gate is never closed"),
            }),
            Permits::Semaphore(user) => {
                let waiting = user.semaphore.is_waiting();
                let polled = user.semaphore.poll_acquire(cx);
                if polled.is_pending() && !waiting && user.semaphore.is_waiting() {
                    tracing::debug!(
                        "concurrency limit: its semaphore has no permit free, a caller waits"
                    );
                }
                #[cfg(feature = "metrics")]
                user.record_waiting(polled.is_pending() && !crate::sync::is_withdrawal(cx.waker()));
                polled.map(|taken| {
                    taken.unwrap_or_else(|_| {
                        panic!(
                            "ConcurrencyLimit's semaphore was closed; a semaphore given to a \
                             concurrency limit must stay open"
                        )
                    });
                    Some(Permit::Semaphore(user.taken()))
                })
            }
        }
    }
}

impl UserSemaphore {
    /// Makes a permit just taken from the semaphore into one given back on
    /// drop.
    #[inline]
    fn taken(&self) -> SemaphorePermit {
        #[cfg(feature = "metrics")]
        self.meter.in_flight.increment(1.0);
        SemaphorePermit {
            semaphore: Arc::clone(self.semaphore.semaphore()),
            #[cfg(feature = "metrics")]
            meter: Arc::clone(&self.meter),
        }
    }

    /// Counts this clone among the waiters, or stops counting it.
    #[cfg(feature = "metrics")]
    #[inline]
    fn record_waiting(&mut self, waiting: bool) {
        if waiting != self.waiting {
            self.waiting = waiting;
            if waiting {
                self.meter.waiters.increment(1.0);
            } else {
                self.meter.waiters.decrement(1.0);
            }
        }
    }
}

#[cfg(feature = "metrics")]
impl Drop for UserSemaphore {
    /// A clone dropped while it waits leaves the semaphore's queue.
    fn drop(&mut self) {
        self.record_waiting(false);
    }
}

impl Clone for Permits {
    /// The same permits, without this clone's place in the queue.
    fn clone(&self) -> Self {
        match self {
            Permits::Gate(place) => Permits::Gate(place.clone()),
            Permits::Semaphore(user) => Permits::Semaphore(UserSemaphore {
                semaphore: user.semaphore.clone(),
                #[cfg(feature = "metrics")]
                meter: Arc::clone(&user.meter),
                #[cfg(feature = "metrics")]
                waiting: false,
            }),
        }
    }
}
