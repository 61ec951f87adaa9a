//! Regressions found while writing this suite.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};

use donjon::Service;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok};

use crate::{MockBuffer, new_buffer};

/// A waker that, when woken, polls a buffer handle for readiness at once,
/// as a caller on another thread could, and keeps what it saw.
struct PollOnWake {
    handle: Mutex<MockBuffer>,
    saw_ready_ok: Mutex<Vec<bool>>,
}

impl Wake for PollOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut handle = self.handle.lock().unwrap_or_else(PoisonError::into_inner);
        let readiness = handle.poll_ready(&mut Context::from_waker(Waker::noop()));
        self.saw_ready_ok
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(matches!(readiness, Poll::Ready(Ok(()))));
    }
}

/// A caller woken because its held request failed must find the buffer
/// closed: the worker closes the buffer before failing the request.
fn a_caller_woken_by_a_failed_request_finds_the_buffer_closed(inner_fails: bool) {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);
    assert_ready_ok!(service.poll_ready());
    let mut held = service.call("held");
    assert_pending!(worker.poll());

    let probe = Arc::new(PollOnWake {
        handle: Mutex::new(service.get_ref().clone()),
        saw_ready_ok: Mutex::default(),
    });
    let waker = Waker::from(Arc::clone(&probe));
    assert!(
        Pin::new(&mut held)
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );

    if inner_fails {
        handle.send_error("boom");
        assert_ready!(worker.poll());
    } else {
        drop(worker);
    }
    let saw = probe
        .saw_ready_ok
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(saw, [false], "the woken caller's poll_ready must fail");
}

#[test]
fn issue_3_a_caller_woken_by_its_request_failing_finds_the_buffer_failed() {
    a_caller_woken_by_a_failed_request_finds_the_buffer_closed(true);
}

#[test]
fn issue_3_a_caller_woken_by_the_worker_dropping_finds_the_buffer_closed() {
    a_caller_woken_by_a_failed_request_finds_the_buffer_closed(false);
}

#[test]
fn issue_3_the_worker_ends_when_its_held_request_is_cancelled_and_the_last_handle_drops() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);
    assert_ready_ok!(service.poll_ready());
    let held = service.call("held");
    assert_pending!(worker.poll());

    drop(held);
    drop(service);
    assert!(worker.is_woken(), "the worker must be woken to end");
    assert_ready!(worker.poll());
    drop(worker);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the inner service is dropped with the worker"
    );
}
