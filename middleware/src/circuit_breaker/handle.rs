//! [`Handle`]: reads a circuit breaker's state and figures, and controls it
//! by hand; [`State`] and [`Figures`], what it reads.

use std::fmt;
use std::sync::Arc;

use tokio::time::Instant;

use super::breaker::Shared;

/// The state of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Requests go through; their outcomes are recorded in the sliding
    /// window, and the breaker trips (opens) when the window's figures say
    /// so.
    Closed,
    /// Requests are refused (or `poll_ready` waits) until the open period
    /// ends; then the breaker moves to half-open.
    Open,
    /// A set number of probe requests go through; their outcomes close the
    /// breaker or open it again. Other requests are refused (or wait).
    HalfOpen,
    /// Opened through [`Handle::force_open`]: requests are refused (or
    /// wait) until the breaker is closed, reset or disabled by hand.
    ForcedOpen,
    /// Set through [`Handle::disable`]: requests go through and nothing is
    /// recorded, until the breaker is closed, reset or forced open by hand.
    Disabled,
}

impl fmt::Display for State {
    /// Writes the state in lowercase, words joined by dashes: `half-open`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half-open",
            State::ForcedOpen => "forced-open",
            State::Disabled => "disabled",
        })
    }
}

/// The figures of a circuit breaker's sliding window, at one point in
/// time.
///
/// Only calls that counted (succeeded or failed, as classified) are in the
/// window; ignored and cancelled calls are not. The window is emptied each
/// time the breaker closes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    calls: u64,
    failures: u64,
    slow_calls: u64,
    consecutive_failures: u32,
}

impl Figures {
    pub(super) fn new(
        calls: u64,
        failures: u64,
        slow_calls: u64,
        consecutive_failures: u32,
    ) -> Self {
        Figures {
            calls,
            failures,
            slow_calls,
            consecutive_failures,
        }
    }

    /// The number of calls in the window.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// The number of failed calls in the window.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// The number of slow calls in the window (always 0 without the
    /// [slow-call trigger](super::Config::with_slow_calls)).
    pub fn slow_calls(&self) -> u64 {
        self.slow_calls
    }

    /// The share of failed calls in the window, from 0 to 1; 0 when the
    /// window is empty.
    pub fn failure_rate(&self) -> f64 {
        share(self.failures, self.calls)
    }

    /// The share of slow calls in the window, from 0 to 1; 0 when the
    /// window is empty.
    pub fn slow_call_rate(&self) -> f64 {
        share(self.slow_calls, self.calls)
    }

    /// The number of calls that failed in a row, up to the last one that
    /// counted.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }
}

/// `part / calls`, or 0 without calls.
pub(super) fn share(part: u64, calls: u64) -> f64 {
    if calls == 0 {
        0.0
    } else {
        part as f64 / calls as f64
    }
}

/// Reads a [`CircuitBreaker`](super::CircuitBreaker)'s state and figures,
/// and controls it by hand.
///
/// Get one with [`CircuitBreaker::handle`](super::CircuitBreaker::handle).
/// Every clone of the breaker, and of the handle, shares the same state.
///
/// Each change of state made here emits the same `tracing` event as the
/// automatic ones, wakes the callers waiting in `poll_ready`, and starts a
/// new epoch: calls in flight when it happens are not counted when they
/// finish.
///
/// Reading the state (or the figures) after the open period has ended
/// moves the breaker to half-open, as a caller's `poll_ready` would.
///
/// # Examples
///
/// ```
/// use donjon::circuit_breaker::{CircuitBreaker, Config, State};
///
/// # let inner = donjon_test::mock::pair::<(), ()>().0;
/// let breaker = CircuitBreaker::new(inner, Config::new());
/// let handle = breaker.handle();
/// assert_eq!(handle.state(), State::Closed);
///
/// // Take the endpoint out of service, then put it back.
/// handle.force_open();
/// assert_eq!(handle.state(), State::ForcedOpen);
/// handle.force_closed();
/// assert_eq!(handle.state(), State::Closed);
/// assert_eq!(handle.figures().calls(), 0);
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Shared>,
}

impl Handle {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        Handle { shared }
    }

    /// The breaker's state now.
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// The figures of the breaker's sliding window now (a time window
    /// first lets go of the calls that are too old).
    pub fn figures(&self) -> Figures {
        self.shared.figures()
    }

    /// The share of failed calls in the window now; see
    /// [`Figures::failure_rate`].
    pub fn failure_rate(&self) -> f64 {
        self.figures().failure_rate()
    }

    /// The share of slow calls in the window now; see
    /// [`Figures::slow_call_rate`].
    pub fn slow_call_rate(&self) -> f64 {
        self.figures().slow_call_rate()
    }

    /// The number of calls in the window now.
    pub fn calls(&self) -> u64 {
        self.figures().calls()
    }

    /// When the breaker will move to half-open and let a probe through,
    /// while it is open; `None` in any other state.
    pub fn next_probe_at(&self) -> Option<Instant> {
        self.shared.next_probe_at()
    }

    /// Opens the breaker until it is closed, reset or disabled by hand.
    ///
    /// Does nothing if it is forced open already.
    pub fn force_open(&self) {
        self.shared.force_open();
    }

    /// Closes the breaker now, with an empty window, whatever its state
    /// (this ends a forced opening or a disabling).
    ///
    /// Does nothing if it is closed already.
    pub fn force_closed(&self) {
        self.shared.force_closed();
    }

    /// Lets every request through and records nothing, until the breaker
    /// is closed, reset or forced open by hand.
    ///
    /// Does nothing if it is disabled already.
    pub fn disable(&self) {
        self.shared.disable();
    }

    /// Puts the breaker back as it was built: closed, with an empty
    /// window, no consecutive failures, and the open period back to its
    /// initial length. Unlike [`force_closed`](Self::force_closed), also
    /// does this when the breaker is closed.
    pub fn reset(&self) {
        self.shared.reset();
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("state", &self.shared.peek_state())
            .finish_non_exhaustive()
    }
}
