//! The state machine behind the breaker's lock: what trips it, its phase
//! and window, the credit it grants, and the changes of state it reports.

use std::task::Waker;
use std::time::Duration;

use tokio::time::Instant;

use super::config::{Config, Threshold};
use super::credit::{Credit, MAX_GRANT};
use super::handle::{Figures, State};
use super::phase::Phase;
use super::window::{Totals, Window};
use crate::time::deadline;

/// What trips the breaker, taken from the configuration once, with the
/// rates' thresholds as integers.
#[derive(Debug)]
pub(super) struct Rules {
    /// The calls the window must hold before its rates count.
    minimum_calls: u64,
    failure_rate: Threshold,
    /// With the slow-call trigger on, what a slow call is and its rate's
    /// threshold.
    pub(super) slow: Option<SlowRule>,
    consecutive_failures: Option<u32>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct SlowRule {
    /// A call that takes more nanoseconds than this is slow.
    pub(super) slower_than: u64,
    rate: Threshold,
}

impl Rules {
    pub(super) fn new(config: &Config) -> Self {
        Rules {
            minimum_calls: config.effective_minimum_calls(),
            failure_rate: Threshold::new(config.failure_rate_threshold()),
            slow: config.slow_calls().map(|slow| SlowRule {
                slower_than: u64::try_from(slow.slower_than.as_nanos()).unwrap_or(u64::MAX),
                rate: Threshold::new(slow.rate_threshold),
            }),
            consecutive_failures: config.consecutive_failures(),
        }
    }

    /// Whether `totals` (of the window, or of the probes) reach the
    /// failure-rate or the slow-call-rate threshold, and which.
    fn rate_reached(&self, totals: Totals) -> Option<Reason> {
        if self.failure_rate.is_reached(totals.failures, totals.calls) {
            Some(Reason::FailureRate)
        } else if self
            .slow
            .is_some_and(|slow| slow.rate.is_reached(totals.slow, totals.calls))
        {
            Some(Reason::SlowCallRate)
        } else {
            None
        }
    }
}

/// What is behind the lock.
pub(super) struct Machine {
    pub(super) epoch: u64,
    pub(super) phase: Phase,
    pub(super) window: Window,
    /// The successes granted through the breaker's credit in this epoch,
    /// while the credit is out; `None` once reclaimed (and while not
    /// closed).
    pub(super) granted: Option<u64>,
    consecutive_failures: u32,
    /// How many times the breaker opened again from half-open since it
    /// last closed: what the open period grows with.
    reopenings: u32,
    /// Clones waiting for a change (not-ready mode), by identifier.
    pub(super) waiters: Vec<(u64, Waker)>,
}

/// Why the state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reason {
    FailureRate,
    SlowCallRate,
    ConsecutiveFailures,
    OpenPeriodOver,
    ProbesSucceeded,
    ProbesFailed,
    ForcedOpen,
    ForcedClosed,
    Disabled,
    Reset,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::FailureRate => "failure rate",
            Reason::SlowCallRate => "slow-call rate",
            Reason::ConsecutiveFailures => "consecutive failures",
            Reason::OpenPeriodOver => "open period over",
            Reason::ProbesSucceeded => "probes succeeded",
            Reason::ProbesFailed => "probes failed",
            Reason::ForcedOpen => "forced open",
            Reason::ForcedClosed => "forced closed",
            Reason::Disabled => "disabled",
            Reason::Reset => "reset",
        }
    }
}

/// A change of state, reported through `tracing` once the lock is released.
#[derive(Debug)]
pub(super) struct Transition {
    from: State,
    to: State,
    reason: Reason,
    /// The figures that caused it: the window's, or the probes' when
    /// leaving half-open.
    figures: Figures,
    /// How long the breaker stays open, when it opened.
    open_for: Option<Duration>,
}

impl Transition {
    /// The states it left and entered.
    #[cfg(feature = "metrics")]
    pub(super) fn states(&self) -> (State, State) {
        (self.from, self.to)
    }

    pub(super) fn emit(&self) {
        macro_rules! event {
            ($level:ident) => {
                tracing::$level!(
                    from = %self.from,
                    to = %self.to,
                    reason = self.reason.as_str(),
                    calls = self.figures.calls(),
                    failures = self.figures.failures(),
                    slow_calls = self.figures.slow_calls(),
                    failure_rate = self.figures.failure_rate(),
                    slow_call_rate = self.figures.slow_call_rate(),
                    consecutive_failures = self.figures.consecutive_failures(),
                    open_for = ?self.open_for,
                    "circuit breaker state changed"
                )
            };
        }
        match self.to {
            State::Open | State::ForcedOpen => event!(warn),
            State::Closed | State::HalfOpen | State::Disabled => event!(info),
        }
    }
}

impl Machine {
    /// A closed machine in epoch 0 over `window`, no credit out.
    pub(super) fn new(window: Window) -> Self {
        Machine {
            epoch: 0,
            phase: Phase::Closed,
            window,
            granted: None,
            consecutive_failures: 0,
            reopenings: 0,
            waiters: Vec::new(),
        }
    }

    pub(super) fn figures(&self, totals: Totals) -> Figures {
        Figures::new(
            totals.calls,
            totals.failures,
            totals.slow,
            self.consecutive_failures,
        )
    }

    /// Moves to `phase` in a new epoch.
    pub(super) fn enter(
        &mut self,
        phase: Phase,
        reason: Reason,
        figures: Figures,
        open_for: Option<Duration>,
    ) -> Transition {
        debug_assert!(
            self.granted.is_none(),
            "the credit is reclaimed before the state changes"
        );
        let from = self.phase.state();
        self.phase = phase;
        self.epoch += 1;
        Transition {
            from,
            to: phase.state(),
            reason,
            figures,
            open_for,
        }
    }

    /// Opens for the period that `reopenings` calls for.
    fn open(
        &mut self,
        config: &Config,
        now: Instant,
        reason: Reason,
        figures: Figures,
    ) -> Transition {
        let duration = config.open_duration(self.reopenings);
        let until = deadline(now, duration);
        self.enter(Phase::Open { until }, reason, figures, Some(duration))
    }

    /// Closes, with an empty window and the counts back to zero.
    pub(super) fn close(&mut self, reason: Reason, figures: Figures) -> Transition {
        self.window.clear();
        self.consecutive_failures = 0;
        self.reopenings = 0;
        self.enter(Phase::Closed, reason, figures, None)
    }

    /// Moves from open to half-open if the open period is over at `now`.
    pub(super) fn end_open_period(
        &mut self,
        now: Instant,
        window_now: Instant,
    ) -> Option<Transition> {
        let until = self.phase.open_until()?;
        if now < until {
            return None;
        }
        let totals = self.window.totals(window_now);
        let figures = self.figures(totals);
        let half_open = Phase::HalfOpen {
            admitted: 0,
            finished: Totals::default(),
        };
        Some(self.enter(half_open, Reason::OpenPeriodOver, figures, None))
    }

    /// Why the breaker should trip, with the window at `totals`.
    fn trip_reason(&self, rules: &Rules, totals: Totals) -> Option<Reason> {
        if rules
            .consecutive_failures
            .is_some_and(|limit| self.consecutive_failures >= limit)
        {
            return Some(Reason::ConsecutiveFailures);
        }
        if totals.calls < rules.minimum_calls {
            return None;
        }
        rules.rate_reached(totals)
    }

    /// Adds the successes counted with the credit, if one is out, to the
    /// window, and voids the credit. Done before the window is read or the
    /// state changes.
    pub(super) fn reclaim(&mut self, credit: &Credit) {
        let Some(granted) = self.granted.take() else {
            return;
        };
        let taken = credit.reclaim(granted);
        if taken > 0 {
            self.window.record_successes(taken);
            self.consecutive_failures = 0;
        }
    }

    /// Grants a credit, if the breaker is closed and none is out: as many
    /// successes as can come before one of them has something to decide.
    pub(super) fn grant(&mut self, credit: &Credit, rules: &Rules, origin: Instant) {
        if self.granted.is_some() || self.phase.state() != State::Closed {
            return;
        }
        let calls = self.window.held().calls;
        // The success that brings the window to its minimum of calls takes
        // the lock, to check the rates.
        let successes = match rules.minimum_calls.checked_sub(calls + 1) {
            Some(short) => short.min(MAX_GRANT),
            None => MAX_GRANT,
        };
        let until = self
            .window
            .latest_end()
            .map_or(u64::MAX, |end| nanos_since(origin, end));
        credit.grant(self.epoch, successes, until);
        self.granted = Some(successes);
    }

    /// Records the outcome of a call admitted while closed, in this epoch,
    /// and trips if that calls for it. `window_now` is the time of the
    /// outcome for the window; `now`, the time if it was read.
    pub(super) fn record_closed(
        &mut self,
        config: &Config,
        rules: &Rules,
        failed: bool,
        slow: bool,
        window_now: Instant,
        now: Option<Instant>,
    ) -> Option<Transition> {
        self.window.record(window_now, failed, slow);
        if failed {
            self.consecutive_failures = self.consecutive_failures.saturating_add(1);
        } else {
            self.consecutive_failures = 0;
        }
        let totals = self.window.totals(window_now);
        let reason = self.trip_reason(rules, totals)?;
        let figures = self.figures(totals);
        let now = now.unwrap_or_else(Instant::now);
        Some(self.open(config, now, reason, figures))
    }

    /// Records the outcome of a probe admitted in this epoch, and closes
    /// or opens again once every probe has finished.
    pub(super) fn record_probe(
        &mut self,
        config: &Config,
        rules: &Rules,
        failed: bool,
        slow: bool,
        now: Option<Instant>,
    ) -> Option<Transition> {
        let finished = match &mut self.phase {
            Phase::HalfOpen { finished, .. } => finished,
            // A probe's epoch is a half-open one: not reached.
            Phase::Closed | Phase::Open { .. } | Phase::ForcedOpen | Phase::Disabled => {
                return None;
            }
        };
        finished.add(failed, slow);
        if finished.calls < u64::from(config.half_open_calls()) {
            return None;
        }
        let probes = *finished;
        let figures = self.figures(probes);
        if rules.rate_reached(probes).is_some() {
            self.reopenings = self.reopenings.saturating_add(1);
            let now = now.unwrap_or_else(Instant::now);
            Some(self.open(config, now, Reason::ProbesFailed, figures))
        } else {
            Some(self.close(Reason::ProbesSucceeded, figures))
        }
    }

    /// Registers `waker` under `id`, replacing what `id` registered before.
    pub(super) fn register(&mut self, id: u64, waker: &Waker) {
        match self.waiters.iter_mut().find(|(waiter, _)| *waiter == id) {
            Some((_, registered)) => registered.clone_from(waker),
            None => self.waiters.push((id, waker.clone())),
        }
    }
}

/// The nanoseconds from `origin` to `at` (0 if `at` is earlier), saturating.
pub(super) fn nanos_since(origin: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(origin).as_nanos()).unwrap_or(u64::MAX)
}
