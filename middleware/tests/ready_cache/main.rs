//! Integration tests of `donjon::ready_cache`: `ReadyCache` promoting
//! pending services, cancelling and evicting them, replacing a key's service
//! in place, checking and calling ready services by key and by index (with
//! swap-remove indices), lookups through `Equivalent` keys, wake-ups, and
//! the `Failed` error.
#![cfg(feature = "ready-cache")]

#[path = "../support/mod.rs"]
mod support;

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

/// Tests ported from tower's own suite, in our words.
mod upstream {
    use super::*;

    #[test]
    fn a_failed_service_is_reported_with_its_key_and_the_others_stay() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();

        let (failing, mut failing_handle) = mock::pair();
        failing_handle.send_error("doom");
        cache.push(0, failing);
        let (healthy, _healthy_handle) = ready_mock();
        cache.push(1, healthy);

        let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
        assert_eq!(failed.0, 0);
        assert_eq!(format!("{}", failed.1), "doom");
        assert_eq!(cache.len(), 1);
        assert!(
            mock_dropped(&mut failing_handle),
            "the failed service is dropped"
        );
    }

    #[test]
    fn services_that_are_not_ready_stay_pending() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (first, _first_handle) = not_ready_mock();
        let (second, _second_handle) = not_ready_mock();
        cache.push(0, first);
        cache.push(1, second);

        assert_parked(&mut task, &mut cache);
        assert_eq!(cache.ready_len(), 0);
        assert_eq!(cache.pending_len(), 2);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn ready_services_are_promoted() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (first, _first_handle) = ready_mock();
        let (second, _second_handle) = ready_mock();
        cache.push(0, first);
        cache.push(1, second);
        assert_eq!((cache.pending_len(), cache.ready_len()), (2, 0));

        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!((cache.pending_len(), cache.ready_len()), (0, 2));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn an_evicted_ready_service_error_is_never_reported() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);

        handle.allow(1);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        handle.send_error("doom");
        assert!(cache.evict(&0));
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(cache.is_empty());
        assert!(mock_dropped(&mut handle));
    }

    #[test]
    fn an_evicted_pending_service_error_is_never_reported() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);

        handle.send_error("doom");
        assert!(cache.evict(&0));
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(cache.is_empty());
        assert!(mock_dropped(&mut handle));
    }

    #[test]
    fn a_service_evicted_right_after_its_push_is_never_polled() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        handle.send_error("doom");
        assert!(cache.evict(&0));
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(cache.is_empty());
    }

    #[test]
    fn an_error_after_promotion_is_not_reported_by_poll_pending() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);

        handle.allow(1);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        handle.send_error("doom");
        // Ready services are not polled by poll_pending; check_ready finds
        // the error.
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!(cache.ready_len(), 1);
        let failed = task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap_err();
        assert_eq!((failed.0, failed.to_string()), (0, "doom".to_owned()));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_key_pushed_twice_then_evicted_then_pushed_again() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();

        let (first, mut first_handle) = not_ready_mock();
        cache.push(0, first);
        let (second, mut second_handle) = not_ready_mock();
        // Cancels the first.
        cache.push(0, second);
        // Cancels the second.
        assert!(cache.evict(&0));

        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(!task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
        assert!(mock_dropped(&mut first_handle));
        assert!(mock_dropped(&mut second_handle));

        let (third, mut third_handle) = ready_mock();
        cache.push(0, third);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
        assert!(task.enter(|cx, _| cache.check_ready_index(cx, 0)).unwrap());

        let mut response = task::spawn(cache.call_ready_index(0, "hello"));
        let (request, reply) = assert_ready!(third_handle.poll_request()).unwrap();
        assert_eq!(request, "hello");
        reply.send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }

    #[tokio::test(start_paused = true)]
    async fn many_cancellations_of_one_key_are_observed_in_a_tokio_task() {
        let mut cache = ReadyCache::<&'static str, mock::Mock<(), ()>, ()>::default();
        let mut handles = Vec::new();
        // 130 is past tokio's cooperative budget (128): a cancellation that
        // went through tokio's channels would stall here.
        for _ in 0..130 {
            let (service, mut handle) = mock::pair::<(), ()>();
            handle.allow(1);
            cache.push("ep0", service);
            handles.push(handle);
        }
        assert_eq!(cache.pending_len(), 130);

        let task = tokio::spawn(async move {
            std::future::poll_fn(|cx| cache.poll_pending(cx))
                .await
                .map_err(|failed| failed.to_string())?;
            Ok::<_, String>(cache)
        });
        // The clock is paused: if the task stalls without a wake-up, the
        // runtime idles and the timeout fires at once instead of hanging.
        let cache = tokio::time::timeout(Duration::from_secs(60), task)
            .await
            .expect("poll_pending completes")
            .expect("the task does not panic")
            .expect("no failure is reported");
        assert_eq!(cache.ready_len(), 1);
        assert_eq!(cache.pending_len(), 0);
        assert!(cache.get_ready(&"ep0").is_some());
    }
}

mod replacing {
    use super::*;

    #[test]
    fn a_ready_service_stays_usable_until_its_replacement_is_ready() {
        let mut task = task::spawn(());
        let (mut cache, _controls) = ready_gates(&["a", "b"]);

        let (replacement, replacement_control) = gate("a2", false);
        cache.push("a", replacement);
        assert!(cache.pending_contains(&"a"));
        assert_parked(&mut task, &mut cache);

        // The old service is still there, at its index.
        let (index, key, old) = cache.get_ready(&"a").unwrap();
        assert_eq!((index, *key, old.label), (0, "a", "a"));
        assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
        assert_eq!(cache.len(), 3);

        replacement_control.open();
        assert!(task.is_woken());
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        // Replaced in place: same key, same index, the new service.
        assert_eq!(ready_labels(&cache), ["a2", "b"]);
        let (index, _, new) = cache.get_ready(&"a").unwrap();
        assert_eq!((index, new.label), (0, "a2"));
        assert_eq!(cache.len(), 2);
        assert!(!cache.pending_contains(&"a"));
    }

    #[test]
    fn evicting_a_key_removes_both_its_ready_and_its_pending_service() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a", "b"]);
        let (replacement, replacement_control) = gate("a2", false);
        cache.push("a", replacement);
        assert_parked(&mut task, &mut cache);

        assert!(cache.evict(&"a"));
        assert!(controls[0].gate_dropped(), "the ready one at once");
        assert!(!cache.pending_contains(&"a"));
        assert_eq!(ready_labels(&cache), ["b"]);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(
            replacement_control.gate_dropped(),
            "the pending one at the next poll"
        );
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_replaced_ready_service_is_dropped() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (old, mut old_handle) = ready_mock();
        cache.push(7, old);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));

        let (new, mut new_handle) = ready_mock();
        cache.push(7, new);
        assert!(!mock_dropped(&mut old_handle), "usable until replaced");
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(mock_dropped(&mut old_handle));
        assert_eq!(cache.len(), 1);

        assert!(task.enter(|cx, _| cache.check_ready(cx, &7)).unwrap());
        let _response = cache.call_ready(&7, "to the new one");
        let (request, _) = assert_ready!(new_handle.poll_request()).unwrap();
        assert_eq!(request, "to the new one");
    }

    #[test]
    fn a_superseded_ready_service_is_dropped_once_called() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (old, mut old_handle) = ready_mock();
        cache.push(0, old);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        let (new, _new_handle) = not_ready_mock();
        cache.push(0, new);
        assert_parked(&mut task, &mut cache);

        let _response = cache.call_ready(&0, "last call");
        let (request, _) = assert_ready!(old_handle.poll_request()).unwrap();
        assert_eq!(request, "last call");
        // It does not go back to pending: the newer service is the key's.
        assert!(mock_dropped(&mut old_handle));
        assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
        assert!(cache.pending_contains(&0));
    }

    #[test]
    fn a_superseded_ready_service_that_is_no_longer_ready_is_dropped() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a"]);
        let (new, _new_control) = gate("a2", false);
        cache.push("a", new);
        assert_parked(&mut task, &mut cache);

        controls[0].close();
        assert!(!task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
        assert!(controls[0].gate_dropped());
        assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
    }

    #[test]
    fn a_replaced_pending_service_is_dropped_and_its_error_never_reported() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (old, mut old_handle) = not_ready_mock();
        cache.push(0, old);
        assert_parked(&mut task, &mut cache);

        let (new, mut new_handle) = not_ready_mock();
        cache.push(0, new);
        old_handle.send_error("doom");
        // Counted until dropped, but no longer the key's.
        assert_eq!(cache.pending_len(), 2);
        assert_parked(&mut task, &mut cache);
        assert_eq!(cache.pending_len(), 1);
        assert!(mock_dropped(&mut old_handle));

        new_handle.allow(1);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!(cache.ready_len(), 1);
    }
}

mod checking_and_calling {
    use super::*;

    #[test]
    fn check_ready_moves_a_service_no_longer_ready_back_to_pending() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a"]);
        assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());

        controls[0].close();
        assert!(!task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
        assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
        assert!(cache.pending_contains(&"a"));
        assert!(!controls[0].gate_dropped());
        assert_parked(&mut task, &mut cache);

        controls[0].open();
        assert!(task.is_woken(), "its readiness wakes the task again");
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    }

    #[test]
    fn check_ready_drops_a_failed_service_and_reports_it() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a", "b"]);

        controls[0].fail("overheated");
        let failed = task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap_err();
        assert_eq!(failed.0, "a");
        assert_eq!(failed.1.downcast_ref::<Boom>(), Some(&Boom("overheated")));
        assert!(controls[0].gate_dropped());
        assert_eq!(ready_labels(&cache), ["b"]);
        assert_eq!(cache.pending_len(), 0);
        assert!(!cache.pending_contains(&"a"));
    }

    #[test]
    fn check_ready_index_drops_a_failed_mock() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = ready_mock();
        cache.push(3, service);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));

        handle.send_error("lost");
        let failed = task
            .enter(|cx, _| cache.check_ready_index(cx, 0))
            .unwrap_err();
        assert_eq!((failed.0, failed.to_string()), (3, "lost".to_owned()));
        assert!(cache.is_empty());
        assert!(mock_dropped(&mut handle));
    }

    #[test]
    fn checking_an_unknown_key_or_index_is_false() {
        let mut task = task::spawn(());
        let (mut cache, _controls) = ready_gates(&["a"]);
        let (pending, _control) = gate("p", false);
        cache.push("p", pending);
        assert_parked(&mut task, &mut cache);

        assert!(
            !task
                .enter(|cx, _| cache.check_ready(cx, &"nobody"))
                .unwrap()
        );
        // Pending services are not ready ones.
        assert!(!task.enter(|cx, _| cache.check_ready(cx, &"p")).unwrap());
        assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 1)).unwrap());
        assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 99)).unwrap());
        assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));
    }

    #[test]
    fn call_ready_sends_the_request_and_the_service_goes_back_to_pending() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = ready_mock();
        cache.push(1, service);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(task.enter(|cx, _| cache.check_ready(cx, &1)).unwrap());

        let mut response = task::spawn(cache.call_ready(&1, "hello"));
        assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
        assert!(cache.pending_contains(&1));

        let (request, reply) = assert_ready!(handle.poll_request()).unwrap();
        assert_eq!(request, "hello");
        assert_pending!(response.poll());
        reply.send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");

        // Its one allowed call is spent: it stays pending until allowed more.
        assert_parked(&mut task, &mut cache);
        handle.allow(1);
        assert!(task.is_woken());
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!(cache.ready_len(), 1);
    }

    #[test]
    fn response_errors_are_not_converted() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = ready_mock();
        cache.push(1, service);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));

        let mut response = task::spawn(cache.call_ready(&1, "hello"));
        let (_, reply) = assert_ready!(handle.poll_request()).unwrap();
        reply.send_error("teapot");
        let error: BoxError = assert_ready_err!(response.poll());
        assert_eq!(error.to_string(), "teapot");

        // With its own error type, the future keeps it.
        let (mut cache, _controls) = ready_gates(&["g"]);
        let future: Ready<Result<String, Boom>> = cache.call_ready(&"g", "typed");
        assert_eq!(
            futures::executor::block_on(future),
            Ok("g: typed".to_owned())
        );
    }

    #[test]
    fn call_ready_index_calls_the_service_at_that_index() {
        let (mut cache, _controls) = ready_gates(&["a", "b", "c"]);
        let answer = futures::executor::block_on(cache.call_ready_index(1, "hi")).unwrap();
        assert_eq!(answer, "b: hi");
        // "c" moved into the index "b" left.
        assert_eq!(ready_labels(&cache), ["a", "c"]);
        assert!(cache.pending_contains(&"b"));
    }

    #[test]
    #[should_panic(expected = "check_ready was not called")]
    fn call_ready_of_a_key_not_ready_panics() {
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        drop(cache.call_ready(&0, "too soon"));
    }

    #[test]
    #[should_panic(expected = "check_ready was not called")]
    fn call_ready_of_a_pending_service_panics() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, _handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);
        drop(cache.call_ready(&0, "too soon"));
    }

    #[test]
    #[should_panic(expected = "check_ready_index was not called")]
    fn call_ready_index_out_of_range_panics() {
        let (mut cache, _controls) = ready_gates(&["a"]);
        drop(cache.call_ready_index(1, "nobody there"));
    }
}

mod indices {
    use super::*;

    #[test]
    fn evicting_a_ready_service_moves_the_last_into_its_index() {
        let (mut cache, controls) = ready_gates(&["a", "b", "c", "d"]);
        assert!(cache.evict(&"b"));
        assert_eq!(ready_labels(&cache), ["a", "d", "c"]);
        assert_eq!(cache.get_ready(&"d").unwrap().0, 1);
        assert!(
            controls[1].gate_dropped(),
            "an evicted ready service is dropped at once"
        );

        assert!(cache.evict(&"c"));
        assert_eq!(ready_labels(&cache), ["a", "d"]);
        assert!(!cache.evict(&"c"), "already gone");
    }

    #[test]
    fn a_service_found_not_ready_leaves_its_index_to_the_last() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a", "b", "c"]);
        controls[0].close();
        assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 0)).unwrap());
        assert_eq!(ready_labels(&cache), ["c", "b"]);

        // Back to ready: appended at the end.
        controls[0].open();
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!(ready_labels(&cache), ["c", "b", "a"]);
    }

    #[test]
    fn a_failed_service_leaves_its_index_to_the_last() {
        let mut task = task::spawn(());
        let (mut cache, controls) = ready_gates(&["a", "b", "c"]);
        controls[0].fail("gone");
        assert!(task.enter(|cx, _| cache.check_ready_index(cx, 0)).is_err());
        assert_eq!(ready_labels(&cache), ["c", "b"]);
    }

    #[test]
    fn calling_the_last_index_leaves_the_others_in_place() {
        let (mut cache, _controls) = ready_gates(&["a", "b", "c"]);
        drop(cache.call_ready_index(2, "x"));
        assert_eq!(ready_labels(&cache), ["a", "b"]);
    }
}

mod lookups {
    use super::*;

    #[test]
    fn ready_services_by_key_and_by_index() {
        let mut task = task::spawn(());
        let (mut cache, _controls) = ready_gates(&["a", "b"]);
        let (pending, _control) = gate("p", false);
        cache.push("p", pending);
        assert_parked(&mut task, &mut cache);

        let (index, key, service) = cache.get_ready(&"b").unwrap();
        assert_eq!((index, *key, service.label), (1, "b", "b"));
        assert!(cache.get_ready(&"p").is_none(), "pending is not ready");
        assert!(cache.get_ready(&"z").is_none());

        let (key, service) = cache.get_ready_index(0).unwrap();
        assert_eq!((*key, service.label), ("a", "a"));
        assert!(cache.get_ready_index(2).is_none());

        let (index, _, service) = cache.get_ready_mut(&"a").unwrap();
        assert_eq!(index, 0);
        service.label = "A";
        let (key, service) = cache.get_ready_index_mut(1).unwrap();
        assert_eq!(*key, "b");
        service.label = "B";
        assert!(cache.get_ready_mut(&"p").is_none());
        assert!(cache.get_ready_index_mut(5).is_none());
        assert_eq!(ready_labels(&cache), ["A", "B"]);

        for (key, service) in cache.iter_ready_mut() {
            service.label = key;
        }
        let pairs: Vec<_> = cache
            .iter_ready()
            .map(|(key, gate)| (*key, gate.label))
            .collect();
        assert_eq!(pairs, [("a", "a"), ("b", "b")]);
    }

    #[test]
    fn lengths_and_pending_lookups() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        assert!(cache.is_empty());
        assert_eq!(
            (cache.len(), cache.ready_len(), cache.pending_len()),
            (0, 0, 0)
        );
        assert!(!cache.pending_contains(&0));

        let (first, _first_handle) = not_ready_mock();
        cache.push(0, first);
        assert!(!cache.is_empty());
        assert!(cache.pending_contains(&0));
        assert_eq!(
            (cache.len(), cache.ready_len(), cache.pending_len()),
            (1, 0, 1)
        );

        // A second service under the key cancels the first, which is counted
        // until the next poll drops it.
        let (second, _second_handle) = not_ready_mock();
        cache.push(0, second);
        assert_eq!(cache.pending_len(), 2);
        assert!(cache.pending_contains(&0));

        assert!(cache.evict(&0));
        assert!(!cache.pending_contains(&0), "evicted");
        assert_eq!(cache.pending_len(), 2, "not reaped yet");
        assert!(!cache.is_empty());
        assert!(!cache.evict(&0), "nothing left to evict");

        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(cache.is_empty());
        assert_eq!(cache.len(), 0);
    }

    /// A key of two parts, looked up by borrowed parts.
    #[derive(Debug, PartialEq, Eq, Hash, Clone)]
    struct Endpoint {
        host: String,
        port: u16,
    }

    /// The borrowed form of an [`Endpoint`], hashing the same way.
    #[derive(Hash)]
    struct EndpointRef<'a> {
        host: &'a str,
        port: u16,
    }

    impl Equivalent<Endpoint> for EndpointRef<'_> {
        fn equivalent(&self, key: &Endpoint) -> bool {
            self.host == key.host && self.port == key.port
        }
    }

    fn endpoint(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn keys_are_looked_up_through_equivalent_forms() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<Endpoint, Gate, Req>::default();
        let (first, _first_control) = gate("first", true);
        let (second, _second_control) = gate("second", false);
        cache.push(endpoint("db", 5432), first);
        cache.push(endpoint("db", 5433), second);
        assert_parked(&mut task, &mut cache);

        let ready = EndpointRef {
            host: "db",
            port: 5432,
        };
        let pending = EndpointRef {
            host: "db",
            port: 5433,
        };
        // A `&K` works, and so does a borrowed form.
        assert!(cache.get_ready(&endpoint("db", 5432)).is_some());
        let (_, key, gate) = cache.get_ready(&ready).unwrap();
        assert_eq!((key, gate.label), (&endpoint("db", 5432), "first"));
        assert!(cache.get_ready_mut(&ready).is_some());
        assert!(cache.pending_contains(&pending));
        assert!(!cache.pending_contains(&ready));
        assert!(task.enter(|cx, _| cache.check_ready(cx, &ready)).unwrap());
        let answer = futures::executor::block_on(cache.call_ready(&ready, "select 1")).unwrap();
        assert_eq!(answer, "first: select 1");
        assert!(cache.evict(&pending));
        assert!(!cache.pending_contains(&pending));
    }

    #[test]
    fn string_keys_are_looked_up_with_a_string() {
        // `Q` is `Sized` in these signatures (as in tower), so a `String` key
        // is looked up with a `&String`, not a `&str`.
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<String, Gate, Req>::default();
        let (service, _control) = gate("s", true);
        cache.push("name".to_owned(), service);
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        let key = "name".to_owned();
        assert_eq!(cache.get_ready(&key).unwrap().0, 0);
        assert!(cache.evict(&key));
    }
}

mod wakeups {
    use super::*;

    #[test]
    fn a_pending_service_becoming_ready_wakes_the_task() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);
        assert!(!task.is_woken());

        handle.allow(1);
        assert!(task.is_woken());
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert_eq!(cache.ready_len(), 1);
    }

    #[test]
    fn an_eviction_wakes_the_task_waiting_in_poll_pending() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, mut handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);
        assert!(!task.is_woken());

        assert!(cache.evict(&0));
        assert!(task.is_woken(), "the cancellation wakes the waiting task");
        assert!(!mock_dropped(&mut handle), "dropped at the next poll");
        assert_ready_ok!(poll_pending(&mut task, &mut cache));
        assert!(mock_dropped(&mut handle));
    }

    #[test]
    fn a_replacing_push_wakes_the_task_waiting_in_poll_pending() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (old, mut old_handle) = not_ready_mock();
        cache.push(0, old);
        assert_parked(&mut task, &mut cache);

        let (new, _new_handle) = not_ready_mock();
        cache.push(0, new);
        assert!(task.is_woken());
        assert_parked(&mut task, &mut cache);
        assert!(mock_dropped(&mut old_handle));
    }

    #[test]
    fn poll_pending_goes_on_after_a_failure() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let mut handles = Vec::new();
        for key in 0..3 {
            let (service, mut handle) = mock::pair();
            handle.send_error("doom");
            cache.push(key, service);
            handles.push(handle);
        }
        let (healthy, _healthy_handle) = ready_mock();
        cache.push(3, healthy);

        let mut failed_keys = Vec::new();
        loop {
            match poll_pending(&mut task, &mut cache) {
                Poll::Ready(Ok(())) => break,
                Poll::Ready(Err(failed)) => failed_keys.push(failed.0),
                Poll::Pending => panic!("nothing here waits"),
            }
        }
        failed_keys.sort_unstable();
        assert_eq!(failed_keys, [0, 1, 2]);
        assert_eq!((cache.ready_len(), cache.pending_len()), (1, 0));
        assert!(cache.get_ready(&3).is_some());
    }

    #[test]
    fn a_closed_service_fails_instead_of_hanging() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (service, handle) = not_ready_mock();
        cache.push(0, service);
        assert_parked(&mut task, &mut cache);

        drop(handle);
        assert!(task.is_woken());
        let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
        assert!(failed.1.is::<mock::error::Closed>(), "{failed}");
        assert!(cache.is_empty());
    }
}

mod dropping {
    use super::*;

    #[test]
    fn dropping_the_cache_drops_every_service() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<usize, Mock, Req>::default();
        let (ready, mut ready_handle) = ready_mock();
        let (pending, mut pending_handle) = not_ready_mock();
        cache.push(0, ready);
        cache.push(1, pending);
        assert_parked(&mut task, &mut cache);
        assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));

        drop(cache);
        assert!(mock_dropped(&mut ready_handle));
        assert!(mock_dropped(&mut pending_handle));
    }
}

mod traits {
    use std::marker::PhantomPinned;

    use super::*;

    #[test]
    fn failed_shows_the_inner_error() {
        let failed = Failed(4_usize, BoxError::from("doom"));
        assert_eq!(failed.to_string(), "doom");
        assert_eq!(format!("{failed:?}"), r#"Failed(4, "doom")"#);
        let source = failed.source().expect("the inner error is the source");
        assert_eq!(source.to_string(), "doom");

        let typed = Failed("k", BoxError::from(Boom("no")));
        assert_eq!(typed.to_string(), "boom: no");
        assert!(typed.source().unwrap().is::<Boom>());
        assert_eq!(format!("{typed:?}"), r#"Failed("k", Boom("no"))"#);
    }

    #[test]
    fn failed_from_the_cache_carries_the_original_error() {
        let mut task = task::spawn(());
        let mut cache = ReadyCache::<&str, Gate, Req>::default();
        let (service, control) = gate("g", false);
        control.fail("fuse blown");
        cache.push("g", service);
        let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
        assert_eq!(failed.to_string(), Boom("fuse blown").to_string());
        assert_eq!(
            failed.source().and_then(|e| e.downcast_ref::<Boom>()),
            Some(&Boom("fuse blown"))
        );
        assert_eq!(format!("{failed:?}"), r#"Failed("g", Boom("fuse blown"))"#);
        let boxed: BoxError = Box::new(failed);
        assert_eq!(boxed.to_string(), "boom: fuse blown");
    }

    #[test]
    fn the_cache_is_debug_and_default() {
        let mut task = task::spawn(());
        let (mut cache, _controls) = ready_gates(&["a"]);
        let (pending, _control) = gate("p", false);
        cache.push("p", pending);
        assert_parked(&mut task, &mut cache);

        let debug = format!("{cache:?}");
        for field in [
            "ReadyCache",
            "pending",
            "pending_cancel_txs",
            "ready",
            "\"a\"",
            "\"p\"",
        ] {
            assert!(debug.contains(field), "{field} in {debug}");
        }
        let empty: ReadyCache<u8, Gate, Req> = ReadyCache::default();
        assert!(empty.is_empty());
    }

    /// A service that is not `Unpin`.
    struct Pinned(PhantomPinned);

    impl Service<Req> for Pinned {
        type Response = ();
        type Error = BoxError;
        type Future = Ready<Result<(), BoxError>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: Req) -> Self::Future {
            ready(Ok(()))
        }
    }

    #[test]
    fn the_cache_is_sync_when_its_services_are() {
        fn sync<T: Sync>() {}
        sync::<ReadyCache<usize, Mock, Req>>();
    }

    #[test]
    fn the_cache_is_unpin_and_send_whatever_its_services() {
        fn unpin<T: Unpin>() {}
        fn send<T: Send>() {}
        unpin::<ReadyCache<usize, Pinned, Req>>();
        send::<ReadyCache<usize, Mock, Req>>();

        // And usable as such: polled through a pinned future.
        let mut cache = ReadyCache::<usize, Pinned, Req>::default();
        cache.push(0, Pinned(PhantomPinned));
        let mut task = task::spawn(());
        assert_ready_ok!(task.enter(|cx, _| Pin::new(&mut cache).get_mut().poll_pending(cx)));
        let future = cache.call_ready(&0, "x");
        assert!(futures::executor::block_on(future).is_ok());
    }
}
