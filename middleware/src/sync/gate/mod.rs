//! [`Gate`]: the fair permit gate behind `ConcurrencyLimit`,
//! `GlobalConcurrencyLimit`, the adaptive limit and `Buffer`; its limit is
//! fixed, or moved by its owner.
//!
//! # Design
//!
//! One atomic word holds the free permits (shifted left by three bits) and
//! three flags: `CLOSED`, `WAITERS` (callers are queued) and `DEBT` (the
//! limit was lowered below the permits out, and permits coming back are
//! kept until the debt is paid). Taking a permit while no flag is set is one
//! compare-and-swap; giving one back is one atomic add, whose previous value
//! tells whether a waiter or a debt needs the lock. The lock guards the
//! queue and the debt; the flags only change under it.
//!
//! Waiters are served first come, first served: while `WAITERS` is set a
//! newcomer does not take a free permit (it goes to the lock and queues
//! behind), and permits coming back go to the first waiters. A served
//! waiter is granted a permit taken on its behalf, and woken; it claims the
//! permit the next time it polls, or gives it back if it is dropped first.
//!
//! An owner may give the gate a [`QueueDiscipline`] (the concurrency limit's
//! `with_queue`): then the queue notes when it started standing and when
//! each waiter joined, the oldest waiter's joining is published for
//! [`QueueDelay`](crate::discipline::QueueDelay), waiters whose time under
//! CoDel has come are refused ([`Denied::Refused`]) when permits are
//! settled, and permits may go to the newest waiter first. A waiter is also
//! refused by its own timer, when it polls after its time: each place keeps
//! one `Sleep`, reset for each wait. The clock is read only on these slow
//! paths, and not at all without a discipline.
//!
//! A caller that stops waiting without being dropped (a withdrawal poll,
//! see [`is_withdrawal`](super::is_withdrawal)) leaves the queue, or claims
//! the permit granted meanwhile; a withdrawing caller that finds no permit
//! free is never queued.
//!
//! # Invariants
//!
//! At every release of the lock: `WAITERS` is set if and only if the queue
//! is not empty, and `DEBT` if and only if the debt is not zero. Whenever a
//! flag is set and permits are free, a thread that added those permits
//! (through [`release`](Gate::release) or [`set_limit`](Gate::set_limit))
//! has yet to take the lock and settle them: permits are only ever added
//! with an atomic add that reads the flags, or under the lock.
//!
//! # Memory ordering
//!
//! - The permit word: every change is a read-modify-write, so all of them
//!   form one modification order, and each reads the latest value. That is
//!   what makes the hand-off safe: a `release` that reads no flag is
//!   ordered before the compare-and-swap that sets `WAITERS`, which
//!   therefore sees the permit released and takes it instead of waiting;
//!   a `release` ordered after it reads the flag and settles under the
//!   lock. No ordering with other memory is needed for this.
//! - Taking a permit is `Acquire` and giving it back `Release`, so that,
//!   as with any semaphore, what a caller did while holding a permit
//!   happens before what the next holder of that permit does: a limit of 1
//!   can be relied on as mutual exclusion. (On x86 every read-modify-write
//!   is a full barrier anyway, so this costs nothing there.)
//! - Flag changes and the grants to waiters happen under the queue's lock,
//!   and a waiter's grant and waker under the waiter's own lock, whose
//!   acquire and release order them. The lock order is queue, then waiter.
//! - `limit`, and the loads of the permit word that only report figures
//!   (`available`, `in_flight`) or only choose between paths before a
//!   compare-and-swap decides, are `Relaxed`.
//! - The oldest waiter's joining ([`Oldest`]) is written under the queue's
//!   lock and read as a figure: `Relaxed`.
//!
//! # Metrics
//!
//! With the `metrics` feature, an owner that wants them gives the gate a
//! [`GateMeter`] (the concurrency limits do; the buffer does not): the
//! callers queued and the permits out, as two gauges moved by one for each
//! change, so that they add up whatever the order of the threads. A permit
//! counts from when it is taken for a caller (granted, for a waiter) until
//! it comes back; the permits a lowered limit takes away are not counted.
//! The queue's changes are recorded once its lock is released. Without a
//! meter each change costs a test of an `Option`; without the feature,
//! nothing.

use std::collections::VecDeque;
use std::fmt;
#[cfg(not(all(test, donjon_loom)))]
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[cfg(feature = "metrics")]
use metrics::{Counter, Gauge};
use tokio::time::Instant;

use crate::discipline::{Oldest, QueueDelay, QueueDiscipline};

use super::atomic::{AtomicUsize, Ordering};
use super::{Arc, Mutex, WakeList, is_withdrawal, lock, register};

const CLOSED: usize = 1;
const WAITERS: usize = 1 << 1;
const DEBT: usize = 1 << 2;
const FLAGS: usize = CLOSED | WAITERS | DEBT;
const SHIFT: u32 = 3;
/// One permit in the permit word.
const ONE: usize = 1 << SHIFT;

/// The most permits a gate holds (as tokio's `Semaphore::MAX_PERMITS`).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> SHIFT;

/// A counter of free permits with a queue of waiters, a limit that can
/// move, and a way to close it.
pub(crate) struct Gate {
    /// The free permits, shifted by `SHIFT`, and the flags.
    state: AtomicUsize,
    /// The limit: written under the queue's lock, read as a figure.
    limit: AtomicUsize,
    queue: Mutex<Queue>,
    /// Whether a caller starting to wait is reported (a concurrency
    /// limit's gate; not the buffer's).
    reports_waits: bool,
    /// What the owner records, if anything.
    #[cfg(feature = "metrics")]
    meter: Option<GateMeter>,
    /// How the queue is served, if not plainly first come, first served.
    discipline: Option<Discipline>,
    /// The clock of a loom model: milliseconds after `clock_base`.
    #[cfg(all(test, donjon_loom))]
    pub(super) clock: std::sync::atomic::AtomicU64,
    #[cfg(all(test, donjon_loom))]
    clock_base: Instant,
}

/// A gate's discipline, and where it publishes its oldest waiter's
/// joining.
struct Discipline {
    rule: QueueDiscipline,
    oldest: Arc<Oldest>,
}

/// The gauges a gate moves (feature `metrics`), given by its owner.
#[cfg(feature = "metrics")]
#[cfg_attr(
    not(feature = "limit"),
    allow(dead_code, reason = "only the limits give a gate a meter")
)]
#[derive(Debug)]
pub(crate) struct GateMeter {
    /// Callers in the queue.
    pub(crate) waiters: Gauge,
    /// Permits taken for callers and not given back yet.
    pub(crate) in_flight: Gauge,
    /// Waiters refused by the gate's discipline.
    pub(crate) refused: Counter,
}

struct Queue {
    waiters: VecDeque<Queued>,
    /// Permits out beyond a lowered limit, kept as they come back.
    debt: usize,
    /// When the queue started standing, with a discipline: `Some` exactly
    /// while it is not empty.
    since: Option<Instant>,
    /// The last waiter to leave was refused: a refusal after a grant is
    /// reported, the ones following it are not.
    refusing: bool,
}

/// A caller in the queue, and (with a discipline) its times.
struct Queued {
    waiter: Arc<Waiter>,
    /// When it joined, with a discipline.
    joined: Option<Instant>,
    /// When CoDel refuses it, with a discipline that refuses.
    refuse_at: Option<Instant>,
}

/// Why a caller gets no permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Denied {
    /// The gate was closed: no permit will be given out again.
    Closed,
    /// The gate's discipline refused the caller, which waited too long.
    Refused,
}

/// What settling the queue did.
#[derive(Default)]
struct Settled {
    /// `wakes` filled up before the settling was done.
    more: bool,
    /// Waiters granted a permit.
    served: usize,
    /// Waiters refused.
    refused: usize,
    /// The refusals start a run, to be reported.
    report: bool,
}

/// One caller in the queue.
struct Waiter {
    state: Mutex<WaiterState>,
}

struct WaiterState {
    grant: Grant,
    waker: Option<Waker>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    Waiting,
    /// A permit was taken on the waiter's behalf.
    Granted,
    /// The gate closed while the waiter was queued.
    Closed,
    /// The gate's discipline refused the waiter.
    Refused,
}

impl Waiter {
    fn new(waker: &Waker) -> Self {
        Waiter {
            state: Mutex::new(WaiterState {
                grant: Grant::Waiting,
                waker: Some(waker.clone()),
            }),
        }
    }
}

/// A permit owned by a value, given back when it is dropped.
pub(crate) struct GatePermit {
    gate: Arc<Gate>,
}

impl Gate {
    /// A gate with a limit of `limit`, every permit free.
    ///
    /// # Panics
    ///
    /// If `limit` is above [`MAX_PERMITS`].
    pub(crate) fn new(limit: usize) -> Self {
        assert!(
            limit <= MAX_PERMITS,
            "a gate holds at most {MAX_PERMITS} permits, got {limit}"
        );
        Gate {
            state: AtomicUsize::new(limit << SHIFT),
            limit: AtomicUsize::new(limit),
            queue: Mutex::new(Queue {
                waiters: VecDeque::new(),
                debt: 0,
                since: None,
                refusing: false,
            }),
            reports_waits: false,
            #[cfg(feature = "metrics")]
            meter: None,
            discipline: None,
            #[cfg(all(test, donjon_loom))]
            clock: std::sync::atomic::AtomicU64::new(0),
            #[cfg(all(test, donjon_loom))]
            clock_base: Instant::now(),
        }
    }

    /// The gate, serving its queue by `rule`.
    #[cfg(test)]
    pub(crate) fn with_discipline(mut self, rule: QueueDiscipline) -> Self {
        self.set_discipline(rule);
        self
    }

    /// Serves the queue by `rule` from now on; for a gate nobody waits at.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the concurrency limit has a discipline")
    )]
    pub(crate) fn set_discipline(&mut self, rule: QueueDiscipline) {
        self.discipline = Some(Discipline {
            rule,
            oldest: Arc::new(Oldest::new()),
        });
    }

    /// How long the oldest waiter has waited, for a gate with a discipline.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the concurrency limit has a discipline")
    )]
    pub(crate) fn queue_delay(&self) -> Option<QueueDelay> {
        let discipline = self.discipline.as_ref()?;
        Some(QueueDelay::new(Arc::clone(&discipline.oldest)))
    }

    /// The time now, for a discipline.
    #[cfg(not(all(test, donjon_loom)))]
    #[allow(clippy::unused_self, reason = "a loom model's gate has its own clock")]
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// The time now, on a loom model's clock.
    #[cfg(all(test, donjon_loom))]
    fn now(&self) -> Instant {
        self.clock_base
            + std::time::Duration::from_millis(
                self.clock.load(std::sync::atomic::Ordering::Relaxed),
            )
    }

    /// The gate, emitting a `debug` event `concurrency limit: every permit
    /// is in use, a caller waits`, with the limit and the callers queued,
    /// each time a caller joins the queue.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the concurrency limit reports waits")
    )]
    pub(crate) fn reporting_waits(mut self) -> Self {
        self.reports_waits = true;
        self
    }

    /// The gate, recording into `meter`.
    #[cfg(feature = "metrics")]
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the limits give a gate a meter")
    )]
    pub(crate) fn with_meter(mut self, meter: GateMeter) -> Self {
        self.set_meter(meter);
        self
    }

    /// Records into `meter` from now on, in place of the meter it had.
    #[cfg(feature = "metrics")]
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the limits give a gate a meter")
    )]
    pub(crate) fn set_meter(&mut self, meter: GateMeter) {
        self.meter = Some(meter);
    }

    /// Records `taken` permits taken for callers and `served` waiters
    /// leaving the queue with one of them.
    #[cfg(feature = "metrics")]
    #[inline]
    fn record_taken(&self, taken: usize, served: usize) {
        if let Some(meter) = &self.meter {
            if taken > 0 {
                meter.in_flight.increment(taken as f64);
            }
            if served > 0 {
                meter.waiters.decrement(served as f64);
            }
        }
    }

    /// Records a permit given back.
    #[cfg(feature = "metrics")]
    #[inline]
    fn record_released(&self) {
        if let Some(meter) = &self.meter {
            meter.in_flight.decrement(1.0);
        }
    }

    /// Records `joined` callers joining the queue and `left` leaving it
    /// without a permit.
    #[cfg(feature = "metrics")]
    #[inline]
    fn record_queue(&self, joined: usize, left: usize) {
        if let Some(meter) = &self.meter {
            if joined > 0 {
                meter.waiters.increment(joined as f64);
            }
            if left > 0 {
                meter.waiters.decrement(left as f64);
            }
        }
    }

    /// The permits free now.
    #[cfg_attr(
        not(feature = "buffer"),
        allow(dead_code, reason = "only the buffer shows it")
    )]
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Relaxed) >> SHIFT
    }

    /// The limit now.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the adaptive limit moves it")
    )]
    pub(crate) fn limit(&self) -> usize {
        self.limit.load(Ordering::Relaxed)
    }

    /// The permits out now (a figure: it may be stale by the time it is
    /// read, and while a lowered limit's debt is being paid it counts the
    /// permits out against the new limit, so it can exceed it).
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the adaptive limit reports it")
    )]
    pub(crate) fn in_flight(&self) -> usize {
        let state = self.state.load(Ordering::Relaxed);
        let out = self.limit().saturating_sub(state >> SHIFT);
        if state & DEBT == 0 {
            out
        } else {
            out + lock(&self.queue).debt
        }
    }

    /// Takes a free permit, unless callers are queued, a debt is being paid
    /// or the gate is closed.
    #[inline]
    fn try_take(&self) -> bool {
        let state = self.state.load(Ordering::Relaxed);
        let taken = state & FLAGS == 0
            && state >= ONE
            && self
                .state
                .compare_exchange(state, state - ONE, Ordering::Acquire, Ordering::Relaxed)
                .is_ok();
        #[cfg(feature = "metrics")]
        if taken {
            self.record_taken(1, 0);
        }
        taken
    }

    /// Takes a free permit whatever the flags; under the lock only.
    fn take_locked(&self) -> bool {
        self.take_locked_up_to(1) == 1
    }

    /// Takes up to `wanted` free permits whatever the flags, returning how
    /// many; under the lock only.
    fn take_locked_up_to(&self, wanted: usize) -> usize {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let taken = (state >> SHIFT).min(wanted);
            if taken == 0 {
                return 0;
            }
            match self.state.compare_exchange_weak(
                state,
                state - (taken << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return taken,
                Err(now) => state = now,
            }
        }
    }

    /// Gives one permit back.
    #[inline]
    pub(crate) fn release(&self) {
        #[cfg(feature = "metrics")]
        self.record_released();
        let previous = self.state.fetch_add(ONE, Ordering::Release);
        debug_assert!(
            previous >> SHIFT < MAX_PERMITS,
            "a gate was given back more permits than it holds"
        );
        if previous & (WAITERS | DEBT) != 0 {
            self.settle();
        }
    }

    /// Takes a free permit without queueing, unless callers are queued, a
    /// debt is being paid or the gate is closed.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the concurrency limits use it")
    )]
    #[inline]
    pub(crate) fn try_acquire(self: &Arc<Self>) -> Option<GatePermit> {
        self.try_take().then(|| self.owned())
    }

    /// Makes a permit taken by the caller into one given back on drop.
    pub(crate) fn owned(self: &Arc<Self>) -> GatePermit {
        GatePermit {
            gate: Arc::clone(self),
        }
    }

    /// Refuses the waiters whose time has come, pays the debt with free
    /// permits, then hands free permits to the waiters (in order, or the
    /// newest first as the discipline says), and wakes them once the lock
    /// is released.
    #[cold]
    fn settle(&self) {
        loop {
            let mut wakes = WakeList::new();
            let settled = self.settle_locked(&mut lock(&self.queue), &mut wakes);
            self.settled(&settled);
            wakes.wake_all();
            if !settled.more {
                return;
            }
        }
    }

    /// Records and reports what a settling did, once the lock is released.
    fn settled(&self, settled: &Settled) {
        #[cfg(feature = "metrics")]
        {
            self.record_taken(settled.served, settled.served);
            self.record_refused(settled.refused);
        }
        if settled.report {
            self.report_refusals(settled.refused);
        }
    }

    /// [`settle`](Self::settle) under the lock.
    fn settle_locked(&self, queue: &mut Queue, wakes: &mut WakeList) -> Settled {
        let mut settled = Settled::default();
        let now = match &self.discipline {
            Some(discipline) if !queue.waiters.is_empty() => {
                let now = self.now();
                self.refuse_locked(queue, now, wakes, &mut settled);
                Some((discipline, now))
            }
            _ => None,
        };
        while queue.debt > 0 && self.take_locked() {
            queue.debt -= 1;
        }
        if queue.debt == 0 && !settled.more {
            while !queue.waiters.is_empty() {
                if wakes.is_full() {
                    settled.more = true;
                    break;
                }
                if !self.take_locked() {
                    break;
                }
                let newest = now.is_some_and(|(discipline, now)| {
                    let since = queue.since.expect("a standing queue has its start");
                    discipline.rule.serves_newest(now, since)
                });
                let queued = if newest {
                    queue.waiters.pop_back()
                } else {
                    queue.waiters.pop_front()
                };
                let queued = queued.expect("the queue is not empty");
                settled.served += 1;
                queue.refusing = false;
                let mut waiter = lock(&queued.waiter.state);
                waiter.grant = Grant::Granted;
                if let Some(waker) = waiter.waker.take() {
                    wakes.push(waker);
                }
            }
        }
        self.update_flags(queue);
        settled
    }

    /// Refuses the waiters at the front whose time under CoDel has come
    /// (the times grow from front to back: one start of the queue's
    /// standing, later joinings).
    fn refuse_locked(
        &self,
        queue: &mut Queue,
        now: Instant,
        wakes: &mut WakeList,
        settled: &mut Settled,
    ) {
        while queue
            .waiters
            .front()
            .and_then(|queued| queued.refuse_at)
            .is_some_and(|refuse_at| refuse_at <= now)
        {
            if wakes.is_full() {
                settled.more = true;
                return;
            }
            let queued = queue.waiters.pop_front().expect("the queue is not empty");
            settled.refused += 1;
            settled.report |= !std::mem::replace(&mut queue.refusing, true);
            let mut waiter = lock(&queued.waiter.state);
            waiter.grant = Grant::Refused;
            if let Some(waker) = waiter.waker.take() {
                wakes.push(waker);
            }
        }
    }

    /// Reports the start of a run of refusals.
    #[cold]
    fn report_refusals(&self, refused: usize) {
        tracing::debug!(
            limit = self.limit(),
            refused,
            "concurrency limit: waiters past the queue's delay target were refused"
        );
    }

    /// Records `refused` waiters refused.
    #[cfg(feature = "metrics")]
    fn record_refused(&self, refused: usize) {
        if refused > 0 {
            if let Some(meter) = &self.meter {
                meter.refused.increment(refused as u64);
                meter.waiters.decrement(refused as f64);
            }
        }
    }

    /// Clears the flags that no longer hold, and with a discipline notes
    /// the queue's start and oldest waiter; under the lock only.
    fn update_flags(&self, queue: &mut Queue) {
        if let Some(discipline) = &self.discipline {
            let oldest = queue.waiters.front().and_then(|queued| queued.joined);
            if oldest.is_none() {
                queue.since = None;
            }
            discipline.oldest.set(oldest);
        }
        let mut clear = 0;
        if queue.waiters.is_empty() {
            clear |= WAITERS;
        }
        if queue.debt == 0 {
            clear |= DEBT;
        }
        if self.state.load(Ordering::Relaxed) & clear != 0 {
            self.state.fetch_and(!clear, Ordering::Relaxed);
        }
    }

    /// Moves the limit to `limit`: a higher limit adds free permits (served
    /// to waiters first), a lower one takes free permits away, and permits
    /// out beyond it as they come back.
    ///
    /// # Panics
    ///
    /// If `limit` is above [`MAX_PERMITS`].
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the adaptive limit moves it")
    )]
    pub(crate) fn set_limit(&self, limit: usize) {
        assert!(
            limit <= MAX_PERMITS,
            "a gate holds at most {MAX_PERMITS} permits, got {limit}"
        );
        let mut wakes = WakeList::new();
        let settled = {
            let mut queue = lock(&self.queue);
            let previous = self.limit.load(Ordering::Relaxed);
            self.limit.store(limit, Ordering::Relaxed);
            if limit > previous {
                let mut added = limit - previous;
                let paid = added.min(queue.debt);
                queue.debt -= paid;
                added -= paid;
                if added > 0 {
                    self.state.fetch_add(added << SHIFT, Ordering::Release);
                }
            } else {
                let removed = previous - limit;
                queue.debt += removed - self.take_locked_up_to(removed);
                if queue.debt > 0 {
                    self.state.fetch_or(DEBT, Ordering::Relaxed);
                }
            }
            self.settle_locked(&mut queue, &mut wakes)
        };
        self.settled(&settled);
        wakes.wake_all();
        if settled.more {
            self.settle();
        }
    }

    /// Closes the gate: queued callers are woken and get [`Denied::Closed`], as
    /// does every later acquisition. Permits out still come back.
    #[cfg_attr(
        not(feature = "buffer"),
        allow(dead_code, reason = "only the buffer closes its gate")
    )]
    pub(crate) fn close(&self) {
        let waiters = {
            let mut queue = lock(&self.queue);
            self.state.fetch_or(CLOSED, Ordering::Relaxed);
            let waiters = std::mem::take(&mut queue.waiters);
            self.update_flags(&mut queue);
            waiters
        };
        #[cfg(feature = "metrics")]
        self.record_queue(0, waiters.len());
        for queued in waiters {
            let waker = {
                let mut waiter = lock(&queued.waiter.state);
                waiter.grant = Grant::Closed;
                waiter.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// One caller's access to a gate: its place in the queue while it waits,
/// and the waiter it keeps from one wait to the next (no allocation per
/// wait). Dropping it leaves the queue, or gives back the permit it was
/// granted and had not claimed.
pub(crate) struct Place {
    gate: Arc<Gate>,
    waiter: Option<Arc<Waiter>>,
    /// `waiter` is queued, or was granted a permit not yet claimed.
    queued: bool,
    /// With a discipline that refuses: when this wait is refused.
    refuse_at: Option<Instant>,
    /// The timer that wakes the caller at `refuse_at`, kept from one wait
    /// to the next. Not under loom, whose models cannot run tokio's timers.
    #[cfg(not(all(test, donjon_loom)))]
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Place {
    /// A place at `gate`, not waiting.
    pub(crate) fn new(gate: Arc<Gate>) -> Self {
        Place {
            gate,
            waiter: None,
            queued: false,
            refuse_at: None,
            #[cfg(not(all(test, donjon_loom)))]
            timer: None,
        }
    }

    /// The gate.
    pub(crate) fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }

    /// The gate, mutably, if this place alone holds it (no other place or
    /// owned permit shares it) and does not wait.
    #[cfg_attr(
        not(feature = "limit"),
        allow(dead_code, reason = "only the limits set up a gate they share")
    )]
    pub(crate) fn gate_mut(&mut self) -> Option<&mut Gate> {
        if self.queued {
            return None;
        }
        Arc::get_mut(&mut self.gate)
    }

    /// Takes a permit for the caller, who gives it back with
    /// [`Gate::release`] or makes it owned with [`Gate::owned`]; or queues
    /// the caller, to be woken when it is granted one.
    ///
    /// For a withdrawal poll it never queues: it leaves the queue (or
    /// claims the permit granted meanwhile) and returns `Pending` if no
    /// permit is there.
    ///
    /// With a discipline that refuses, a queued caller is refused
    /// ([`Denied::Refused`]) when its time comes.
    #[inline]
    pub(crate) fn poll_acquire(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Denied>> {
        if !self.queued && self.gate.try_take() {
            return Poll::Ready(Ok(()));
        }
        self.poll_slow(cx)
    }

    #[cold]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Denied>> {
        let withdrawing = is_withdrawal(cx.waker());
        if self.queued {
            let waiter = self.waiter.as_ref().expect("a queued place has a waiter");
            let mut state = lock(&waiter.state);
            match state.grant {
                Grant::Granted => {
                    self.queued = false;
                    return Poll::Ready(Ok(()));
                }
                Grant::Closed => {
                    self.queued = false;
                    return Poll::Ready(Err(Denied::Closed));
                }
                Grant::Refused => {
                    self.queued = false;
                    return Poll::Ready(Err(Denied::Refused));
                }
                Grant::Waiting if !withdrawing => {
                    register(&mut state.waker, cx.waker());
                    drop(state);
                    return self.wait(cx);
                }
                Grant::Waiting => {
                    drop(state);
                    return match self.leave(false) {
                        Grant::Granted => Poll::Ready(Ok(())),
                        Grant::Closed => Poll::Ready(Err(Denied::Closed)),
                        Grant::Refused => Poll::Ready(Err(Denied::Refused)),
                        Grant::Waiting => Poll::Pending,
                    };
                }
            }
        }
        match self.enqueue(cx.waker(), withdrawing) {
            Poll::Pending if self.queued => self.wait(cx),
            polled => polled,
        }
    }

    /// Waits in the queue, the waker registered: `Pending`, or refused if
    /// its time has come (unless a permit or the closing came first).
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Denied>> {
        if !self.refusal_due(cx) {
            return Poll::Pending;
        }
        match self.leave(true) {
            Grant::Granted => Poll::Ready(Ok(())),
            Grant::Closed => Poll::Ready(Err(Denied::Closed)),
            Grant::Waiting | Grant::Refused => Poll::Ready(Err(Denied::Refused)),
        }
    }

    /// Whether this wait's refusal time has come; registers `cx` with the
    /// timer if not.
    fn refusal_due(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(at) = self.refuse_at else {
            return false;
        };
        #[cfg(not(all(test, donjon_loom)))]
        if let Some(timer) = &mut self.timer {
            let _ = timer.as_mut().poll(cx).is_ready();
        }
        #[cfg(all(test, donjon_loom))]
        let _ = cx;
        self.gate.now() >= at
    }

    /// Arms this place's refusal for a wait refused at `at`.
    fn arm_refusal(&mut self, at: Instant) {
        self.refuse_at = Some(at);
        #[cfg(not(all(test, donjon_loom)))]
        crate::time::reset_sleep(&mut self.timer, at);
    }

    fn enqueue(&mut self, waker: &Waker, withdrawing: bool) -> Poll<Result<(), Denied>> {
        let gate = &*self.gate;
        let mut queue = lock(&gate.queue);
        let mut state = gate.state.load(Ordering::Relaxed);
        loop {
            if state & CLOSED != 0 {
                return Poll::Ready(Err(Denied::Closed));
            }
            let (next, ordering) = if state & FLAGS == 0 && state >= ONE {
                // Nobody is queued and a permit is free (it came back since
                // the fast path looked): take it.
                (state - ONE, Ordering::Acquire)
            } else if withdrawing {
                return Poll::Pending;
            } else {
                // Set before the waiter is queued, under the lock: a permit
                // given back from now on reads it and settles, under the
                // lock, so after this caller is in the queue.
                (state | WAITERS, Ordering::Relaxed)
            };
            match gate
                .state
                .compare_exchange_weak(state, next, ordering, Ordering::Relaxed)
            {
                Ok(_) if next < state => {
                    drop(queue);
                    #[cfg(feature = "metrics")]
                    gate.record_taken(1, 0);
                    return Poll::Ready(Ok(()));
                }
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        // Reuse the last waiter when the queue let go of it.
        match self.waiter.as_mut().and_then(Arc::get_mut) {
            Some(waiter) => {
                let state = waiter
                    .state
                    .get_mut()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.grant = Grant::Waiting;
                register(&mut state.waker, waker);
            }
            None => self.waiter = Some(Arc::new(Waiter::new(waker))),
        }
        let waiter = Arc::clone(self.waiter.as_ref().expect("the waiter was just set"));
        let (joined, refuse_at) = match &gate.discipline {
            Some(discipline) => {
                let now = gate.now();
                let since = *queue.since.get_or_insert(now);
                if queue.waiters.is_empty() {
                    discipline.oldest.set(Some(now));
                }
                (Some(now), discipline.rule.refuse_at(now, since))
            }
            None => (None, None),
        };
        queue.waiters.push_back(Queued {
            waiter,
            joined,
            refuse_at,
        });
        let waiting = queue.waiters.len();
        drop(queue);
        if gate.reports_waits {
            tracing::debug!(
                limit = gate.limit(),
                waiting,
                "concurrency limit: every permit is in use, a caller waits"
            );
        }
        #[cfg(feature = "metrics")]
        gate.record_queue(1, 0);
        self.queued = true;
        // A gate's discipline is set before any caller waits: each wait
        // of a place has a refusal time, or none does.
        if let Some(at) = refuse_at {
            self.arm_refusal(at);
        }
        Poll::Pending
    }

    /// Leaves the queue. Returns `Granted` if a permit was granted first
    /// (it is now the caller's), `Closed` if the gate closed first,
    /// `Refused` if the discipline refused it first, and `Waiting` if the
    /// caller left the queue: `refused`, because its time came.
    fn leave(&mut self, refused: bool) -> Grant {
        self.queued = false;
        let waiter = self.waiter.as_ref().expect("a queued place has a waiter");
        let mut queue = lock(&self.gate.queue);
        if let Some(index) = queue
            .waiters
            .iter()
            .position(|queued| Arc::ptr_eq(&queued.waiter, waiter))
        {
            queue.waiters.remove(index);
            let report = refused && !std::mem::replace(&mut queue.refusing, true);
            self.gate.update_flags(&mut queue);
            drop(queue);
            #[cfg(feature = "metrics")]
            if refused {
                self.gate.record_refused(1);
            } else {
                self.gate.record_queue(0, 1);
            }
            if report {
                self.gate.report_refusals(1);
            }
            return Grant::Waiting;
        }
        drop(queue);
        // Not queued any more: served or closed, under the locks taken
        // before ours was.
        lock(&waiter.state).grant
    }
}

impl Clone for Place {
    /// A place at the same gate, not waiting.
    fn clone(&self) -> Self {
        Place::new(Arc::clone(&self.gate))
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.queued && self.leave(false) == Grant::Granted {
            // Granted after all: the permit goes back, to the next waiter if
            // there is one.
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
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Gate")
            .field("limit", &self.limit())
            .field("available", &(state >> SHIFT))
            .field("waiters", &(state & WAITERS != 0))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Place")
            .field("gate", &self.gate)
            .field("queued", &self.queued)
            .finish()
    }
}

impl fmt::Debug for GatePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatePermit").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(donjon_loom)))]
mod tests;

#[cfg(all(test, donjon_loom))]
mod loom_models;
