//! The permits a concurrency limit hands out: its own lightweight counter
//! ([`Gate`]), or a tokio [`Semaphore`] given by the user.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;

use crate::semaphore::PollSemaphore;
use crate::sync::{Gate, GatePermit, Place};

/// Where a concurrency limit takes its permits from.
#[derive(Debug)]
pub(in crate::limit) enum Permits {
    /// Its own counter, shared by its clones, with this clone's place in
    /// its queue.
    Gate(Place),
    /// A semaphore given by the user (`with_semaphore`).
    Semaphore(PollSemaphore),
}

/// A permit, given back when dropped.
///
/// Either kind is one pointer, and dropping either is inlined: the response
/// future carries and drops a permit on every request. A tokio
/// `OwnedSemaphorePermit` (a pointer and a count, dropped out of line) in
/// place of the semaphore's kind made the gate's path a sixth slower (37.6
/// against 31.4 ns in `benches/paired.sh 3 21 concurrency_limit`); a trait
/// object in place of the enum cost a third more instructions.
#[derive(Debug)]
pub(in crate::limit) enum Permit {
    Gate(#[allow(dead_code, reason = "held for its drop, which gives it back")] GatePermit),
    Semaphore(
        #[allow(dead_code, reason = "held for its drop, which gives it back")] SemaphorePermit,
    ),
}

/// One permit taken from a user's semaphore, added back to it on drop.
#[derive(Debug)]
pub(in crate::limit) struct SemaphorePermit(Arc<Semaphore>);

impl Drop for SemaphorePermit {
    fn drop(&mut self) {
        self.0.add_permits(1);
    }
}

impl Permits {
    /// Permits from a new counter of `max`.
    pub(in crate::limit) fn new(max: usize) -> Self {
        assert!(
            max <= Semaphore::MAX_PERMITS,
            "a concurrency limit allows at most Semaphore::MAX_PERMITS ({}) requests at once, got {max}",
            Semaphore::MAX_PERMITS
        );
        Permits::Gate(Place::new(Arc::new(Gate::new(max))))
    }

    /// Permits from `semaphore`.
    pub(super) fn with_semaphore(semaphore: Arc<Semaphore>) -> Self {
        Permits::Semaphore(PollSemaphore::new(semaphore))
    }

    /// Takes a free permit without queueing for one, if there is one.
    pub(in crate::limit) fn try_acquire(&mut self) -> Option<Permit> {
        match self {
            Permits::Gate(place) => place.gate().try_acquire().map(Permit::Gate),
            Permits::Semaphore(semaphore) => {
                let semaphore = semaphore.semaphore();
                let permit = semaphore.try_acquire().ok()?;
                permit.forget();
                Some(Permit::Semaphore(SemaphorePermit(Arc::clone(semaphore))))
            }
        }
    }

    /// Takes a permit, or registers `cx` to be woken when one is free.
    #[inline]
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Permit> {
        match self {
            Permits::Gate(place) => place.poll_acquire(cx).map(|taken| {
                taken.expect("a concurrency limit's gate is never closed");
                Permit::Gate(place.gate().owned())
            }),
            Permits::Semaphore(semaphore) => semaphore.poll_acquire(cx).map(|taken| {
                taken.unwrap_or_else(|_| {
                    panic!(
                        "ConcurrencyLimit's semaphore was closed; a semaphore given to a \
                         concurrency limit must stay open"
                    )
                });
                Permit::Semaphore(SemaphorePermit(Arc::clone(semaphore.semaphore())))
            }),
        }
    }
}

impl Clone for Permits {
    /// The same permits, without this clone's place in the queue.
    fn clone(&self) -> Self {
        match self {
            Permits::Gate(place) => Permits::Gate(place.clone()),
            Permits::Semaphore(semaphore) => Permits::Semaphore(semaphore.clone()),
        }
    }
}
