//! Readiness and backpressure: places in the queue, who gets them and when,
//! and the wake-ups that go with them.

use tokio_test::{assert_pending, assert_ready_ok, task};

use crate::new_buffer;
use crate::support::take_request;

#[test]
fn the_buffer_is_ready_while_the_queue_has_room_whatever_the_inner_service() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready(), "the worker has not even run");
    let _response = service.call("hello");
    assert_pending!(worker.poll());
    assert_pending!(handle.poll_request());
    assert_ready_ok!(
        service.poll_ready(),
        "the worker took the request: the queue has room again"
    );
}

/// Distinct requests, to tell them (and their answers) apart.
const NAMES: [&str; 17] = [
    "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "r16",
];

#[test]
fn the_queue_accepts_bound_plus_one_requests_while_the_inner_service_is_not_ready() {
    for bound in [1, 2, 5, 16] {
        let (mut service, mut handle, mut worker) = new_buffer(bound);
        handle.allow(0);

        let mut responses = Vec::new();
        for name in &NAMES[..=bound] {
            assert_ready_ok!(service.poll_ready(), "bound {bound}: {name}");
            let mut response = task::spawn(service.call(name));
            assert_pending!(response.poll());
            responses.push(response);
            assert_pending!(worker.poll());
        }
        assert_pending!(
            service.poll_ready(),
            "bound {bound}: request {} waits",
            bound + 2
        );
        assert!(!service.is_woken());
        assert_pending!(handle.poll_request(), "nothing reached the mock");

        handle.allow(u64::MAX);
        assert!(worker.is_woken());
        assert_pending!(worker.poll());
        assert!(service.is_woken(), "bound {bound}: places freed");
        assert_ready_ok!(service.poll_ready());
        let mut answers = Vec::new();
        for (name, response) in NAMES.iter().zip(&mut responses) {
            let (request, answer) = take_request(&mut handle);
            assert_eq!(request, *name, "bound {bound}: in order");
            assert!(response.is_woken(), "bound {bound}: {name}");
            assert_pending!(response.poll(), "the answer is not sent yet");
            answers.push(answer);
        }
        assert_pending!(handle.poll_request());
        // Answered in reverse: each response still gets its own answer.
        for (name, answer) in NAMES.iter().zip(answers).rev() {
            answer.send_response(name);
        }
        for (name, response) in NAMES.iter().zip(&mut responses) {
            assert_eq!(assert_ready_ok!(response.poll()), *name);
        }
    }
}

#[test]
fn requests_reach_the_inner_service_in_the_order_they_were_sent() {
    let requests = ["a", "b", "c", "d", "e", "f"];
    let (mut service, mut handle, mut worker) = new_buffer(5);
    let mut other = service.clone();
    handle.allow(0);

    let mut responses = Vec::new();
    for (index, request) in requests.iter().enumerate() {
        let caller = if index % 2 == 0 {
            &mut service
        } else {
            &mut other
        };
        assert_ready_ok!(caller.poll_ready());
        responses.push(task::spawn(caller.call(*request)));
        if index % 3 == 0 {
            assert_pending!(worker.poll());
        }
    }

    handle.allow(u64::MAX);
    assert_pending!(worker.poll());
    for (request, response) in requests.iter().zip(&mut responses) {
        let (received, answer) = take_request(&mut handle);
        assert_eq!(received, *request);
        answer.send_response(request);
        assert_eq!(assert_ready_ok!(response.poll()), *request);
    }
}

#[test]
fn a_freed_place_wakes_only_the_first_waiting_handle() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);
    let mut first = service.clone();
    let mut second = service.clone();
    let mut third = service.clone();

    assert_ready_ok!(service.poll_ready());
    let _response0 = service.call("hello 0");
    assert_pending!(first.poll_ready());
    assert_pending!(second.poll_ready());
    assert_pending!(third.poll_ready());

    assert_pending!(worker.poll(), "takes hello 0 and holds it");
    assert!(first.is_woken(), "the first waiter gets the place");
    assert!(!second.is_woken());
    assert!(!third.is_woken());
    assert_pending!(second.poll_ready(), "the place is the first waiter's");
    assert_pending!(service.poll_ready(), "a newcomer queues behind the waiters");
    assert_ready_ok!(first.poll_ready());
    let _response1 = first.call("hello 1");

    handle.allow(1);
    assert_pending!(worker.poll(), "calls hello 0, takes hello 1 and holds it");
    assert!(second.is_woken(), "the second waiter is next");
    assert!(!third.is_woken());
    assert!(!service.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_pending!(third.poll_ready());
    assert_eq!(take_request(&mut handle).0, "hello 0");
}

#[test]
fn a_woken_waiter_dropped_before_taking_its_place_passes_it_on() {
    let (mut service, _handle, _worker) = new_buffer(1);
    let mut first = service.clone();
    let mut second = service.clone();

    assert_ready_ok!(service.poll_ready());
    assert_pending!(first.poll_ready());
    assert_pending!(second.poll_ready());

    drop(service);
    assert!(first.is_woken());
    assert!(!second.is_woken());

    drop(first);
    assert!(second.is_woken(), "first's place goes to the next waiter");
    assert_ready_ok!(second.poll_ready());
}

#[test]
fn dropping_a_handle_with_an_unused_reservation_frees_its_place() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    let mut waiting = service.clone();

    assert_ready_ok!(service.poll_ready());
    assert_pending!(waiting.poll_ready());
    assert!(!waiting.is_woken());

    drop(service);
    assert!(waiting.is_woken());
    assert_ready_ok!(waiting.poll_ready());

    let mut response = task::spawn(waiting.call("hello"));
    assert_pending!(worker.poll());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello");
    answer.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn a_clone_does_not_inherit_a_reservation() {
    let (mut service, _handle, _worker) = new_buffer(1);

    assert_ready_ok!(service.poll_ready());
    let mut clone = service.clone();
    assert_pending!(clone.poll_ready(), "the only place is the original's");

    let _response = service.call("hello");
    assert_pending!(clone.poll_ready(), "the request holds the place now");
}

#[test]
fn a_waiting_handle_is_woken_when_the_worker_takes_a_request_not_before() {
    let (mut service, mut handle, mut worker) = new_buffer(1);
    handle.allow(0);
    let mut waiting = service.clone();

    assert_ready_ok!(service.poll_ready());
    let _response1 = service.call("hello 1");
    assert_pending!(worker.poll());
    assert_ready_ok!(service.poll_ready());
    let _response2 = service.call("hello 2");
    assert_pending!(waiting.poll_ready());

    handle.allow(1);
    assert!(worker.is_woken());
    assert!(
        !waiting.is_woken(),
        "the mock being ready frees no place by itself"
    );
    assert_pending!(worker.poll(), "calls hello 1, takes hello 2 and holds it");
    assert!(waiting.is_woken(), "hello 2 left the queue");
    assert_ready_ok!(waiting.poll_ready());
}

#[test]
fn the_worker_is_woken_by_a_new_request() {
    let (mut service, _handle, mut worker) = new_buffer(2);

    assert_pending!(worker.poll(), "an empty queue");
    assert!(!worker.is_woken());
    assert_ready_ok!(service.poll_ready());
    assert!(!worker.is_woken(), "a reservation is not a request");
    let _response = service.call("hello");
    assert!(worker.is_woken());
}

#[test]
fn the_worker_holding_a_request_is_woken_when_the_inner_service_is_ready() {
    let (mut service, mut handle, mut worker) = new_buffer(2);
    handle.allow(0);

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("hello"));
    assert_pending!(worker.poll());
    assert_pending!(response.poll());
    assert!(!worker.is_woken());

    handle.allow(1);
    assert!(worker.is_woken());
    assert_pending!(worker.poll());
    assert!(response.is_woken());
    let (request, answer) = take_request(&mut handle);
    assert_eq!(request, "hello");
    answer.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[test]
fn the_worker_serves_a_long_queue_in_several_polls_without_losing_requests() {
    // More requests than the worker handles in one poll: it must come back
    // by itself (waking its own task) and serve the rest.
    let total = 1000;
    let (mut service, mut handle, mut worker) = new_buffer(total);

    let mut responses = Vec::new();
    for _ in 0..total {
        assert_ready_ok!(service.poll_ready());
        responses.push(task::spawn(service.call("hello")));
    }
    let mut polls = 0;
    loop {
        assert_pending!(worker.poll());
        polls += 1;
        assert!(polls <= total, "the worker makes no progress");
        if !worker.is_woken() {
            break;
        }
    }

    for response in &mut responses {
        take_request(&mut handle).1.send_response("world");
        assert_eq!(assert_ready_ok!(response.poll()), "world");
    }
    assert_pending!(handle.poll_request());
}
