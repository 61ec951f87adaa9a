//! Integration tests of `donjon::ready_cache`: `ReadyCache` promoting
//! pending services, cancelling and evicting them, replacing a key's service
//! in place, checking and calling ready services by key and by index (with
//! swap-remove indices), lookups through `Equivalent` keys, wake-ups, and
//! the `Failed` error.
#![cfg(feature = "ready-cache")]

#[path = "../support/mod.rs"]
mod support;

mod checking_and_calling;
mod dropping;
mod indices;
mod lookups;
mod replacing;
mod traits;
mod upstream;
mod wakeups;

use std::error::Error;
use std::fmt;
use std::future::{Ready, ready};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use donjon::ready_cache::ReadyCache;
use donjon::ready_cache::cache::Equivalent;
use donjon::ready_cache::error::Failed;
use donjon::{BoxError, Service};
use donjon_test::mock;
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use support::{Boom, mock_dropped};

type Req = &'static str;
type Mock = mock::Mock<Req, Req>;
type Handle = mock::Handle<Req, Req>;

/// Polls the cache's pending services with the context of `task`.
fn poll_pending<K, S>(
    task: &mut task::Spawn<()>,
    cache: &mut ReadyCache<K, S, Req>,
) -> Poll<Result<(), Failed<K>>>
where
    K: Clone + Eq + std::hash::Hash,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    task.enter(|cx, _| cache.poll_pending(cx))
}

/// Asserts that `poll_pending` is `Pending` and leaves the task waiting for
/// a wake-up: the first poll of newly pushed services may wake the task
/// once (`FuturesUnordered` yields after polling every future it holds),
/// but a second poll must not, or a caller would spin.
fn assert_parked<K, S>(task: &mut task::Spawn<()>, cache: &mut ReadyCache<K, S, Req>)
where
    K: Clone + Eq + std::hash::Hash + fmt::Debug,
    S: Service<Req>,
    S::Error: Into<BoxError>,
{
    assert_pending!(poll_pending(task, cache));
    if task.is_woken() {
        assert_pending!(poll_pending(task, cache));
        assert!(!task.is_woken(), "poll_pending keeps waking its task");
    }
}

/// A mock with no calls allowed: pending until its handle allows one.
fn not_ready_mock() -> (Mock, Handle) {
    let (service, mut handle) = mock::pair();
    handle.allow(0);
    (service, handle)
}

/// A mock allowed one call: ready at its first poll.
fn ready_mock() -> (Mock, Handle) {
    let (service, mut handle) = mock::pair();
    handle.allow(1);
    (service, handle)
}

#[derive(Debug, Default)]
struct GateState {
    open: bool,
    failure: Option<&'static str>,
    waker: Option<Waker>,
}

/// A service whose readiness the test switches on and off at will (a mock
/// keeps its reservation once ready; a gate can close again). It answers
/// `"<label>: <request>"`.
#[derive(Debug)]
struct Gate {
    label: &'static str,
    state: Arc<Mutex<GateState>>,
}

/// The test's side of a [`Gate`].
#[derive(Clone, Debug)]
struct Control(Arc<Mutex<GateState>>);

fn gate(label: &'static str, open: bool) -> (Gate, Control) {
    let state = Arc::new(Mutex::new(GateState {
        open,
        ..GateState::default()
    }));
    let control = Control(Arc::clone(&state));
    (Gate { label, state }, control)
}

impl Control {
    fn set(&self, f: impl FnOnce(&mut GateState)) {
        let waker = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut state);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn open(&self) {
        self.set(|state| state.open = true);
    }

    fn close(&self) {
        self.set(|state| state.open = false);
    }

    fn fail(&self, reason: &'static str) {
        self.set(|state| state.failure = Some(reason));
    }

    /// Whether the gate itself was dropped.
    fn gate_dropped(&self) -> bool {
        Arc::strong_count(&self.0) == 1
    }
}

impl Service<Req> for Gate {
    type Response = String;
    type Error = Boom;
    type Future = Ready<Result<String, Boom>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(reason) = state.failure.take() {
            return Poll::Ready(Err(Boom(reason)));
        }
        if state.open {
            Poll::Ready(Ok(()))
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    fn call(&mut self, request: Req) -> Self::Future {
        ready(Ok(format!("{}: {request}", self.label)))
    }
}

/// The labels of the ready gates, in index order.
fn ready_labels<K: Eq + std::hash::Hash>(cache: &ReadyCache<K, Gate, Req>) -> Vec<&'static str> {
    cache.iter_ready().map(|(_, gate)| gate.label).collect()
}

/// Pushes gates one at a time, each promoted before the next is pushed, so
/// that their ready indices follow the order given.
fn ready_gates(labels: &[&'static str]) -> (ReadyCache<&'static str, Gate, Req>, Vec<Control>) {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::default();
    let mut controls = Vec::new();
    for &label in labels {
        let (gate, control) = gate(label, true);
        cache.push(label, gate);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        controls.push(control);
    }
    assert_eq!(ready_labels(&cache), labels);
    (cache, controls)
}
