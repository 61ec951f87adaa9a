//! What a caller holds: the admission `poll_ready` decided, the ticket
//! with which a call records its outcome, and a waiting clone's place.

use std::mem;

use tokio::time::Instant;

use super::breaker::Shared;
use super::error::CircuitOpen;
use crate::classify::Outcome;
use crate::sync::Arc;

/// What a caller may do, decided by `poll_ready`.
#[derive(Debug)]
pub(super) enum Admission {
    /// Go ahead; the outcome counts in the window if the breaker is still
    /// closed, in the same epoch, when the call finishes.
    Closed { epoch: u64 },
    /// Go ahead as a probe, holding one of the half-open slots.
    Probe(Ticket),
    /// Go ahead; nothing is recorded (the breaker is disabled).
    Untracked,
    /// Fail at once.
    Refused(CircuitOpen),
}

/// The answer of [`Shared::admit`].
#[derive(Debug)]
pub(super) enum Decision {
    Admit(Admission),
    /// The caller's waker is registered; it is woken at the next change of
    /// state, or when a probe slot frees up. `until` is when an open period
    /// ends, which the caller sets a timer for.
    Wait {
        until: Option<Instant>,
    },
}

/// A call on its way: what is needed to record its outcome.
///
/// A probe's ticket holds its half-open slot, given back if the ticket is
/// dropped without an outcome (the response future was dropped).
///
/// Small (four words), as it is moved along with each call.
pub(super) struct Ticket {
    shared: Arc<Shared>,
    epoch: u64,
    /// When the call started, in nanoseconds after the breaker's origin, if
    /// slow calls are measured.
    started: u64,
    /// Holds a probe slot, not given back yet.
    probe: bool,
}

impl Ticket {
    /// A ticket for a call admitted while closed, in `epoch`, starting now:
    /// slow calls are measured from here.
    #[inline]
    pub(super) fn start_closed(shared: &Arc<Shared>, epoch: u64) -> Self {
        Ticket {
            shared: Arc::clone(shared),
            epoch,
            started: shared.start_time(),
            probe: false,
        }
    }

    /// A ticket for a probe admitted in `epoch`, holding one of its
    /// half-open slots; [`start`](Self::start) marks its start.
    pub(super) fn probe(shared: &Arc<Shared>, epoch: u64) -> Self {
        Ticket {
            shared: Arc::clone(shared),
            epoch,
            started: 0,
            probe: true,
        }
    }

    /// The epoch the ticket was given in.
    #[cfg(all(test, donjon_loom))]
    pub(super) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Marks the start of a probe's call: slow calls are measured from
    /// here.
    pub(super) fn start(&mut self) {
        self.started = self.shared.start_time();
    }

    /// Whether the breaker is still in the epoch the ticket was given in.
    pub(super) fn is_current(&self) -> bool {
        self.shared.epoch() == self.epoch
    }

    /// Records the call's outcome (and gives back its probe slot if it is
    /// ignored).
    #[inline]
    pub(super) fn finish(mut self, outcome: Outcome) {
        let probe = mem::replace(&mut self.probe, false);
        self.shared.finish(self.epoch, probe, outcome, self.started);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.probe {
            self.shared.release_probe(self.epoch);
        }
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket")
            .field("epoch", &self.epoch)
            .field("probe", &self.probe)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}

/// A clone's place among the waiters, left when dropped.
pub(super) struct Waiter {
    shared: Arc<Shared>,
    id: u64,
}

impl Waiter {
    /// The place of the clone identified by `id`.
    pub(super) fn new(shared: Arc<Shared>, id: u64) -> Self {
        Waiter { shared, id }
    }

    /// What identifies the clone among the waiters.
    pub(super) fn id(&self) -> u64 {
        self.id
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        self.shared.leave(self.id);
    }
}

impl std::fmt::Debug for Waiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waiter").field("id", &self.id).finish()
    }
}
