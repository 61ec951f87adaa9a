//! The limiter that the clones of an adaptive concurrency limit share: the
//! slots (requests in flight counted against a limit that moves, with a
//! queue of waiters), the algorithm that moves the limit, and the permits
//! that hold slots.
//!
//! Taking a slot is one compare-and-swap of the in-flight count against
//! the limit, and giving it back one atomic subtraction; a lock is taken
//! only while callers wait, and, for the algorithm, once per finished call.
//! Waiters are served first come, first served: a slot freed (or added by
//! a higher limit) while callers wait goes to the first of them, never to a
//! newcomer.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use super::algorithm::{Algorithm, Sample};
use crate::classify::{Classify, Outcome};

/// The limit used when none is set, brought within the minimum and maximum.
const DEFAULT_INITIAL: usize = 20;

/// The minimum, initial and maximum limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Limits {
    pub(super) min: usize,
    /// `DEFAULT_INITIAL` (within `min..=max`) when unset.
    pub(super) initial: Option<usize>,
    pub(super) max: usize,
}

impl Limits {
    /// A minimum of 1, an initial limit of 20 and a maximum of 1000.
    pub(super) const DEFAULT: Limits = Limits {
        min: 1,
        initial: None,
        max: 1000,
    };

    /// The initial limit.
    ///
    /// # Panics
    ///
    /// If the minimum is above the maximum, or the initial limit, when set,
    /// is not between them.
    fn initial(&self) -> usize {
        let Limits { min, initial, max } = *self;
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

/// The in-flight count, the limit, and the callers waiting for a slot.
pub(super) struct Slots {
    limit: AtomicUsize,
    in_flight: AtomicUsize,
    /// Callers in the queue (or about to be): newcomers do not take a slot
    /// ahead of them.
    queued: AtomicUsize,
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

/// One caller waiting for a slot.
struct Waiter {
    /// 0 until served; then the in-flight count the slot taken on the
    /// waiter's behalf made (at least 1).
    grant: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Waiter {
    fn new(waker: &Waker) -> Self {
        Waiter {
            grant: AtomicUsize::new(0),
            waker: Mutex::new(Some(waker.clone())),
        }
    }

    fn waker(&self) -> MutexGuard<'_, Option<Waker>> {
        self.waker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Slots {
    fn new(limit: usize) -> Self {
        Slots {
            limit: AtomicUsize::new(limit),
            in_flight: AtomicUsize::new(0),
            queued: AtomicUsize::new(0),
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    /// The current limit.
    pub(super) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// The slots taken.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    fn waiters(&self) -> MutexGuard<'_, VecDeque<Arc<Waiter>>> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a slot if fewer than `limit` are taken, returning the new
    /// in-flight count.
    #[inline]
    fn try_take(&self) -> Option<usize> {
        let mut in_flight = self.in_flight.load(Ordering::SeqCst);
        while in_flight < self.limit.load(Ordering::SeqCst) {
            match self.in_flight.compare_exchange_weak(
                in_flight,
                in_flight + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(in_flight + 1),
                Err(now) => in_flight = now,
            }
        }
        None
    }

    /// Sets the limit. Waiters are served by the [`release`](Self::release)
    /// that follows.
    fn set_limit(&self, limit: usize) {
        self.limit.store(limit, Ordering::SeqCst);
    }

    /// Gives a slot back, and serves the queue.
    #[inline]
    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.queued.load(Ordering::SeqCst) > 0 {
            self.serve();
        }
    }

    /// Hands free slots to waiters, first come first served.
    #[cold]
    fn serve(&self) {
        let mut waiters = self.waiters();
        while !waiters.is_empty() {
            let Some(in_flight) = self.try_take() else {
                break;
            };
            let waiter = waiters.pop_front().expect("the queue is not empty");
            self.queued.fetch_sub(1, Ordering::SeqCst);
            // Granted first, then the waker taken: a waiter that registers
            // a new waker in between sees the grant when it looks.
            waiter.grant.store(in_flight, Ordering::Release);
            let waker = waiter.waker().take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// What the clones of one limit share.
pub(super) struct Shared<A, C> {
    slots: Arc<Slots>,
    /// Locked once per finished call.
    algorithm: Mutex<A>,
    classify: C,
    min: usize,
    max: usize,
}

impl<A, C> Shared<A, C> {
    /// A limiter at the initial limit of `limits`.
    ///
    /// # Panics
    ///
    /// If `limits` are inconsistent (see [`Limits::initial`]).
    pub(super) fn new(algorithm: A, classify: C, limits: Limits) -> Self {
        Shared {
            slots: Arc::new(Slots::new(limits.initial())),
            algorithm: Mutex::new(algorithm),
            classify,
            min: limits.min,
            max: limits.max,
        }
    }

    /// The slots, for a handle.
    pub(super) fn slots(&self) -> &Arc<Slots> {
        &self.slots
    }

    /// Feeds a finished call to the algorithm and applies the new limit.
    fn update(&self, latency: Duration, in_flight: usize, failure: bool)
    where
        A: Algorithm,
    {
        let mut algorithm = self
            .algorithm
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let limit = self.slots.limit();
        let sample = if failure {
            Sample::failure(latency, in_flight, limit)
        } else {
            Sample::success(latency, in_flight, limit)
        };
        let next = algorithm.update(sample).clamp(self.min, self.max);
        if next != limit {
            // Under the lock, so that limits are applied in the order they
            // were computed.
            self.slots.set_limit(next);
            #[cfg(feature = "tracing")]
            tracing::debug!(
                limit = next,
                previous = limit,
                latency = ?latency,
                in_flight,
                failure,
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
    /// This clone's waiter, kept for its next wait when the queue let go of
    /// it.
    waiter: Option<Arc<Waiter>>,
    /// Whether `waiter` is queued or was granted a slot not yet claimed.
    waiting: bool,
}

impl<A, C> Limiter<A, C> {
    pub(super) fn new(shared: Shared<A, C>) -> Self {
        Limiter {
            shared: Arc::new(shared),
            waiter: None,
            waiting: false,
        }
    }

    pub(super) fn shared(&self) -> &Shared<A, C> {
        &self.shared
    }

    /// Takes a slot, or registers `cx` to be woken when one is granted.
    #[inline]
    pub(super) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Permit<A, C>> {
        if self.waiting {
            return self.poll_waiting(cx);
        }
        let slots = &self.shared.slots;
        if slots.queued.load(Ordering::SeqCst) == 0 {
            if let Some(in_flight) = slots.try_take() {
                return Poll::Ready(self.permit(in_flight));
            }
        }
        self.enqueue(cx)
    }

    fn permit(&self, in_flight: usize) -> Permit<A, C> {
        Permit {
            shared: Arc::clone(&self.shared),
            in_flight,
        }
    }

    /// [`poll_acquire`](Self::poll_acquire) for a caller in the queue.
    fn poll_waiting(&mut self, cx: &mut Context<'_>) -> Poll<Permit<A, C>> {
        let waiter = self
            .waiter
            .as_ref()
            .expect("a waiting limiter has a waiter");
        // Register first, then look: a grant in between still wakes us.
        let mut waker = waiter.waker();
        match &mut *waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            other => *other = Some(cx.waker().clone()),
        }
        drop(waker);
        match waiter.grant.load(Ordering::Acquire) {
            0 => Poll::Pending,
            in_flight => {
                self.waiting = false;
                Poll::Ready(self.permit(in_flight))
            }
        }
    }

    #[cold]
    fn enqueue(&mut self, cx: &mut Context<'_>) -> Poll<Permit<A, C>> {
        let slots = Arc::clone(&self.shared.slots);
        let mut waiters = slots.waiters();
        // Counted before looking at the slots: a slot given back (or a limit
        // raised) from now on sees the count and serves the queue, under
        // the lock, so after this caller is in it.
        slots.queued.fetch_add(1, Ordering::SeqCst);
        if waiters.is_empty() {
            if let Some(in_flight) = slots.try_take() {
                slots.queued.fetch_sub(1, Ordering::SeqCst);
                return Poll::Ready(self.permit(in_flight));
            }
        }
        // Reuse the last waiter if the queue let go of it: no allocation
        // per wait.
        match self.waiter.as_mut().and_then(Arc::get_mut) {
            Some(waiter) => {
                *waiter.grant.get_mut() = 0;
                *waiter
                    .waker
                    .get_mut()
                    .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
            }
            None => self.waiter = Some(Arc::new(Waiter::new(cx.waker()))),
        }
        let waiter = self.waiter.as_ref().expect("the waiter was just set");
        waiters.push_back(Arc::clone(waiter));
        self.waiting = true;
        Poll::Pending
    }
}

impl<A, C> Clone for Limiter<A, C> {
    /// The same limiter, without this clone's place in the queue.
    fn clone(&self) -> Self {
        Limiter {
            shared: Arc::clone(&self.shared),
            waiter: None,
            waiting: false,
        }
    }
}

impl<A, C> Drop for Limiter<A, C> {
    fn drop(&mut self) {
        if !self.waiting {
            return;
        }
        let Some(waiter) = &self.waiter else {
            return;
        };
        let slots = &self.shared.slots;
        let mut waiters = slots.waiters();
        if let Some(index) = waiters
            .iter()
            .position(|queued| Arc::ptr_eq(queued, waiter))
        {
            waiters.remove(index);
            slots.queued.fetch_sub(1, Ordering::SeqCst);
        } else if waiter.grant.load(Ordering::Acquire) != 0 {
            // Served after all: the slot goes back, possibly to the next.
            drop(waiters);
            slots.release();
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
    pub(super) fn complete<T, E>(self, result: &Result<T, E>, latency: Duration)
    where
        C: Classify<T, E>,
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

impl fmt::Debug for Slots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slots")
            .field("limit", &self.limit.load(Ordering::Relaxed))
            .field("in_flight", &self.in_flight.load(Ordering::Relaxed))
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .finish()
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
            .field("waiting", &self.waiting)
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

#[cfg(test)]
mod tests {
    use tokio_test::task;

    use super::*;
    use crate::classify::ErrorsAreFailures;
    use crate::limit::adaptive::Aimd;

    fn limiter(initial: usize) -> Limiter<Aimd, ErrorsAreFailures> {
        let limits = Limits {
            initial: Some(initial),
            ..Limits::DEFAULT
        };
        Limiter::new(Shared::new(Aimd::new(), ErrorsAreFailures, limits))
    }

    #[test]
    fn a_newcomer_does_not_take_a_slot_freed_while_callers_wait() {
        let mut holder = limiter(1);
        let (mut waiter, mut newcomer) = (holder.clone(), holder.clone());
        let (mut waiter_task, mut newcomer_task) = (task::spawn(()), task::spawn(()));

        let _held = task::spawn(()).enter(|cx, _| holder.poll_acquire(cx));
        assert!(
            waiter_task
                .enter(|cx, _| waiter.poll_acquire(cx))
                .is_pending()
        );

        // A slot is free, and the queue not served yet (as between a
        // release on another thread and its serving the queue).
        holder.shared.slots.set_limit(2);
        assert!(
            newcomer_task
                .enter(|cx, _| newcomer.poll_acquire(cx))
                .is_pending(),
            "the newcomer queues behind the waiter"
        );
        assert!(!waiter_task.is_woken());

        holder.shared.slots.serve();
        assert!(waiter_task.is_woken(), "the first waiter gets the slot");
        assert!(!newcomer_task.is_woken());
        let Poll::Ready(permit) = waiter_task.enter(|cx, _| waiter.poll_acquire(cx)) else {
            panic!("the waiter was granted a slot");
        };
        assert_eq!(permit.in_flight, 2, "the count its slot made");
    }

    #[test]
    fn a_limiter_reuses_its_waiter_from_one_wait_to_the_next() {
        let mut holder = limiter(1);
        let mut waiter = holder.clone();
        let mut waiter_task = task::spawn(());

        let held = task::spawn(()).enter(|cx, _| holder.poll_acquire(cx));
        assert!(
            waiter_task
                .enter(|cx, _| waiter.poll_acquire(cx))
                .is_pending()
        );
        let first = Arc::as_ptr(waiter.waiter.as_ref().expect("it waits"));
        drop(held);
        let Poll::Ready(_permit) = waiter_task.enter(|cx, _| waiter.poll_acquire(cx)) else {
            panic!("the waiter was granted the slot given back");
        };

        // The slot is out again: waiting once more reuses the allocation.
        assert!(
            waiter_task
                .enter(|cx, _| waiter.poll_acquire(cx))
                .is_pending()
        );
        let second = Arc::as_ptr(waiter.waiter.as_ref().expect("it waits"));
        assert!(std::ptr::eq(first, second), "no allocation for this wait");
        assert_eq!(waiter.shared.slots.waiters().len(), 1);
    }
}
