//! The readiness contract: one slot per `poll_ready`, shared by clones, waiters served in turn.

use super::*;

#[tokio::test]
async fn poll_ready_is_pending_at_the_limit_and_a_completed_response_wakes_the_caller() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 2));

    assert_ready_ok!(service.poll_ready());
    let first = service.call("hello 1");
    assert_ready_ok!(service.poll_ready());
    let second = service.call("hello 2");
    assert_eq!(limits.in_flight(), 2);
    assert_pending!(service.poll_ready(), "two in flight reach the limit of 2");
    assert!(!service.is_woken());

    assert_request_eq!(handle, "hello 1").send_response("world 1");
    assert!(
        !service.is_woken(),
        "an answer not yet received by the caller frees nothing"
    );
    assert_eq!(first.await.unwrap(), "world 1");
    assert!(service.is_woken(), "the completed response woke the waiter");
    assert_eq!(limits.in_flight(), 2, "the freed slot went to the waiter");
    assert_ready_ok!(service.poll_ready());
    let third = service.call("hello 3");
    assert_pending!(service.poll_ready());

    assert_request_eq!(handle, "hello 2").send_response("world 2");
    assert_eq!(second.await.unwrap(), "world 2");
    assert!(service.is_woken());
    assert_request_eq!(handle, "hello 3").send_response("world 3");
    assert_eq!(third.await.unwrap(), "world 3");
    assert_eq!(limits.in_flight(), 1, "only the reservation of the waiter");
}

#[test]
fn readiness_follows_the_inner_service_which_keeps_the_slot_reserved() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    assert_readiness_follows_mock::<&str, _, _, _>(&mut service, &mut handle);
    assert_eq!(limits.in_flight(), 1, "one slot taken, not one per poll");

    let mut other = service.clone();
    assert_pending!(other.poll_ready(), "the reserved slot is the only one");
}

#[test]
fn a_limit_is_not_taken_twice_while_the_inner_service_is_pending() {
    let (mut service, mut handle, limits) = new_service(scripted(&Script::new(), 3));
    handle.allow(0);
    assert_pending!(service.poll_ready());
    assert_pending!(service.poll_ready());
    assert_pending!(service.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn a_clone_does_not_inherit_a_reservation() {
    let (mut first, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready(), "the clone does not share the slot");

    let response = first.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    assert_pending!(second.poll_ready(), "the response is not complete yet");
    assert_eq!(response.await.unwrap(), "world");
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn clones_share_one_limit_and_one_in_flight_count() {
    let script = Script::new();
    let (mut first, mut handle, limits) = new_service(scripted(&script, 1));
    let second = first.clone();
    let second_limits = second.get_ref().handle();

    script.then(3);
    assert_ready_ok!(first.poll_ready());
    let response = first.call("hello");
    assert_request_eq!(handle, "hello").send_response("world");
    response.await.unwrap();
    assert_eq!(
        (limits.limit(), second_limits.limit()),
        (3, 3),
        "an update through one clone"
    );

    // Clones of the second now get three slots, and the first none.
    let mut clones: Vec<_> = (0..3).map(|_| second.clone()).collect();
    for clone in &mut clones {
        assert_ready_ok!(clone.poll_ready());
    }
    assert_eq!(second_limits.in_flight(), 3);
    assert_pending!(first.poll_ready());
}

#[tokio::test]
async fn waiters_are_served_first_come_first_served() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    assert_pending!(c.poll_ready());

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(a.is_woken(), "the first waiter is served");
    assert!(
        !b.is_woken() && !c.is_woken(),
        "one slot, one waiter served"
    );

    // A newcomer does not take the slot granted to the first waiter.
    let mut newcomer = holder.clone();
    assert_pending!(newcomer.poll_ready());
    assert_ready_ok!(a.poll_ready());

    let response = a.call("a");
    assert_request_eq!(handle, "a").send_response("done");
    response.await.unwrap();
    assert!(b.is_woken(), "then the second");
    assert!(!c.is_woken() && !newcomer.is_woken());
    assert_ready_ok!(b.poll_ready());
    assert_pending!(c.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[test]
#[should_panic(
    expected = "AdaptiveConcurrencyLimit called without a reserved slot; poll_ready must be called first"
)]
fn one_poll_ready_allows_exactly_one_call() {
    let (mut service, _handle, _limits) = new_service(scripted(&Script::new(), 5));
    assert_ready_ok!(service.poll_ready());
    let _first = service.call("one");
    let _second = service.call("two");
}
