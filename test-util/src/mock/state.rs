//! The state a mock's clones share with its handle.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;

/// The boxed error every mock failure is reported as.
pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What the handle controls and every mock clone reads.
#[derive(Debug)]
pub(super) struct State {
    /// How many more calls the handle allows.
    pub(super) rem: u64,
    /// Wakers of the clones parked in `poll_ready`, keyed by clone id.
    pub(super) parked: HashMap<u64, Waker>,
    /// Set once the handle is dropped.
    pub(super) closed: bool,
    /// The id the next clone gets.
    pub(super) next_id: u64,
    /// An error the next `poll_ready` (of any clone) returns.
    pub(super) next_error: Option<BoxError>,
    /// How many times a clone was called without a reservation (each time
    /// it panicked); read by [`contract`](crate::contract).
    pub(super) unready_calls: u64,
}

impl State {
    /// A fresh state: unlimited calls, nothing parked, the first mock is id 0.
    pub(super) fn new() -> Self {
        State {
            rem: u64::MAX,
            parked: HashMap::new(),
            closed: false,
            next_id: 1,
            next_error: None,
            unready_calls: 0,
        }
    }

    /// Takes every parked waker, to be woken once the lock is released.
    pub(super) fn take_parked(&mut self) -> Vec<Waker> {
        self.parked.drain().map(|(_, waker)| waker).collect()
    }
}

/// The state behind its lock, shared by the handle and all mock clones.
#[derive(Debug, Clone)]
pub(super) struct Shared(Arc<Mutex<State>>);

impl Shared {
    /// Wraps a fresh [`State`].
    pub(super) fn new() -> Self {
        Shared(Arc::new(Mutex::new(State::new())))
    }

    /// Locks the state.
    ///
    /// A test that panics while another thread holds the lock must not turn
    /// every later drop into a second panic, so poisoning is ignored: the
    /// state is plain data that stays consistent between statements.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Wakes each waker; called after the lock is released.
pub(super) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}
