//! The permits a concurrency limit hands out: its own lightweight counter
//! ([`Gate`]), or a tokio [`Semaphore`] given by the user.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;

use crate::semaphore::PollSemaphore;
use crate::sync::{Gate, Place};

/// Where a concurrency limit takes its permits from.
#[derive(Debug)]
pub(super) enum Permits {
    /// Its own counter, shared by its clones, with this clone's place in
    /// its queue.
    Gate(Place),
    /// A semaphore given by the user (`with_semaphore`).
    Semaphore(PollSemaphore),
}

/// A permit, given back to where it came from when dropped.
///
/// One pointer whichever the source, so that `Option<Permit>` is one word
/// and dropping it one indirect call: the response future carries and drops
/// a permit on every request. An enum of the gate's permit and tokio's
/// `OwnedSemaphorePermit` (a pointer and a count, dropped out of line) in its
/// place made the whole limit about a fifth slower per request (37.5 against
/// 31.4 ns in `benches/paired.sh 3 21 concurrency_limit`).
#[derive(Debug)]
pub(super) struct Permit(Arc<dyn ReleaseOne>);

impl Drop for Permit {
    #[inline]
    fn drop(&mut self) {
        self.0.release_one();
    }
}

/// A source of permits that takes one back.
pub(super) trait ReleaseOne: fmt::Debug + Send + Sync {
    /// Gives back one permit taken from `self` earlier.
    fn release_one(&self);
}

impl ReleaseOne for Gate {
    fn release_one(&self) {
        self.release();
    }
}

impl ReleaseOne for Semaphore {
    fn release_one(&self) {
        self.add_permits(1);
    }
}

impl Permits {
    /// Permits from a new counter of `max`.
    pub(super) fn new(max: usize) -> Self {
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

    /// Takes a permit, or registers `cx` to be woken when one is free.
    #[inline]
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Permit> {
        match self {
            Permits::Gate(place) => place.poll_acquire(cx).map(|taken| {
                taken.expect("a concurrency limit's gate is never closed");
                Permit(Arc::clone(place.gate()) as Arc<dyn ReleaseOne>)
            }),
            Permits::Semaphore(semaphore) => semaphore.poll_acquire(cx).map(|taken| {
                taken.unwrap_or_else(|_| {
                    panic!(
                        "ConcurrencyLimit's semaphore was closed; a semaphore given to a \
                         concurrency limit must stay open"
                    )
                });
                Permit(Arc::clone(semaphore.semaphore()) as Arc<dyn ReleaseOne>)
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
