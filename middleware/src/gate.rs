//! [`Gate`]: a counting semaphore for the request path, shared by the
//! concurrency limit and the buffer.
//!
//! Taking a permit is one compare-and-swap, giving it back one atomic add; a
//! lock is only taken while callers wait. Waiters are served first come,
//! first served: a permit given back while callers wait goes to the first of
//! them, never to a newcomer. A taken permit is a plain count (the caller
//! gives it back with [`Gate::release`]) until it is made into an owned
//! [`GatePermit`], which costs an `Arc` clone: callers that give the permit
//! back themselves spare that.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A counter of free permits with a queue of waiters, which can be closed.
pub(crate) struct Gate {
    available: AtomicUsize,
    /// Waiters in the queue (or about to be): newcomers do not take a
    /// permit ahead of them.
    queued: AtomicUsize,
    closed: AtomicBool,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

/// The gate was closed: no permit will be given out again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GateClosed;

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

/// A caller's place in the queue. Dropping it (the caller went away while
/// waiting) leaves the queue, or gives back the permit it was granted in
/// the meantime.
pub(crate) struct Waiting {
    gate: Arc<Gate>,
    waiter: Arc<Waiter>,
    /// Set when the granted permit was taken by the caller.
    claimed: bool,
}

/// An owned permit, given back when dropped.
pub(crate) struct GatePermit {
    gate: Arc<Gate>,
}

impl Gate {
    /// A gate of `permits` permits.
    pub(crate) fn new(permits: usize) -> Self {
        Gate {
            available: AtomicUsize::new(permits),
            queued: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    fn waiters(&self) -> MutexGuard<'_, VecDeque<Arc<Waiter>>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The permits free now.
    #[cfg_attr(
        not(feature = "buffer"),
        allow(dead_code, reason = "only the buffer shows it")
    )]
    pub(crate) fn available(&self) -> usize {
        self.available.load(Ordering::Relaxed)
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

    /// Takes a permit for the caller, who gives it back with
    /// [`release`](Self::release) or makes it owned with
    /// [`owned`](Self::owned); or registers `cx` to be woken when one is
    /// free, keeping the caller's place in `waiting`.
    #[inline]
    pub(crate) fn poll_acquire(
        self: &Arc<Self>,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), GateClosed>> {
        if waiting.is_some() {
            return self.poll_waiting(waiting, cx);
        }
        if self.closed.load(Ordering::Acquire) {
            return Poll::Ready(Err(GateClosed));
        }
        if self.queued.load(Ordering::SeqCst) == 0 && self.try_take() {
            return Poll::Ready(Ok(()));
        }
        self.enqueue(waiting, cx)
    }

    /// [`poll_acquire`](Self::poll_acquire) for a caller in the queue.
    fn poll_waiting(
        self: &Arc<Self>,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), GateClosed>> {
        let place = waiting.as_mut().expect("the caller is waiting");
        // Register first, then look: a grant in between still wakes us.
        let mut waker = place.waiter.waker();
        match &mut *waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        drop(waker);
        if place.waiter.granted.load(Ordering::Acquire) {
            // Served: the permit was taken for us. Leave without giving it
            // back.
            place.claimed = true;
            *waiting = None;
            return Poll::Ready(Ok(()));
        }
        if self.closed.load(Ordering::Acquire) {
            // Closing emptied the queue; nothing to give back.
            *waiting = None;
            return Poll::Ready(Err(GateClosed));
        }
        Poll::Pending
    }

    #[cold]
    fn enqueue(
        self: &Arc<Self>,
        waiting: &mut Option<Waiting>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), GateClosed>> {
        let mut waiters = self.waiters();
        if self.closed.load(Ordering::Acquire) {
            return Poll::Ready(Err(GateClosed));
        }
        // Counted before looking at the permits: a permit given back from
        // now on sees the count and serves the queue (under the lock, so
        // after this caller is in it).
        self.queued.fetch_add(1, Ordering::SeqCst);
        if waiters.is_empty() && self.try_take() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Poll::Ready(Ok(()));
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
    pub(crate) fn release(&self) {
        self.available.fetch_add(1, Ordering::SeqCst);
        if self.queued.load(Ordering::SeqCst) > 0 {
            self.serve_queue();
        }
    }

    /// Makes a permit taken by the caller into one given back on drop.
    pub(crate) fn owned(self: &Arc<Self>) -> GatePermit {
        GatePermit {
            gate: Arc::clone(self),
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

    /// Closes the gate: waiting callers are woken and get [`GateClosed`], as
    /// does every later acquisition. Permits already out still come back.
    #[cfg_attr(
        not(feature = "buffer"),
        allow(dead_code, reason = "only the buffer closes its gate")
    )]
    pub(crate) fn close(&self) {
        let waiters = {
            let mut waiters = self.waiters();
            self.closed.store(true, Ordering::Release);
            self.queued.fetch_sub(waiters.len(), Ordering::SeqCst);
            std::mem::take(&mut *waiters)
        };
        for waiter in waiters {
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
            self.gate.release();
        }
    }
}

impl Drop for GatePermit {
    #[inline]
    fn drop(&mut self) {
        self.gate.release();
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("available", &self.available.load(Ordering::Relaxed))
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .field("closed", &self.closed.load(Ordering::Relaxed))
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
