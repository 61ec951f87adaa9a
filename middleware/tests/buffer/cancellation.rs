//! Cancellation: a response future dropped before the worker took its
//! request gives the request's place back at once, and the request never
//! reaches the inner service.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use donjon::buffer::Buffer;
use donjon_test::mock;
use tokio_test::{assert_pending, assert_ready, assert_ready_ok, task};

use crate::new_buffer;
use crate::support::take_request;

#[test]
fn a_dropped_queued_response_future_frees_its_place_at_once() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);
    let mut waiting = service.clone();

    assert_ready_ok!(service.poll_ready());
    let mut response1 = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll(), "holds hello 1");
    assert_ready_ok!(service.poll_ready());
    let response2 = service.call("hello 2");
    assert_ready_ok!(service.poll_ready());
    let mut response3 = task::spawn(service.call("hello 3"));
    assert_pending!(waiting.poll_ready(), "the queue is full");

    drop(response2);
    assert!(
        waiting.is_woken(),
        "the place comes back without the worker running"
    );
    assert_ready_ok!(waiting.poll_ready());
    let mut response4 = task::spawn(waiting.call("hello 4"));
    assert_pending!(service.poll_ready(), "full again");

    handle.allow(u64::MAX);
    assert_pending!(worker.poll());
    for (expected, response) in [
        ("hello 1", &mut response1),
        ("hello 3", &mut response3),
        ("hello 4", &mut response4),
    ] {
        let (request, answer) = take_request(&mut handle);
        assert_eq!(request, expected, "hello 2 is skipped");
        answer.send_response(expected);
        assert_eq!(assert_ready_ok!(response.poll()), expected);
    }
    assert_pending!(handle.poll_request(), "hello 2 never reached the mock");
}

#[test]
fn the_request_held_by_the_worker_is_skipped_if_its_future_is_dropped() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let held = service.call("hello 1");
    assert_pending!(worker.poll(), "takes hello 1 and waits for the mock");
    assert_ready_ok!(service.poll_ready());
    let mut queued = task::spawn(service.call("hello 2"));
    drop(held);

    handle.allow(1);
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello 2", "the mock's one call goes to hello 2");
    answer.send_response("world 2");
    assert_eq!(assert_ready_ok!(queued.poll()), "world 2");
    assert_pending!(handle.poll_request(), "hello 1 never reached the mock");
}

#[test]
fn a_response_future_dropped_after_the_call_leaves_the_buffer_working() {
    let (mut service, mut handle, mut worker) = new_buffer(1);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello 1"));
    assert_pending!(worker.poll());
    assert_pending!(response.poll(), "now polling the mock's future");
    drop(response);
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello 1");
    answer.send_response("nobody listens");

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello 2"));
    assert_pending!(worker.poll());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello 2");
    answer.send_response("world 2");
    assert_eq!(assert_ready_ok!(response.poll()), "world 2");
}

#[test]
fn cancelled_requests_do_not_keep_the_worker_alive_once_every_handle_is_gone() {
    let (mut service, mut handle, mut worker) = new_buffer(3);
    assert_pending!(worker.poll());

    for request in ["hello 1", "hello 2", "hello 3"] {
        assert_ready_ok!(service.poll_ready());
        drop(service.call(request));
    }
    drop(service);

    assert!(worker.is_woken());
    assert_ready!(worker.poll(), "nothing is left to serve");
    drop(worker);
    assert!(
        matches!(handle.poll_request(), Poll::Ready(None)),
        "the mock received nothing"
    );
}

/// A request that counts how many requests are alive, to see whether
/// cancelled ones pile up somewhere.
#[derive(Debug)]
struct Tracked {
    id: usize,
    alive: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(id: usize, alive: &Arc<AtomicUsize>) -> Self {
        alive.fetch_add(1, Ordering::SeqCst);
        Tracked {
            id,
            alive: Arc::clone(alive),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

#[test]
fn many_cancelled_requests_behind_a_stuck_service_neither_block_nor_pile_up() {
    const CANCELLED: usize = 10_000;
    let alive = Arc::new(AtomicUsize::new(0));
    let (mock, mut handle) = mock::pair::<Tracked, &'static str>();
    let (service, worker) = Buffer::pair(mock, 4);
    let mut service = mock::Spawn::new(service);
    let mut worker = task::spawn(worker);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut first = task::spawn(service.call(Tracked::new(0, &alive)));
    assert_pending!(worker.poll(), "the worker holds request 0: it is stuck");

    let mut most_alive = 0;
    for id in 1..=CANCELLED {
        assert_ready_ok!(
            service.poll_ready(),
            "cancelled request {id} gave its place back"
        );
        drop(service.call(Tracked::new(id, &alive)));
        most_alive = most_alive.max(alive.load(Ordering::SeqCst));
    }
    assert!(
        most_alive < CANCELLED / 10,
        "cancelled requests pile up: {most_alive} alive at once"
    );

    assert_ready_ok!(service.poll_ready());
    let last_id = CANCELLED + 1;
    let mut last = task::spawn(service.call(Tracked::new(last_id, &alive)));

    handle.allow(u64::MAX);
    let mut polls = 0;
    loop {
        assert_pending!(worker.poll());
        polls += 1;
        assert!(polls <= CANCELLED, "the worker makes no progress");
        if !worker.is_woken() {
            break;
        }
    }
    let requests: Vec<_> = std::iter::from_fn(|| match handle.poll_request() {
        Poll::Ready(Some(request)) => Some(request),
        _ => None,
    })
    .collect();
    let ids: Vec<usize> = requests.iter().map(|(request, _)| request.id).collect();
    assert_eq!(ids, [0, last_id], "only the live requests reach the mock");

    for ((_, answer), text) in requests.into_iter().zip(["first", "last"]) {
        answer.send_response(text);
    }
    assert_eq!(assert_ready_ok!(first.poll()), "first");
    assert_eq!(assert_ready_ok!(last.poll()), "last");
}
