//! The worker going away: dropped, aborted, its runtime shut down, or
//! finished because every handle is gone. No caller ever hangs.

use std::task::Poll;

use donjon::Service;
use donjon::buffer::Buffer;
use donjon_test::{assert_request_eq, mock};
use futures::executor::block_on;
use tokio::runtime::{Builder, Runtime};
use tokio_test::{assert_pending, assert_ready, assert_ready_err, assert_ready_ok, task};

use crate::support::{ready, ready_and_call, take_request};
use crate::{Msg, assert_closed, new_buffer};

#[test]
fn a_place_reserved_before_the_worker_was_dropped_yields_a_response_that_fails_at_once() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);
    let mut reserved = service.clone();

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("queued"));
    assert_ready_ok!(reserved.poll_ready());

    drop(worker);

    assert_closed(&assert_ready_err!(held.poll()));
    assert_closed(&assert_ready_err!(queued.poll()));
    let mut late = task::spawn(reserved.call("reserved before, sent after"));
    assert_closed(&assert_ready_err!(
        late.poll(),
        "no waiting on a dead worker"
    ));
    for caller in [&mut service, &mut reserved] {
        for _ in 0..2 {
            assert_closed(&assert_ready_err!(caller.poll_ready()));
        }
    }
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock went with the worker, having received nothing"
    );
}

#[test]
fn a_handle_waiting_for_a_place_is_woken_and_fails_when_the_worker_is_dropped() {
    let (mut service, _handle, worker) = new_buffer(1);
    let mut waiting = service.clone();

    assert_ready_ok!(service.poll_ready());
    let _queued = service.call("queued");
    assert_pending!(waiting.poll_ready());
    assert!(!waiting.is_woken());

    drop(worker);
    assert!(waiting.is_woken());
    assert_closed(&assert_ready_err!(waiting.poll_ready()));
}

#[tokio::test]
async fn aborting_the_worker_task_fails_every_caller_with_closed() {
    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    handle.allow(0);
    let (service, worker) = Buffer::pair(mock, 1);
    let mut service = mock::Spawn::new(service);
    let worker = tokio::spawn(worker);

    assert_ready_ok!(service.poll_ready());
    let mut held = task::spawn(service.call("held"));
    tokio::task::yield_now().await;
    assert_ready_ok!(service.poll_ready(), "the worker took the first request");
    let mut queued = task::spawn(service.call("queued"));
    assert_pending!(held.poll());
    assert_pending!(queued.poll());

    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());

    assert!(held.is_woken());
    assert_closed(&assert_ready_err!(held.poll()));
    assert!(queued.is_woken());
    assert_closed(&assert_ready_err!(queued.poll()));
    assert_closed(&assert_ready_err!(service.poll_ready()));
}

/// Sends requests through a buffer made on `runtime`, shuts the runtime
/// down, then checks, outside any runtime, that every caller fails with
/// `Closed` without hanging.
fn check_a_runtime_shutdown_closes_the_buffer(runtime: Runtime) {
    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    handle.allow(0);
    let (mut service, mut reserved, held, queued) = runtime.block_on(async {
        let mut service = Buffer::new(mock, 2);
        let mut reserved = service.clone();
        ready(&mut service).await.unwrap();
        let held = service.call("held");
        tokio::task::yield_now().await;
        ready(&mut service).await.unwrap();
        let queued = service.call("queued");
        ready(&mut reserved).await.unwrap();
        (service, reserved, held, queued)
    });

    drop(runtime);

    assert_closed(&block_on(held).unwrap_err());
    assert_closed(&block_on(queued).unwrap_err());
    assert_closed(&block_on(reserved.call("sent after the shutdown")).unwrap_err());
    assert_closed(&block_on(ready(&mut service)).unwrap_err());
    assert_closed(&block_on(ready(&mut service.clone())).unwrap_err());
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock went with the worker, having received nothing"
    );
}

#[test]
fn shutting_down_a_current_thread_runtime_closes_the_buffer() {
    check_a_runtime_shutdown_closes_the_buffer(
        Builder::new_current_thread().build().expect("a runtime"),
    );
}

#[test]
fn shutting_down_a_multi_thread_runtime_closes_the_buffer() {
    check_a_runtime_shutdown_closes_the_buffer(
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a runtime"),
    );
}

#[test]
fn a_runtime_shut_down_in_the_background_still_fails_waiting_callers() {
    let runtime = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let (mock, mut handle) = mock::pair::<Msg, Msg>();
    handle.allow(0);
    let (mut service, held) = runtime.block_on(async {
        let mut service = Buffer::new(mock, 1);
        ready(&mut service).await.unwrap();
        let held = service.call("held");
        (service, held)
    });

    runtime.shutdown_background();

    // The worker is dropped on a runtime thread, maybe later: the waiting
    // caller is woken when it is, and the next request fails too (at
    // `poll_ready`, or in its response if it got a place just before the
    // buffer closed).
    assert_closed(&block_on(held).unwrap_err());
    assert_closed(&block_on(ready_and_call(&mut service, "after")).unwrap_err());
}

#[tokio::test]
async fn the_worker_serves_queued_requests_then_ends_once_every_handle_is_gone() {
    let (mut service, mut handle, mut worker) = new_buffer(3);
    handle.allow(0);
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    let mut response1 = task::spawn(service.call("hello 1"));
    assert_ready_ok!(other.poll_ready());
    let mut response2 = task::spawn(other.call("hello 2"));
    assert_pending!(worker.poll(), "holds hello 1");
    drop(service);
    drop(other);
    assert_pending!(worker.poll(), "hello 1 and hello 2 are still to serve");

    handle.allow(2);
    assert!(worker.is_woken());
    assert_ready!(worker.poll(), "both served, and no handle left");

    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_eq!(assert_ready_ok!(response1.poll()), "world 1");
    assert_eq!(assert_ready_ok!(response2.poll()), "world 2");
    drop(worker);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock received nothing more"
    );
}

#[test]
fn an_idle_worker_ends_when_the_last_handle_is_dropped() {
    let (service, mut handle, mut worker) = new_buffer(2);
    let mut clone = service.clone();
    assert_ready_ok!(clone.poll_ready(), "an unused reservation");

    assert_pending!(worker.poll());
    drop(service);
    assert!(!worker.is_woken(), "a handle is left");
    assert_pending!(worker.poll());

    drop(clone);
    assert!(worker.is_woken());
    assert_ready!(worker.poll());
    drop(worker);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock received nothing"
    );
}

#[test]
fn a_request_sent_just_before_the_last_handle_is_dropped_is_still_served() {
    let (mut service, mut handle, mut worker) = new_buffer(2);

    assert_pending!(worker.poll(), "waits for requests");
    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    drop(service);

    assert_ready!(worker.poll());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello");
    answer.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}
