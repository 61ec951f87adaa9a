//! Readiness: wake-ups when endpoints arrive or become ready, endpoints
//! found not ready or failed before the call, and misuse.

use super::*;

#[test]
fn the_arrival_of_an_endpoint_wakes_the_waiting_caller() {
    let (mut balance, tx) = channel_balance::<u32, Endpoint>();
    assert_parked(&mut balance);
    assert!(balance.get_ref().is_empty());

    let (a, mut handle_a) = open_endpoint(0);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    assert!(balance.is_woken(), "the discovery wakes the caller");
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
}

#[test]
fn an_endpoint_becoming_ready_wakes_the_waiting_caller() {
    let (a, mut handle_a) = endpoint(0);
    let (b, mut handle_b) = endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 2);

    handle_b.allow(1);
    assert!(balance.is_woken());
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 1);

    // The endpoint used has no call allowed left: waiting again.
    assert_parked(&mut balance);
    handle_a.allow(1);
    assert!(balance.is_woken());
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
}

#[test]
fn polling_again_while_ready_is_harmless() {
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = open_endpoint(9);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
    assert_ready_ok!(balance.poll_ready());
    assert_ready_ok!(balance.poll_ready(), "polling again is harmless");
    assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle_a, &mut handle_b]), 0);
}

#[test]
fn a_chosen_endpoint_that_fails_before_the_call_is_replaced() {
    let (low, mut low_handle) = open_endpoint(0);
    let (high, mut high_handle) = open_endpoint(100);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![low, high])));
    assert_ready_ok!(balance.poll_ready(), "the low-load endpoint is chosen");

    low_handle.send_error("gone");
    assert_ready_ok!(balance.poll_ready(), "the choice is checked again");
    assert_eq!(balance.get_ref().len(), 1);
    assert_eq!(
        route(&mut balance, &mut [&mut low_handle, &mut high_handle]),
        1
    );
    assert!(mock_dropped(&mut low_handle));
}

#[test]
fn an_endpoint_found_no_longer_ready_is_skipped_and_wakes_the_caller_later() {
    let (switched, switch, mut handle) = switched_endpoint(true);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![switched])));
    assert_ready_ok!(balance.poll_ready());

    switch.set(false);
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 1, "not ready is not failed");

    switch.set(true);
    assert!(balance.is_woken());
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle]), 0);
}

#[test]
#[should_panic(expected = "called before ready")]
fn call_without_poll_ready_panics() {
    let (a, _handle_a) = open_endpoint(0);
    let mut balance = Balance::new(ServiceList::new(vec![a]));
    drop(balance.call("too soon"));
}

#[test]
#[should_panic(expected = "called before ready")]
fn a_second_call_needs_another_poll_ready() {
    let (a, _handle_a) = open_endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
    assert_ready_ok!(balance.poll_ready());
    let _first = balance.call("first");
    let _second = balance.call("second");
}
