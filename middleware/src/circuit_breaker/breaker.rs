//! The state that every clone of a circuit breaker, and every [`Handle`],
//! shares: the state machine, its sliding window, and the callers waiting
//! for it to let requests through.
//!
//! # Locking
//!
//! The state (as its tag: `phase.rs` holds the one mapping between the
//! machine's phases, the public states and their tags) and an epoch (bumped
//! at every change of state) are mirrored in one atomic word, so that
//! admitting a request while closed (or disabled) takes no lock. A call
//! that succeeds while closed usually takes none either: it counts itself
//! with one compare-and-swap on a credit of successes that the breaker
//! grants under its lock (see `credit.rs`). A success has nothing to
//! decide: it can only lower the rates. The credit covers the successes
//! that can come before that changes: none once the window is one call
//! short of its minimum (the success that reaches it takes the lock, to
//! check the rates), none that was slow, and, in a time window, none after
//! its latest bucket ends (the window must move on).
//!
//! Everything else sits behind one mutex, held for a few field updates at a
//! time (O(1), but for a time window that has to let go of up to all its
//! buckets at once, and for the successes counted with a credit, which
//! take a step each up to a count window's size), never across an await;
//! the classifier runs before it is taken, and wakers are woken and
//! `tracing` events emitted after it is released. It is taken for each
//! failure or slow call that finishes while closed (to record it in the
//! window and check the thresholds, comparing integers: the rates'
//! thresholds are converted once, to parts per billion), for a success the
//! credit does not cover, and on the paths that are not hot: while open or
//! half-open, and for reads and manual control through a handle. Whoever
//! takes it to read the window or change the state first reclaims the
//! credit, adding the successes counted with it to the window; whoever
//! releases it with the breaker closed grants a new one. An ignored
//! outcome, or one from an earlier epoch, takes no lock. Nothing is
//! allocated for a request that goes through: a call only holds a
//! reference (an `Arc` clone) to record its outcome.
//!
//! A call carries the epoch it was admitted in; its outcome only counts if
//! the breaker is still in that epoch when it finishes, so that calls from
//! before a change of state do not count after it.
//!
//! # Memory ordering
//!
//! - The state word (`fast`) is only written under the lock, by `settle`,
//!   after the machine and the credit: `Release`. It is read without the
//!   lock (to admit a call while closed or disabled, to tell a stale
//!   ticket, to skip the lock for an outcome from an earlier epoch) with
//!   `Acquire`, so that a call admitted in a new closed epoch also sees the
//!   credit granted for it, and its first success takes no lock. Nothing
//!   else hangs on it: an admission made from a word that a change of state
//!   has since replaced carries the old epoch, and its outcome is turned
//!   away, under the lock, by the epoch check; a word read as changed has
//!   changed, as epochs only grow. Probes are only given under the lock, so
//!   no call is admitted as one beyond the half-open slots, whatever a
//!   caller read.
//! - The credit's word changes only by read-modify-writes (a success's
//!   compare-and-swap, the reclaim's `fetch_and`) and by the grant's store
//!   under the lock, so all of its changes form one modification order,
//!   and each read-modify-write reads the latest value. That is what makes
//!   the count exact: a take ordered before the reclaim finds the credit
//!   and is counted by it; one ordered after finds nothing left, or another
//!   epoch once a new credit is granted, and takes the lock. A success
//!   carries no data, so takes (`Relaxed` when they succeed) and the
//!   reclaim (`Relaxed`, under the lock) need no ordering with other
//!   memory. The grant stores the credit's end (`until`, `Relaxed`) before
//!   its word (`Release`); a take loads the word with `Acquire` (and
//!   re-reads it so on a failed compare-and-swap) before it loads the end,
//!   which is therefore its grant's or a later one's: ends only move later
//!   within an epoch, and a compare-and-swap that succeeds against a word
//!   granted again with the same value (same epoch, same count) counts the
//!   success in the window's latest bucket, as a late time does.
//! - `next_waiter` is `Relaxed`: identifiers are unique by the atomicity of
//!   the add alone.
//! - The rest (the machine, the window, the waiters) is under the lock,
//!   whose acquire and release order it. A caller that must wait registers
//!   its waker in the same critical section in which it read the state; a
//!   change that lets callers through (a change of state, a probe slot
//!   given back) takes every registered waker in its own critical section,
//!   and wakes them once it has let go. So either the caller saw the change,
//!   or the change saw the caller's waker: no wake-up is lost (the loom
//!   models below explore both orders).
//!
//! [`Handle`]: super::Handle
use std::mem;
use std::task::Context;

use tokio::time::Instant;

use super::config::{Config, OpenBehavior, WindowKind};
use super::credit::Credit;
use super::error::CircuitOpen;
use super::handle::{Figures, State};
use super::machine::{Machine, Reason, Rules, Transition, nanos_since};
use super::phase::{CLOSED_TAG, DISABLED_TAG, Phase, epoch_of, pack, state_of, tag_of, to_tag};
use super::ticket::{Admission, Decision, Ticket, Waiter};
use super::window::Window;
use crate::classify::Outcome;
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::sync::{Arc, Mutex, MutexGuard, lock};

/// What every clone of a breaker shares.
pub(super) struct Shared {
    config: Config,
    /// What trips the breaker, taken from `config`.
    rules: Rules,
    /// The state's tag and epoch, [packed](pack): read without the lock,
    /// written with it held.
    fast: AtomicU64,
    /// The successes that calls may count without the lock, granted and
    /// reclaimed with it held.
    credit: Credit,
    /// Whether the window is a time window, which needs the time of each
    /// outcome.
    time_window: bool,
    /// Whether the end of a call needs the time: for a time window, or to
    /// measure slow calls.
    timed: bool,
    /// The start of a time window's first bucket; stands for "now" where
    /// the time does not matter.
    origin: Instant,
    /// Identifies the clones that wait.
    next_waiter: AtomicU64,
    machine: Mutex<Machine>,
    #[cfg(feature = "metrics")]
    meter: super::meter::Meter,
}

impl Shared {
    pub(super) fn new(config: Config) -> Arc<Self> {
        let origin = Instant::now();
        let window = Window::new(config.window(), origin);
        let rules = Rules::new(&config);
        let credit = Credit::new();
        let mut machine = Machine::new(window);
        machine.grant(&credit, &rules, origin);
        let fast = pack(machine.epoch, machine.phase.to_tag());
        let time_window = matches!(config.window(), WindowKind::Time { .. });
        #[cfg(feature = "metrics")]
        let meter = super::meter::Meter::new(config.name());
        Arc::new(Shared {
            time_window,
            timed: time_window || rules.slow.is_some(),
            config,
            rules,
            fast: AtomicU64::new(fast),
            credit,
            origin,
            next_waiter: AtomicU64::new(0),
            machine: Mutex::new(machine),
            #[cfg(feature = "metrics")]
            meter,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Machine> {
        lock(&self.machine)
    }

    /// The start of a call, in nanoseconds after the origin, if slow calls
    /// are measured (0 otherwise).
    #[inline]
    pub(super) fn start_time(&self) -> u64 {
        match self.rules.slow {
            Some(_) => self.since_origin(Instant::now()),
            None => 0,
        }
    }

    /// The nanoseconds from the origin to `at`.
    #[inline]
    fn since_origin(&self, at: Instant) -> u64 {
        nanos_since(self.origin, at)
    }

    /// The time to give the window: only a time window needs the clock.
    fn window_now(&self) -> Instant {
        if self.time_window {
            Instant::now()
        } else {
            self.origin
        }
    }

    /// Releases the lock after a change: grants a credit if closed and
    /// none is out, publishes the new state, emits the event, and wakes the
    /// waiters (all of them after a change of state, or when `wake` is
    /// set).
    fn settle(
        &self,
        mut machine: MutexGuard<'_, Machine>,
        transition: Option<Transition>,
        wake: bool,
    ) {
        machine.grant(&self.credit, &self.rules, self.origin);
        if transition.is_some() {
            self.fast.store(
                pack(machine.epoch, machine.phase.to_tag()),
                Ordering::Release,
            );
        }
        let waiters = if transition.is_some() || wake {
            mem::take(&mut machine.waiters)
        } else {
            Vec::new()
        };
        drop(machine);
        if let Some(transition) = transition {
            transition.emit();
            #[cfg(feature = "metrics")]
            {
                let (from, to) = transition.states();
                self.meter.transition(from, to);
            }
        }
        for (_, waker) in waiters {
            waker.wake();
        }
    }

    /// Admits a call at once while closed or disabled, from the state word;
    /// `None` in the other states, which [`admit`](Self::admit) decides.
    #[inline]
    pub(super) fn admit_at_once(&self) -> Option<Admission> {
        let fast = self.fast.load(Ordering::Acquire);
        // On the tag itself, not through `state_of`: the request path pays
        // for no check of a tag that cannot occur. Every other state is
        // decided under the lock, from the phase.
        match tag_of(fast) {
            CLOSED_TAG => Some(Admission::Closed {
                epoch: epoch_of(fast),
            }),
            DISABLED_TAG => Some(Admission::Untracked),
            _ => None,
        }
    }

    /// Decides what the caller polling with `cx` may do. Takes no lock while
    /// closed or disabled.
    #[inline]
    pub(super) fn admit(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        waiter: &mut Option<Waiter>,
    ) -> Decision {
        self.admit_at(cx, waiter, Instant::now)
    }

    /// [`admit`](Self::admit), with the time read from `now` if it is
    /// needed (while not closed or disabled).
    #[inline]
    fn admit_at(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        waiter: &mut Option<Waiter>,
        now: impl FnOnce() -> Instant,
    ) -> Decision {
        match self.admit_at_once() {
            Some(admission) => Decision::Admit(admission),
            None => self.admit_slow(cx, waiter, now()),
        }
    }

    #[cold]
    fn admit_slow(
        self: &Arc<Self>,
        cx: &mut Context<'_>,
        waiter: &mut Option<Waiter>,
        now: Instant,
    ) -> Decision {
        let mut machine = self.lock();
        let transition = machine.end_open_period(now, self.window_now());
        let epoch = machine.epoch;
        let half_open_calls = self.config.half_open_calls();
        // Refused: why, and until when the breaker is open, if it is.
        let admission = match &mut machine.phase {
            Phase::Closed => Ok(Admission::Closed { epoch }),
            Phase::Disabled => Ok(Admission::Untracked),
            Phase::HalfOpen { admitted, .. } if *admitted < half_open_calls => {
                *admitted += 1;
                Ok(Admission::Probe(Ticket::probe(self, epoch)))
            }
            // Every probe slot is taken.
            Phase::HalfOpen { .. } => Err((CircuitOpen::half_open(), None)),
            Phase::Open { until } => Err((CircuitOpen::open(*until, now), Some(*until))),
            Phase::ForcedOpen => Err((CircuitOpen::forced_open(), None)),
        };
        let decision = match admission {
            Ok(admission) => Decision::Admit(admission),
            Err((refusal, until)) => match self.config.open_behavior() {
                OpenBehavior::FailFast => Decision::Admit(Admission::Refused(refusal)),
                OpenBehavior::NotReady => {
                    let id = waiter
                        .get_or_insert_with(|| {
                            let id = self.next_waiter.fetch_add(1, Ordering::Relaxed);
                            Waiter::new(Arc::clone(self), id)
                        })
                        .id();
                    machine.register(id, cx.waker());
                    Decision::Wait { until }
                }
            },
        };
        self.settle(machine, transition, false);
        decision
    }

    /// Records the outcome of a call admitted in `epoch` (a probe if
    /// `probe`), started at `started` if slow calls are measured.
    ///
    /// Inlined for the common case: a success while closed, counted with
    /// the credit, when the time is not needed.
    #[inline]
    pub(super) fn finish(&self, epoch: u64, probe: bool, outcome: Outcome, started: u64) {
        let counted = !(probe || self.timed)
            && matches!(outcome, Outcome::Success)
            && self.credit.try_take(epoch, 0);
        if !counted {
            self.finish_slow(epoch, probe, outcome, started);
        }
    }

    fn finish_slow(&self, epoch: u64, probe: bool, outcome: Outcome, started: u64) {
        let failed = match outcome {
            Outcome::Success => false,
            Outcome::Failure => true,
            Outcome::Ignored => {
                if probe {
                    self.release_probe(epoch);
                }
                return;
            }
        };
        let now = self.timed.then(Instant::now);
        // A count window needs no time: 0 is before the credit's end.
        let at = now.map_or(0, |now| self.since_origin(now));
        let slow = self
            .rules
            .slow
            .is_some_and(|slow| at.saturating_sub(started) > slow.slower_than);
        // Without the time, `finish` tried the credit already.
        if self.timed && !(probe || failed || slow) && self.credit.try_take(epoch, at) {
            return;
        }
        // A call from before a change of state counts for nothing; while
        // closed, that is known without the lock.
        if !probe && self.fast.load(Ordering::Acquire) != pack(epoch, to_tag(State::Closed)) {
            return;
        }
        let window_now = now.unwrap_or(self.origin);
        let mut machine = self.lock();
        if machine.epoch != epoch {
            return;
        }
        let transition = if probe {
            machine.record_probe(&self.config, &self.rules, failed, slow, now)
        } else {
            machine.reclaim(&self.credit);
            machine.record_closed(&self.config, &self.rules, failed, slow, window_now, now)
        };
        self.settle(machine, transition, false);
    }

    /// Gives back a probe slot taken in `epoch`, if that epoch is current.
    pub(super) fn release_probe(&self, epoch: u64) {
        let mut machine = self.lock();
        if machine.epoch != epoch {
            return;
        }
        match &mut machine.phase {
            Phase::HalfOpen { admitted, .. } => *admitted -= 1,
            // Probes are only admitted while half-open, and the epoch has
            // not changed since: not reached.
            Phase::Closed | Phase::Open { .. } | Phase::ForcedOpen | Phase::Disabled => {}
        }
        self.settle(machine, None, true);
    }

    /// The epoch now, read without the lock.
    pub(super) fn epoch(&self) -> u64 {
        epoch_of(self.fast.load(Ordering::Acquire))
    }

    /// Takes the clone `id` off the waiters, if it is there.
    pub(super) fn leave(&self, id: u64) {
        let waker = {
            let mut machine = self.lock();
            let at = machine.waiters.iter().position(|(waiter, _)| *waiter == id);
            at.map(|at| machine.waiters.swap_remove(at))
        };
        // Dropped after the lock is released.
        drop(waker);
    }

    /// The state, without a look at the clock (for `Debug`).
    pub(super) fn peek_state(&self) -> State {
        state_of(self.fast.load(Ordering::Acquire))
    }

    /// Locks, first moving from open to half-open if the period is over.
    fn lock_current(&self) -> (MutexGuard<'_, Machine>, Option<Transition>) {
        let mut machine = self.lock();
        let transition = match machine.phase.open_until() {
            Some(_) => machine.end_open_period(Instant::now(), self.window_now()),
            None => None,
        };
        (machine, transition)
    }

    pub(super) fn state(&self) -> State {
        match self.peek_state() {
            // The open period may be over.
            State::Open => {
                let (machine, transition) = self.lock_current();
                let state = machine.phase.state();
                self.settle(machine, transition, false);
                state
            }
            state @ (State::Closed | State::HalfOpen | State::ForcedOpen | State::Disabled) => {
                state
            }
        }
    }

    pub(super) fn figures(&self) -> Figures {
        let (mut machine, transition) = self.lock_current();
        machine.reclaim(&self.credit);
        let totals = machine.window.totals(self.window_now());
        let figures = machine.figures(totals);
        self.settle(machine, transition, false);
        figures
    }

    pub(super) fn next_probe_at(&self) -> Option<Instant> {
        let (machine, transition) = self.lock_current();
        let at = machine.phase.open_until();
        self.settle(machine, transition, false);
        at
    }

    /// Applies a manual change, unless the breaker is already where it
    /// would take it.
    fn manual(&self, change: impl FnOnce(&mut Machine, Figures) -> Option<Transition>) {
        let mut machine = self.lock();
        machine.reclaim(&self.credit);
        let totals = machine.window.totals(self.window_now());
        let figures = machine.figures(totals);
        let transition = change(&mut machine, figures);
        self.settle(machine, transition, false);
    }

    pub(super) fn force_open(&self) {
        self.manual(|machine, figures| match machine.phase {
            Phase::ForcedOpen => None,
            Phase::Closed | Phase::Open { .. } | Phase::HalfOpen { .. } | Phase::Disabled => {
                Some(machine.enter(Phase::ForcedOpen, Reason::ForcedOpen, figures, None))
            }
        });
    }

    pub(super) fn force_closed(&self) {
        self.manual(|machine, figures| match machine.phase {
            Phase::Closed => None,
            Phase::Open { .. } | Phase::HalfOpen { .. } | Phase::ForcedOpen | Phase::Disabled => {
                Some(machine.close(Reason::ForcedClosed, figures))
            }
        });
    }

    pub(super) fn disable(&self) {
        self.manual(|machine, figures| match machine.phase {
            Phase::Disabled => None,
            Phase::Closed | Phase::Open { .. } | Phase::HalfOpen { .. } | Phase::ForcedOpen => {
                Some(machine.enter(Phase::Disabled, Reason::Disabled, figures, None))
            }
        });
    }

    pub(super) fn reset(&self) {
        self.manual(|machine, figures| Some(machine.close(Reason::Reset, figures)));
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("state", &self.peek_state())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(donjon_loom)))]
mod tests {
    use std::time::Duration;

    use super::{Shared, State, Ticket};
    use crate::circuit_breaker::Config;
    use crate::circuit_breaker::credit::MAX_GRANT;
    use crate::classify::Outcome;

    /// Finishes a call admitted now with `outcome`.
    fn finish(shared: &std::sync::Arc<Shared>, outcome: Outcome) {
        let epoch = shared.epoch();
        Ticket::start_closed(shared, epoch).finish(outcome);
    }

    #[test]
    fn successes_beyond_one_credit_are_all_counted() {
        let config = Config::new().with_time_window(Duration::from_secs(3_600), 1);
        let shared = Shared::new(config);
        let successes = MAX_GRANT * 2 + 10;
        for _ in 0..successes {
            finish(&shared, Outcome::Success);
        }
        assert_eq!(shared.figures().calls(), successes);
    }

    #[test]
    fn successes_counted_with_the_credit_come_before_the_next_failure() {
        let config = Config::new()
            .with_count_window(4)
            .with_minimum_calls(4)
            .with_failure_rate_threshold(0.5)
            .with_consecutive_failures(2);
        let shared = Shared::new(config);
        // The success is counted with the credit, and added to the window
        // when the next failure takes the lock: it ends the run of failures.
        finish(&shared, Outcome::Failure);
        finish(&shared, Outcome::Success);
        finish(&shared, Outcome::Failure);
        assert_eq!(shared.figures().consecutive_failures(), 1);
        // The fourth call, a success, brings the window to its minimum: it
        // takes the lock, and 2 failures in 4 trip the breaker.
        finish(&shared, Outcome::Success);
        assert_eq!(shared.state(), State::Open);
        assert_eq!(
            (shared.figures().calls(), shared.figures().failures()),
            (4, 2)
        );
    }
}

/// loom models of the breaker's admission and settling while its state
/// changes: run with
/// `RUSTFLAGS="--cfg donjon_loom" cargo test -p donjon --features circuit-breaker --release --lib loom`.
///
/// No model waits for time to pass: open periods last an hour, and callers
/// that end one are admitted "two hours later", a time passed in.
#[cfg(all(test, donjon_loom))]
mod loom_models {
    use std::future::poll_fn;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use loom::future::block_on;
    use loom::thread;

    use super::*;

    /// Longer than any model runs.
    const OPEN: Duration = Duration::from_secs(3_600);

    /// A breaker that trips on the first failure and stays open for
    /// [`OPEN`], over a count window of 10 calls whose rates never count
    /// here (so a credit covers 9 successes).
    fn one_strike() -> Config {
        Config::new()
            .with_count_window(10)
            .with_minimum_calls(100)
            .with_consecutive_failures(1)
            .with_open_duration(OPEN)
    }

    /// A time after the end of any open period a model starts.
    fn later() -> Instant {
        Instant::now() + 2 * OPEN
    }

    /// Asks once, as if at `now`, with a waker nobody waits on.
    fn admit(shared: &Arc<Shared>, now: Instant) -> Admission {
        let mut cx = Context::from_waker(Waker::noop());
        match shared.admit_at(&mut cx, &mut None, || now) {
            Decision::Admit(admission) => admission,
            Decision::Wait { .. } => panic!("a fail-fast breaker makes nobody wait"),
        }
    }

    /// Finishes the call `admission` let through, if any, with `outcome`,
    /// and returns the epoch it was admitted in (`None` if refused).
    fn call(shared: &Arc<Shared>, admission: Admission, outcome: Outcome) -> Option<u64> {
        let ticket = match admission {
            Admission::Closed { epoch } => Ticket::start_closed(shared, epoch),
            Admission::Probe(ticket) => ticket,
            Admission::Refused(_) => return None,
            Admission::Untracked => panic!("the breaker is never disabled here"),
        };
        let epoch = ticket.epoch();
        ticket.finish(outcome);
        Some(epoch)
    }

    /// Trips `shared`, closed, with a failure.
    fn trip(shared: &Arc<Shared>) {
        let admission = shared.admit_at_once().expect("closed");
        call(shared, admission, Outcome::Failure);
        assert_eq!(shared.peek_state(), State::Open);
    }

    /// What holds at every release of the lock: the state word says what
    /// the machine is, and a credit is out exactly while closed.
    fn assert_settled(shared: &Shared) {
        let machine = shared.lock();
        assert_eq!(
            shared.fast.load(Ordering::Relaxed),
            pack(machine.epoch, machine.phase.to_tag()),
            "the state word is the machine's"
        );
        assert_eq!(
            machine.granted.is_some(),
            machine.phase.state() == State::Closed,
            "a credit is out exactly while closed"
        );
    }

    /// Successes counted with the credit while a handle reads the figures
    /// (reclaiming the credit and granting another): each is counted once.
    #[test]
    fn loom_breaker_successes_racing_a_read_are_each_counted_once() {
        loom::model(|| {
            let shared = Shared::new(one_strike());
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || {
                        let admission = shared.admit_at_once().expect("closed");
                        call(&shared, admission, Outcome::Success);
                    })
                })
                .collect();
            let seen = shared.figures().calls();
            for caller in callers {
                caller.join().expect("no panic");
            }
            assert!(seen <= 2);
            assert_eq!(
                shared.figures().calls(),
                2,
                "no success lost or counted twice"
            );
            assert_settled(&shared);
        });
    }

    /// A caller admitted while closed, whose success races a failure that
    /// trips the breaker and a handle that closes it by hand: its success
    /// counts only in the epoch it was admitted in, so never in the window
    /// the closing emptied, unless it was admitted after it; a caller that
    /// comes while open is refused. A closing that comes first does
    /// nothing, and the breaker stays open.
    #[test]
    fn loom_breaker_an_outcome_from_before_a_trip_does_not_count_after_it() {
        loom::model(|| {
            let shared = Shared::new(one_strike());
            let failing = shared.admit_at_once().expect("closed");
            let caller = {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let admission = admit(&shared, Instant::now());
                    call(&shared, admission, Outcome::Success)
                })
            };
            let handle = {
                let shared = Arc::clone(&shared);
                thread::spawn(move || shared.force_closed())
            };
            call(&shared, failing, Outcome::Failure);
            assert_settled(&shared);
            handle.join().expect("no panic");
            let admitted_in = caller.join().expect("no panic");
            let epoch = shared.lock().epoch;
            match epoch {
                // Closed by hand before the failure: opened, and open still.
                1 => {
                    assert_eq!(shared.peek_state(), State::Open);
                    assert!(matches!(admitted_in, None | Some(0)), "{admitted_in:?}");
                }
                // Opened, then closed by hand.
                2 => {
                    assert_eq!(shared.peek_state(), State::Closed);
                    assert!(matches!(admitted_in, None | Some(0 | 2)), "{admitted_in:?}");
                    assert_eq!(
                        shared.figures().calls(),
                        u64::from(admitted_in == Some(2)),
                        "only a success admitted after the closing counts after it"
                    );
                }
                other => panic!("one opening and at most one closing, got epoch {other}"),
            }
            assert_settled(&shared);
        });
    }

    /// Three callers come once the open period is over, with two probe
    /// slots: exactly two go through as probes, whose successes close the
    /// breaker once; the third is refused, or admitted once closed.
    #[test]
    fn loom_breaker_half_open_lets_exactly_its_probes_through_and_closes_once() {
        loom::model(|| {
            let shared = Shared::new(one_strike().with_half_open_calls(2));
            trip(&shared);
            let at = later();
            let probe = move |shared: &Arc<Shared>| {
                let admission = admit(shared, at);
                let probed = matches!(admission, Admission::Probe(_));
                call(shared, admission, Outcome::Success);
                probed
            };
            let callers: Vec<_> = (0..2)
                .map(|_| {
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || probe(&shared))
                })
                .collect();
            let mut probes = usize::from(probe(&shared));
            for caller in callers {
                probes += usize::from(caller.join().expect("no panic"));
            }
            assert_eq!(probes, 2, "exactly the half-open slots");
            assert_eq!(shared.peek_state(), State::Closed);
            assert_eq!(shared.lock().epoch, 3, "open, half-open, closed: once each");
            assert_settled(&shared);
        });
    }

    /// A caller waiting (not-ready mode) while the one probe is in flight is
    /// woken when the probe's success closes the breaker, and let through.
    #[test]
    fn loom_breaker_a_waiter_is_woken_when_the_probe_closes_the_breaker() {
        loom::model(|| {
            let config = one_strike().with_open_behavior(OpenBehavior::NotReady);
            let shared = Shared::new(config);
            trip(&shared);
            let at = later();
            let probe = match admit_waiting(&shared, at) {
                Decision::Admit(probe @ Admission::Probe(_)) => probe,
                other => panic!("the first caller probes, got {other:?}"),
            };
            let waiting = {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let mut waiter = None;
                    // Parks until woken: a lost wake-up is a deadlock.
                    let admission = block_on(poll_fn(|cx| {
                        match shared.admit_at(cx, &mut waiter, || at) {
                            Decision::Admit(admission) => Poll::Ready(admission),
                            Decision::Wait { until } => {
                                assert_eq!(until, None, "half-open: no timer");
                                Poll::Pending
                            }
                        }
                    }));
                    call(&shared, admission, Outcome::Success)
                })
            };
            call(&shared, probe, Outcome::Success);
            let admitted_in = waiting.join().expect("no panic");
            assert_eq!(admitted_in, Some(3), "let through once closed");
            assert_eq!(shared.figures().calls(), 1);
            assert!(shared.lock().waiters.is_empty(), "the waiter left");
            assert_settled(&shared);
        });
    }

    /// Asks once, as if at `now`, registering a waker nobody waits on.
    fn admit_waiting(shared: &Arc<Shared>, now: Instant) -> Decision {
        let mut cx = Context::from_waker(Waker::noop());
        shared.admit_at(&mut cx, &mut None, || now)
    }
}
