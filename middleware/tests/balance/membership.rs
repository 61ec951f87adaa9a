//! Membership: endpoints removed, replaced and added while requests flow,
//! and what the balancer drops.

use super::*;

#[test]
fn a_removed_endpoint_is_dropped_and_gets_no_more_requests() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = open_endpoint(0);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    tx.send(Ok(Change::Insert("b", b))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 2);

    tx.send(Ok(Change::Remove("a"))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 1);
    assert!(mock_dropped(&mut handle_a));
    for _ in 0..10 {
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 1);
    }
}

#[test]
fn removing_a_pending_endpoint_drops_it() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (a, mut handle_a) = endpoint(0);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 1);

    tx.send(Ok(Change::Remove("a"))).unwrap();
    assert!(balance.is_woken());
    assert_parked(&mut balance);
    assert!(balance.get_ref().is_empty());
    assert!(mock_dropped(&mut handle_a));
}

#[test]
fn removing_an_unknown_key_changes_nothing() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (a, mut handle_a) = open_endpoint(0);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    tx.send(Ok(Change::Remove("nobody"))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 1);
    assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
}

#[test]
fn a_removed_endpoint_response_in_flight_still_arrives() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (a, mut handle_a) = open_endpoint(0);
    tx.send(Ok(Change::Insert("a", a))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    let mut response = task::spawn(balance.call("in flight"));
    let (request, reply) = assert_ready!(handle_a.poll_request()).unwrap();
    assert_eq!(request, "in flight");

    tx.send(Ok(Change::Remove("a"))).unwrap();
    assert_parked(&mut balance);
    assert!(balance.get_ref().is_empty());
    assert!(mock_dropped(&mut handle_a));

    reply.send_response("late but fine");
    assert_eq!(assert_ready_ok!(response.poll()), "late but fine");
}

#[test]
fn inserting_an_existing_key_replaces_the_endpoint() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (old, mut old_handle) = open_endpoint(0);
    tx.send(Ok(Change::Insert("k", old))).unwrap();
    assert_ready_ok!(balance.poll_ready());

    // The replacement is not ready: the old endpoint keeps serving.
    let (new, mut new_handle) = endpoint(0);
    tx.send(Ok(Change::Insert("k", new))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(
        route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
        0
    );
    // Once used, the old endpoint is not kept: the key is the new one's.
    assert!(mock_dropped(&mut old_handle));
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 1);

    new_handle.allow(1);
    assert!(balance.is_woken());
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(
        route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
        1
    );
}

#[test]
fn a_ready_replacement_takes_over_at_once() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (old, mut old_handle) = open_endpoint(0);
    tx.send(Ok(Change::Insert("k", old))).unwrap();
    assert_ready_ok!(balance.poll_ready());

    let (new, mut new_handle) = open_endpoint(0);
    tx.send(Ok(Change::Insert("k", new))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    assert!(mock_dropped(&mut old_handle));
    assert_eq!(balance.get_ref().len(), 1);
    assert_eq!(
        route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
        1
    );
}

#[test]
fn endpoints_added_and_removed_while_requests_flow() {
    let (mut balance, tx) = channel_balance::<&'static str, Endpoint>();
    let (old, mut old_handle) = open_endpoint(5);
    tx.send(Ok(Change::Insert("old", old))).unwrap();
    assert_ready_ok!(balance.poll_ready());
    let mut in_flight = task::spawn(balance.call("before"));
    let (_, old_reply) = assert_ready!(old_handle.poll_request()).unwrap();

    // A less loaded endpoint arrives: it takes the requests from now on.
    let (new, mut new_handle) = open_endpoint(0);
    tx.send(Ok(Change::Insert("new", new))).unwrap();
    for _ in 0..5 {
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            1
        );
    }

    // It leaves: back to the old one, whose answer still arrives.
    tx.send(Ok(Change::Remove("new"))).unwrap();
    for _ in 0..5 {
        assert_ready_ok!(balance.poll_ready());
        assert_eq!(
            route(&mut balance, &mut [&mut old_handle, &mut new_handle]),
            0
        );
    }
    assert!(mock_dropped(&mut new_handle));
    old_reply.send_response("after");
    assert_eq!(assert_ready_ok!(in_flight.poll()), "after");
}

#[test]
fn dropping_the_balancer_drops_its_endpoints() {
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
    assert_ready_ok!(balance.poll_ready());
    drop(balance);
    assert!(mock_dropped(&mut handle_a));
    assert!(mock_dropped(&mut handle_b));
}
