//! The permits a concurrency limit hands out: its own lightweight counter,
//! or a tokio [`Semaphore`] given by the user.
//!
//! The counter ([`Gate`]) takes a permit with one compare-and-swap and gives
//! it back with one atomic add, and only takes a lock when callers are
//! waiting. Waiters are served first come, first served: a permit given back
//! while callers wait goes to the first of them, never to a newcomer.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::semaphore::PollSemaphore;

/// Where a concurrency limit takes its permits from.
#[derive(Debug)]
pub(super) enum Permits {
    /// Its own counter, shared by its clones; `waiting` is this clone's
    /// place in the queue, when it waits.
    Gate {
        gate: Arc<Gate>,
        waiting: Option<Waiting>,
    },
    /// A semaphore given by the user (`with_semaphore`).
    Semaphore(PollSemaphore),
}

/// A permit, given back when dropped.
#[derive(Debug)]
pub(super) enum Permit {
    Gate(#[allow(dead_code, reason = "held for its drop, which gives it back")] GatePermit),
    Semaphore(
        #[allow(dead_code, reason = "held for its drop, which gives it back")] OwnedSemaphorePermit,
    ),
}

impl Permits {
    /// Permits from a new counter of `max`.
    pub(super) fn new(max: usize) -> Self {
        assert!(
            max <= Semaphore::MAX_PERMITS,
            "a concurrency limit allows at most Semaphore::MAX_PERMITS ({}) requests at once, got {max}",
            Semaphore::MAX_PERMITS
        );
        Permits::Gate {
            gate: Arc::new(Gate::new(max)),
            waiting: None,
        }
    }

    /// Permits from `semaphore`.
    pub(super) fn with_semaphore(semaphore: Arc<Semaphore>) -> Self {
        Permits::Semaphore(PollSemaphore::new(semaphore))
    }

    /// Takes a permit, or registers `cx` to be woken when one is free.
    #[inline]
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Permit> {
        match self {
            Permits::Gate { gate, waiting } => gate.poll_acquire(waiting, cx).map(Permit::Gate),
            Permits::Semaphore(semaphore) => semaphore.poll_acquire(cx).map(|permit| {
                Permit::Semaphore(permit.unwrap_or_else(|_| {
                    panic!(
                        "ConcurrencyLimit's semaphore was closed; a semaphore given to a \
                         concurrency limit must stay open"
                    )
                }))
            }),
        }
    }
}

impl Clone for Permits {
    /// The same permits, without this clone's place in the queue.
    fn clone(&self) -> Self {
        match self {
            Permits::Gate { gate, .. } => Permits::Gate {
                gate: Arc::clone(gate),
                waiting: None,
            },
            Permits::Semaphore(semaphore) => Permits::Semaphore(semaphore.clone()),
        }
    }
}

/// A counter of free permits with a queue of waiters.
pub(super) struct Gate {
    available: AtomicUsize,
    /// Waiters in the queue (or about to be): newcomers do not take a
    /// permit ahead of them.
    queued: AtomicUsize,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

/// One caller waiting for a permit.
struct Waiter {
    /// Set, with a permit taken on the waiter's behalf, when it is served.
    granted: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Waiter {
    fn waker(&self) -> MutexGuard<'_, Option<Waker>> {
        self.waker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A clone's place in the queue. Dropping it (the service was dropped
/// while waiting) leaves the queue, or gives back the permit it was
/// granted in the meantime.
pub(super) struct Waiting {
    gate: Arc<Gate>,
    waiter: Arc<Waiter>,
    /// Set when the granted permit was taken by the caller.
    claimed: bool,
}

/// A permit of a [`Gate`], given back when dropped.
pub(super) struct GatePermit {
    gate: Arc<Gate>,
}

impl Gate {
    fn new(permits: usize) -> Self {
        Gate {
            available: AtomicUsize::new(permits),
            queued: AtomicUsize::new(0),
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, VecDeque<Arc<Waiter>>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one permit if there is one.
    #[inline]
    fn try_take(&self) -> bool {
        let mut available = self.available.load(Ordering::SeqCst);
        while available > 0 {
            match self.available.compare_exchange_weak(
                available,
                available - 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => available = now,
            }
        }
        false
    }

    #[inline]
    fn poll_acquire(
        self: &Arc<Self>,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<GatePermit> {
        if let Some(place) = waiting {
            // Register first, then look: a grant in between still wakes us.
            let mut waker = place.waiter.waker();
            match &mut *waker {
                Some(known) if known.will_wake(cx.waker()) => {}
                other => *other = Some(cx.waker().clone()),
            }
            drop(waker);
            if !place.waiter.granted.load(Ordering::Acquire) {
                return Poll::Pending;
            }
            // Served: the permit was taken for us. Leave without giving it
            // back.
            if let Some(mut place) = waiting.take() {
                place.claimed = true;
            }
            return Poll::Ready(GatePermit {
                gate: Arc::clone(self),
            });
        }
        if self.queued.load(Ordering::SeqCst) == 0 && self.try_take() {
            return Poll::Ready(GatePermit {
                gate: Arc::clone(self),
            });
        }
        self.enqueue(waiting, cx)
    }

    #[cold]
    fn enqueue(
        self: &Arc<Self>,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<GatePermit> {
        let mut waiters = self.waiters();
        // Counted before looking at the permits: a permit given back from
        // now on sees the count and serves the queue (under the lock, so
        // after this caller is in it).
        self.queued.fetch_add(1, Ordering::SeqCst);
        if waiters.is_empty() && self.try_take() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Poll::Ready(GatePermit {
                gate: Arc::clone(self),
            });
        }
        let waiter = Arc::new(Waiter {
            granted: AtomicBool::new(false),
            waker: Mutex::new(Some(cx.waker().clone())),
        });
        waiters.push_back(Arc::clone(&waiter));
        *waiting = Some(Waiting {
            gate: Arc::clone(self),
            waiter,
            claimed: false,
        });
        Poll::Pending
    }

    /// Gives one permit back.
    #[inline]
    fn give_back(&self) {
        self.available.fetch_add(1, Ordering::SeqCst);
        if self.queued.load(Ordering::SeqCst) > 0 {
            self.serve_queue();
        }
    }

    /// Hands free permits to waiters, first come first served.
    #[cold]
    fn serve_queue(&self) {
        let mut waiters = self.waiters();
        while !waiters.is_empty() && self.try_take() {
            let waiter = waiters.pop_front().expect("the queue is not empty");
            self.queued.fetch_sub(1, Ordering::SeqCst);
            waiter.granted.store(true, Ordering::Release);
            let waker = waiter.waker().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        if self.claimed {
            return;
        }
        let mut waiters = self.gate.waiters();
        if let Some(index) = waiters
            .iter()
            .position(|queued| Arc::ptr_eq(queued, &self.waiter))
        {
            waiters.remove(index);
            self.gate.queued.fetch_sub(1, Ordering::SeqCst);
        } else if self.waiter.granted.load(Ordering::Acquire) {
            // Served after all: the permit goes back, possibly to the next.
            drop(waiters);
            self.gate.give_back();
        }
    }
}

impl Drop for GatePermit {
    #[inline]
    fn drop(&mut self) {
        self.gate.give_back();
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("available", &self.available.load(Ordering::Relaxed))
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish()
    }
}

impl fmt::Debug for Waiting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiting")
            .field("granted", &self.waiter.granted.load(Ordering::Relaxed))
            .finish()
    }
}

impl fmt::Debug for GatePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatePermit").finish_non_exhaustive()
    }
}
