//! The limit moving: waiters woken as it grows or shrinks, its bounds and their defaults.

use super::*;

#[tokio::test]
async fn the_limit_growing_wakes_as_many_waiters_as_it_has_room_for() {
    let script = Script::new();
    let (mut holder, mut handle, limits) = new_service(scripted(&script, 1));
    let (mut a, mut b, mut c) = (holder.clone(), holder.clone(), holder.clone());

    assert_ready_ok!(holder.poll_ready());
    let response = holder.call("held");
    assert_pending!(a.poll_ready());
    assert_pending!(b.poll_ready());
    assert_pending!(c.poll_ready());

    // The call finishing frees one slot and raises the limit to 2: room for
    // two waiters, where a fixed limit would have served one.
    script.then(2);
    assert_request_eq!(handle, "held").send_response("done");
    response.await.unwrap();
    assert_eq!(limits.limit(), 2);
    assert!(a.is_woken() && b.is_woken(), "both waiters fit under 2");
    assert!(!c.is_woken());
    assert_ready_ok!(a.poll_ready());
    assert_ready_ok!(b.poll_ready());
    assert_pending!(c.poll_ready());
    assert_eq!(limits.in_flight(), 2);
}

#[tokio::test]
async fn after_the_limit_shrinks_below_in_flight_callers_wait_until_enough_finish() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 4));
    let mut waiter = service.clone();

    let mut responses = Vec::new();
    for _ in 0..4 {
        assert_ready_ok!(service.poll_ready());
        responses.push(service.call("hello"));
        assert_request_eq!(handle, "hello").send_response("world");
    }
    assert_pending!(waiter.poll_ready());

    // The first to finish lowers the limit to 1 (the script then keeps it).
    script.then(1);
    let mut responses = responses.into_iter();
    responses.next().unwrap().await.unwrap();
    assert_eq!((limits.limit(), limits.in_flight()), (1, 3));
    assert!(!waiter.is_woken(), "3 in flight, over the limit of 1");
    responses.next().unwrap().await.unwrap();
    assert_eq!(limits.in_flight(), 2);
    assert!(!waiter.is_woken(), "2 in flight, over the limit of 1");
    responses.next().unwrap().await.unwrap();
    assert_eq!(limits.in_flight(), 1);
    assert!(!waiter.is_woken(), "1 in flight, at the limit of 1");
    assert_pending!(service.poll_ready(), "no newcomer gets ahead either");
    responses.next().unwrap().await.unwrap();
    assert!(waiter.is_woken(), "0 in flight: room for one");
    assert_ready_ok!(waiter.poll_ready());
    assert_eq!(limits.in_flight(), 1);
    assert_pending!(service.poll_ready());
}

#[tokio::test]
async fn the_minimum_and_maximum_bound_the_limit() {
    let script = Script::new();
    let layer = AdaptiveConcurrencyLimitLayer::new(script.clone())
        .with_min_limit(2)
        .with_initial_limit(3)
        .with_max_limit(5);
    let (mut service, mut handle, limits) = new_service(layer);

    for (proposed, expected) in [(0, 2), (1000, 5), (4, 4)] {
        script.then(proposed);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        assert_request_eq!(handle, "hello").send_response("world");
        response.await.unwrap();
        assert_eq!(
            limits.limit(),
            expected,
            "{proposed} is brought to {expected}"
        );
    }
    // Each sample carries the limit in force, as bounded.
    let seen: Vec<_> = script.samples().iter().map(Sample::limit).collect();
    assert_eq!(seen, vec![3, 2, 5]);
}

#[tokio::test]
async fn the_default_limits_are_1_to_1000_starting_at_20() {
    let script = Script::new();
    let (mut service, mut handle) =
        mock::spawn_with(|mock| AdaptiveConcurrencyLimit::new(mock, script.clone()));
    let limits = service.get_ref().handle();
    assert_eq!(limits.limit(), 20);

    for (proposed, expected) in [(0, 1), (5000, 1000)] {
        script.then(proposed);
        assert_ready_ok!(service.poll_ready());
        let response = service.call("hello");
        assert_request_eq!(handle, "hello").send_response("world");
        response.await.unwrap();
        assert_eq!(limits.limit(), expected);
    }
}

#[test]
fn the_default_initial_limit_is_brought_within_the_bounds() {
    let low = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_max_limit(5);
    assert_eq!(low.layer(()).handle().limit(), 5);
    let high = AdaptiveConcurrencyLimitLayer::new(Script::new()).with_min_limit(30);
    assert_eq!(high.layer(()).handle().limit(), 30);
}
