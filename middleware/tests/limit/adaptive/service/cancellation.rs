//! Cancellation: dropped response futures, services and waiters give their slots back.

use super::*;

#[tokio::test]
async fn a_dropped_response_future_frees_its_slot_and_counts_as_nothing() {
    let script = Script::new();
    let (mut service, _handle, limits) = new_service(scripted(&script, 1));
    let mut other = service.clone();

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    assert_pending!(other.poll_ready());
    drop(response);
    assert!(other.is_woken());
    assert_ready_ok!(other.poll_ready());
    assert_eq!(limits.in_flight(), 1, "the slot went to the waiter");
    assert!(
        script.samples().is_empty(),
        "neither a success nor a failure"
    );
}

#[tokio::test]
async fn after_dropping_every_response_future_the_service_is_ready_again() {
    let script = Script::new();
    let (mut service, _handle, limits) = new_service(scripted(&script, 3));

    let responses: Vec<_> = (0..3)
        .map(|_| {
            assert_ready_ok!(service.poll_ready());
            service.call("hello")
        })
        .collect();
    assert_pending!(service.poll_ready());
    assert_eq!(limits.in_flight(), 3);
    drop(responses);
    assert!(service.is_woken());
    // The woken caller holds one slot; the other two are free.
    assert_eq!(limits.in_flight(), 1);
    assert_ready_ok!(service.poll_ready());
    assert!(script.samples().is_empty());
    assert_eq!(limits.limit(), 3);
}

#[test]
fn dropping_a_service_with_a_reserved_slot_frees_it() {
    let (mut first, _handle, limits) = new_service(scripted(&Script::new(), 1));
    let mut second = first.clone();

    assert_ready_ok!(first.poll_ready());
    assert_pending!(second.poll_ready());
    drop(first);
    assert!(second.is_woken());
    assert_ready_ok!(second.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[test]
fn into_inner_gives_back_the_reserved_slot() {
    let (mut service, _handle, limits) = new_service(scripted(&Script::new(), 1));
    assert_ready_ok!(service.poll_ready());
    assert_eq!(limits.in_flight(), 1);
    let _mock = service.into_inner().into_inner();
    assert_eq!(limits.in_flight(), 0);
}

#[tokio::test]
async fn a_dropped_waiter_leaves_the_queue() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b) = (holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    drop(a);

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(b.is_woken(), "the slot skips the waiter that left");
    assert_ready_ok!(b.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}

#[tokio::test]
async fn a_waiter_dropped_after_its_grant_passes_the_slot_on() {
    let (mut holder, mut handle, limits) = new_service(scripted(&Script::new(), 1));
    let (mut a, mut b) = (holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());

    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert!(a.is_woken() && !b.is_woken());
    drop(a);
    assert!(b.is_woken(), "the granted slot goes on to the next waiter");
    assert_ready_ok!(b.poll_ready());
    assert_eq!(limits.in_flight(), 1);
}
