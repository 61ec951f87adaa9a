//! The budget that every clone of a [`RateLimit`](super::RateLimit) shares.
//!
//! Taking a request of the budget is lock-free and, but in the last
//! millisecond of a window, reads no clock: an atomic counter holds what is
//! left of the current window, and an atomic flag says whether the window
//! has ended. The lock is only taken to open a window or to wait for one to
//! end.
//!
//! A window ends exactly its period after it began, on tokio's clock, as
//! tower's does. tokio rounds a timer's deadline up to its next millisecond
//! tick, so a timer set for the end would let a window run up to a
//! millisecond late. The timer set when the window opens is for a
//! millisecond before its end instead (rounded up, it fires before the end);
//! from then on the window is "clocked": whether it has ended is found by
//! reading the clock, and if callers wait, the timer is set again for the
//! end itself, which wakes them once it has passed. Should the timer driver
//! fall behind by more than that millisecond, the window runs late by as
//! much, never early: the limit is never exceeded because of timer lag.
//!
//! Outside a tokio runtime no timer can be set: a window opened there is
//! clocked from the start, until a handle polled inside a runtime waits and
//! sets the timer for its end.
//!
//! # Memory ordering
//!
//! - `remaining` is only changed by read-modify-writes (the take's
//!   compare-and-swap, the give-back's add) or, when a window opens, by a
//!   store under the lock that no take of the new window can precede (the
//!   window is published after it). Takes are `AcqRel` so that a take
//!   that sees a given-back request also sees the give-back's window
//!   checks; the exactness of the count needs only the atomicity.
//! - Opening a window stores `remaining`, then `window`, then `ended =
//!   false`, each `Release`; `has_ended` and the take load `ended`, then
//!   `window`, then `remaining` with `Acquire`. A taker that sees the
//!   window open therefore sees that window's number and budget, and tags
//!   its request with the window it was taken from. A stale tag (a window
//!   ended between the loads) is caught by `charge`, which charges the
//!   call to the window it starts in.
//! - `until` is stored (`Release`) when a window opens, before `ended` is
//!   cleared and before `clocked` can be raised for that window; `clocked`
//!   and `until` are loaded (`Acquire`) in that order, so a reader that sees
//!   the window clocked reads its end. A reader late enough to see a
//!   window's `clocked` and then the next window's `until` (or the reverse)
//!   can only find the new window ended early, never late: at worst a
//!   window opens sooner, with what was left of the last one lost, and the
//!   limit still holds.
//! - `next_handle` is `Relaxed`: identifiers are unique by the atomicity of
//!   the add alone.
//! - The waiters, the timer and the overdraft are under the lock; a
//!   give-back adds to `remaining` before taking the lock to wake a
//!   waiter, and a waiter looks at `remaining` under the lock before it
//!   registers, so either the waiter sees the request or the giver sees
//!   the waiter (the loom models below explore both orders).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::task::coop::unconstrained;
use tokio::time::{Instant, Sleep};

use super::Rate;
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::sync::{Mutex, MutexGuard, lock};

pub(super) struct Budget {
    rate: Rate,
    /// Requests left in the current window.
    remaining: AtomicU64,
    /// Whether the current window has ended (true before the first one).
    ended: AtomicBool,
    /// Counts the windows opened, to tell a reservation's window apart.
    window: AtomicU64,
    /// Set while whether the current window has ended is found by reading
    /// the clock: in its last millisecond, and throughout a window opened
    /// outside a runtime.
    clocked: AtomicBool,
    /// When the current window ends, in nanoseconds since `origin`;
    /// `u64::MAX` for never.
    until: AtomicU64,
    origin: Instant,
    /// The last handle identifier given out. `Relaxed`: each identifier is
    /// unique by the atomicity of the add alone, and orders nothing else.
    next_handle: AtomicU64,
    slow: Mutex<Slow>,
    /// The callers made to wait, counted by their handles.
    #[cfg(feature = "metrics")]
    waits: metrics::Counter,
}

/// What only the slow paths touch.
struct Slow {
    /// Raises `clocked` a millisecond before the end of the current window,
    /// then, set again if callers wait, `ended` at its end.
    timer: Option<Pin<Box<Sleep>>>,
    /// The window whose timer is set for its end (0 for none).
    end_timer_for: u64,
    /// Handles waiting for the window to end or a request to be given back.
    waiting: Vec<(u64, Waker)>,
    /// Calls charged beyond the budget of their window (see
    /// [`Budget::charge`]), taken from the next window.
    overdraft: u64,
    /// The last window a caller had to wait in (0 for none): its first
    /// waiter reports it exhausted.
    exhausted: u64,
}

/// A request of the budget, taken in the window it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Taken {
    window: u64,
}

impl Budget {
    pub(super) fn new(
        rate: Rate,
        #[cfg(feature = "metrics")] waits: metrics::Counter,
    ) -> Arc<Self> {
        Arc::new(Budget {
            rate,
            remaining: AtomicU64::new(0),
            ended: AtomicBool::new(true),
            window: AtomicU64::new(0),
            clocked: AtomicBool::new(false),
            until: AtomicU64::new(u64::MAX),
            origin: Instant::now(),
            slow: Mutex::new(Slow {
                timer: None,
                end_timer_for: 0,
                waiting: Vec::new(),
                overdraft: 0,
                exhausted: 0,
            }),
            next_handle: AtomicU64::new(0),
            #[cfg(feature = "metrics")]
            waits,
        })
    }

    pub(super) fn rate(&self) -> Rate {
        self.rate
    }

    /// The counter of the callers made to wait.
    #[cfg(feature = "metrics")]
    pub(super) fn waits(&self) -> &metrics::Counter {
        &self.waits
    }

    /// Counts the callers made to wait in `waits` from now on.
    #[cfg(feature = "metrics")]
    pub(super) fn set_waits(&mut self, waits: metrics::Counter) {
        self.waits = waits;
    }

    fn lock(&self) -> MutexGuard<'_, Slow> {
        lock(&self.slow)
    }

    /// An identifier for a handle about to wait, for its place among the
    /// waiters; never 0, which stands for none. Given out the first time a
    /// handle waits, so that cloning a rate limit (as `Retry` does per
    /// request) costs nothing here.
    fn new_handle(&self) -> u64 {
        self.next_handle.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Whether the current window has ended.
    #[inline]
    fn has_ended(&self) -> bool {
        if self.ended.load(Ordering::Acquire) {
            return true;
        }
        if self.clocked.load(Ordering::Acquire) {
            return self.has_ended_by_the_clock();
        }
        false
    }

    /// [`has_ended`](Self::has_ended) for a clocked window.
    #[cold]
    fn has_ended_by_the_clock(&self) -> bool {
        let until = self.until.load(Ordering::Acquire);
        let elapsed = Instant::now().saturating_duration_since(self.origin);
        if until != u64::MAX && elapsed.as_nanos() >= u128::from(until) {
            self.ended.store(true, Ordering::Release);
            return true;
        }
        false
    }

    /// Takes one request of the current window without waiting, if one is
    /// left and the window has not ended.
    #[inline]
    fn try_take(&self) -> Option<Taken> {
        if self.has_ended() {
            return None;
        }
        let window = self.window.load(Ordering::Acquire);
        let mut remaining = self.remaining.load(Ordering::Acquire);
        while remaining > 0 {
            match self.remaining.compare_exchange_weak(
                remaining,
                remaining - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Taken { window }),
                Err(now) => remaining = now,
            }
        }
        None
    }

    /// Takes one request, opening a new window if the last one ended, or
    /// registers `handle` to be woken when one may be available.
    #[inline]
    pub(super) fn poll_take(
        self: &Arc<Self>,
        handle: &mut u64,
        cx: &mut Context<'_>,
    ) -> Poll<Taken> {
        match self.try_take() {
            Some(taken) => Poll::Ready(taken),
            None => self.poll_take_slow(handle, cx),
        }
    }

    /// [`poll_take`](Self::poll_take) when the window has nothing left at
    /// first sight.
    #[cold]
    fn poll_take_slow(self: &Arc<Self>, handle: &mut u64, cx: &mut Context<'_>) -> Poll<Taken> {
        loop {
            if let Some(taken) = self.try_take() {
                return Poll::Ready(taken);
            }
            let mut slow = self.lock();
            if self.has_ended() {
                self.open_window(&mut slow);
                continue;
            }
            if self.remaining.load(Ordering::Acquire) > 0 {
                // A request was given back meanwhile.
                continue;
            }
            // Waiting in a clocked window needs the timer for its end.
            let window = self.window.load(Ordering::Acquire);
            if self.clocked.load(Ordering::Acquire) && slow.end_timer_for != window {
                assert!(
                    tokio::runtime::Handle::try_current().is_ok(),
                    "RateLimit needs a tokio runtime, with its time driver enabled, to wait for \
                     the end of a window"
                );
                self.set_end_timer(&mut slow);
                continue;
            }
            if *handle == 0 {
                *handle = self.new_handle();
            }
            match slow.waiting.iter_mut().find(|(id, _)| *id == *handle) {
                Some((_, waker)) => waker.clone_from(cx.waker()),
                None => slow.waiting.push((*handle, cx.waker().clone())),
            }
            let exhausted = slow.exhausted != window;
            slow.exhausted = window;
            drop(slow);
            if exhausted {
                self.tracing_exhausted();
            }
            return Poll::Pending;
        }
    }

    /// Reports the current window exhausted: its first caller waits.
    #[cold]
    fn tracing_exhausted(&self) {
        let until = self.until.load(Ordering::Acquire);
        let ends_in = (until != u64::MAX).then(|| {
            let end = self.origin + Duration::from_nanos(until);
            end.saturating_duration_since(Instant::now())
        });
        tracing::debug!(
            budget = self.rate.num(),
            per = ?self.rate.per(),
            ?ends_in,
            "rate limit: the window is exhausted; callers wait for the next one"
        );
    }

    /// Opens a window starting now, and sets the timer for a millisecond
    /// before its end.
    fn open_window(self: &Arc<Self>, slow: &mut Slow) {
        let budget = self.rate.num().saturating_sub(slow.overdraft);
        slow.overdraft = slow.overdraft.saturating_sub(self.rate.num());
        let window = self.window.load(Ordering::Relaxed) + 1;
        let now = Instant::now();
        // A period too long to represent never ends.
        let until = now.checked_add(self.rate.per());
        let until_nanos = until.map_or(u64::MAX, |until| {
            u64::try_from(until.duration_since(self.origin).as_nanos()).unwrap_or(u64::MAX)
        });
        self.remaining.store(budget, Ordering::Release);
        self.window.store(window, Ordering::Release);
        self.until.store(until_nanos, Ordering::Release);
        self.clocked.store(false, Ordering::Release);
        self.ended.store(false, Ordering::Release);

        let Some(until) = until else {
            return;
        };
        if tokio::runtime::Handle::try_current().is_err() {
            self.clocked.store(true, Ordering::Release);
            return;
        }
        match until.checked_sub(CLOCKED_TAIL).filter(|&tail| tail > now) {
            Some(tail) => self.set_timer(slow, tail, Phase::Tail),
            // The whole window is its last millisecond.
            None => self.clocked.store(true, Ordering::Release),
        }
    }

    /// Sets the timer for `phase` of the current window, at `deadline`.
    fn set_timer(self: &Arc<Self>, slow: &mut Slow, deadline: Instant, phase: Phase) {
        let window = self.window.load(Ordering::Acquire);
        let timer = crate::time::reset_sleep(&mut slow.timer, deadline);
        let waker = Waker::from(Arc::new(WindowTimer {
            budget: Arc::downgrade(self),
            window,
            phase,
        }));
        // Polled outside tokio's cooperative budget: that budget running out
        // would wake `waker` at once, as if the deadline had passed.
        let mut poll = std::pin::pin!(unconstrained(timer.as_mut()));
        if poll
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_ready()
        {
            match phase {
                Phase::Tail => self.clocked.store(true, Ordering::Release),
                Phase::End => self.ended.store(true, Ordering::Release),
            }
        }
    }

    /// The window `window` is in its last millisecond: it is clocked from
    /// now on, and if callers wait, the timer is set again, for its end.
    fn enter_tail(self: &Arc<Self>, window: u64) {
        let mut slow = self.lock();
        if self.window.load(Ordering::Acquire) != window {
            return;
        }
        self.clocked.store(true, Ordering::Release);
        if slow.waiting.is_empty() || slow.end_timer_for == window {
            return;
        }
        self.set_end_timer(&mut slow);
        if self.ended.load(Ordering::Acquire) {
            // The end had passed already (the timer driver fell behind).
            let waiting = std::mem::take(&mut slow.waiting);
            drop(slow);
            for (_, waker) in waiting {
                waker.wake();
            }
        }
    }

    /// Sets the timer for the end of the current window, if it ends.
    fn set_end_timer(self: &Arc<Self>, slow: &mut Slow) {
        slow.end_timer_for = self.window.load(Ordering::Acquire);
        let until = self.until.load(Ordering::Acquire);
        if until != u64::MAX {
            let until = self.origin + Duration::from_nanos(until);
            self.set_timer(slow, until, Phase::End);
        }
    }

    /// The window `window` has ended: wake everyone waiting.
    fn end_window(&self, window: u64) {
        let waiting = {
            let mut slow = self.lock();
            if self.window.load(Ordering::Acquire) != window {
                return;
            }
            self.ended.store(true, Ordering::Release);
            std::mem::take(&mut slow.waiting)
        };
        for (_, waker) in waiting {
            waker.wake();
        }
    }

    /// Whether `taken` belongs to the window still open.
    #[inline]
    fn is_current(&self, taken: Taken) -> bool {
        !self.has_ended() && self.window.load(Ordering::Acquire) == taken.window
    }

    /// Charges a call made with a request taken in `taken`'s window.
    ///
    /// If that window has ended since, the call is charged to the window it
    /// starts in instead: so at most `num` calls start in any window. When
    /// other handles have already spent that window, the call still goes
    /// ahead (its handle was told it could), and is taken from the next
    /// window's budget.
    #[inline]
    pub(super) fn charge(self: &Arc<Self>, taken: Taken) {
        if !self.is_current(taken) {
            self.charge_late(taken);
        }
    }

    /// [`charge`](Self::charge) for a request taken in a window that ended.
    #[cold]
    fn charge_late(self: &Arc<Self>, _taken: Taken) {
        if self.try_take().is_some() {
            return;
        }
        let mut slow = self.lock();
        if self.has_ended() {
            self.open_window(&mut slow);
        }
        drop(slow);
        if self.try_take().is_none() {
            self.lock().overdraft += 1;
        }
    }

    /// Gives back a request that was not used, waking a waiting handle.
    pub(super) fn give_back(&self, taken: Taken) {
        if !self.is_current(taken) {
            return;
        }
        self.remaining.fetch_add(1, Ordering::AcqRel);
        let waker = {
            let mut slow = self.lock();
            if slow.waiting.is_empty() {
                None
            } else {
                Some(slow.waiting.remove(0).1)
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A handle goes away: it no longer waits.
    pub(super) fn forget(&self, handle: u64) {
        let mut slow = self.lock();
        slow.waiting.retain(|(id, _)| *id != handle);
    }
}

/// How long before its end a window becomes clocked: one tick of tokio's
/// timer, which rounds deadlines up to the next tick.
const CLOCKED_TAIL: Duration = Duration::from_millis(1);

/// What the budget's timer is set for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// A millisecond before the end of the window.
    Tail,
    /// The end of the window.
    End,
}

/// Woken by the budget's timer.
struct WindowTimer {
    budget: Weak<Budget>,
    window: u64,
    phase: Phase,
}

impl Wake for WindowTimer {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(budget) = self.budget.upgrade() {
            match self.phase {
                Phase::Tail => budget.enter_tail(self.window),
                Phase::End => budget.end_window(self.window),
            }
        }
    }
}

/// loom models of the budget: run with
/// `RUSTFLAGS="--cfg donjon_loom" cargo test -p donjon --features limit --release --lib loom`.
/// The rate's period is an hour, so no window ends by itself; a model ends
/// one by calling [`Budget::end_window`], as the timer would.
#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::future::poll_fn;
    use std::sync::Arc;
    use std::time::Duration;

    use loom::future::block_on;
    use loom::thread;

    use super::*;

    fn budget(num: u64) -> Arc<Budget> {
        let budget = Budget::new(
            Rate::new(num, Duration::from_secs(3600)),
            #[cfg(feature = "metrics")]
            metrics::Counter::noop(),
        );
        let mut slow = budget.lock();
        budget.open_window(&mut slow);
        drop(slow);
        // Opened outside a runtime, the window is clocked; as if its timer
        // were set (and not due within the model):
        budget.clocked.store(false, Ordering::Release);
        budget
    }

    #[test]
    fn loom_budget_the_last_millisecond_starting_while_requests_are_taken() {
        loom::model(|| {
            let budget = budget(2);
            let window = budget.window.load(Ordering::Acquire);
            let other = Arc::clone(&budget);
            let thread = thread::spawn(move || other.try_take().is_some());
            // The window becomes clocked (its end, an hour away, is read
            // from the clock from now on) while the other thread takes.
            budget.enter_tail(window);
            let mine = budget.try_take().is_some();
            let theirs = thread.join().expect("no panic");
            assert!(mine && theirs, "the window has not ended: both take one");
            assert!(budget.clocked.load(Ordering::Acquire));
            assert!(budget.try_take().is_none(), "and no third request");
        });
    }

    #[test]
    fn loom_budget_racing_takes_get_exactly_the_budget() {
        loom::model(|| {
            let budget = budget(1);
            let other = Arc::clone(&budget);
            let thread = thread::spawn(move || other.try_take().is_some());
            let mine = budget.try_take().is_some();
            let theirs = thread.join().expect("no panic");
            assert!(
                mine ^ theirs,
                "exactly one of two takes gets the one request"
            );
        });
    }

    #[test]
    fn loom_budget_a_give_back_wakes_a_waiter() {
        loom::model(|| {
            let budget = budget(1);
            let taken = budget.try_take().expect("the one request");
            let waiter = Arc::clone(&budget);
            let waiting = thread::spawn(move || {
                // Parks until woken: a lost wake-up is a deadlock.
                block_on(poll_fn(|cx| waiter.poll_take(&mut 0, cx)))
            });
            budget.give_back(taken);
            let got = waiting.join().expect("no panic");
            assert_eq!(got.window, 1, "the request given back, in its window");
            assert_eq!(budget.remaining.load(Ordering::Relaxed), 0);
        });
    }

    #[test]
    fn loom_budget_a_window_ending_while_a_request_is_taken_and_charged() {
        loom::model(|| {
            let budget = budget(1);
            let ender = Arc::clone(&budget);
            let end = thread::spawn(move || ender.end_window(1));
            let taken = budget.try_take();
            if let Some(taken) = taken {
                budget.charge(taken);
            }
            end.join().expect("no panic");
            // Whatever the order, no window gave out more than its budget:
            // a call taken in window 1 and charged after it ended was
            // charged to window 2 (or its overdraft).
            let window = budget.window.load(Ordering::Relaxed);
            let remaining = budget.remaining.load(Ordering::Relaxed);
            let overdraft = budget.lock().overdraft;
            match (taken.is_some(), window) {
                (true, 1) => assert_eq!(remaining, 0),
                (true, 2) => assert_eq!(remaining + overdraft, 0),
                (false, _) => {}
                (true, other) => panic!("unexpected window {other}"),
            }
        });
    }
}
