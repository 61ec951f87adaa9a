//! Tests ported from tower's p2c unit tests, in our words.

use super::*;

#[test]
fn an_empty_balancer_is_pending() {
    let empty: Vec<Endpoint> = Vec::new();
    let mut balance = Spawn::new(Balance::new(ServiceList::new(empty)));
    assert_parked(&mut balance);
    assert!(balance.get_ref().is_empty());
    assert_eq!(balance.get_ref().len(), 0);
}

#[tokio::test]
async fn a_single_endpoint_is_discovered_on_first_poll_and_followed() {
    let (mut balance, mut handle) = mock::spawn_with(|mock: Mock| {
        Balance::new(ServiceList::new(vec![Constant::new(mock, 0)].into_iter()))
    });

    handle.allow(0);
    assert_pending!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 1, "discovered while not ready");

    handle.allow(1);
    assert_ready_ok!(balance.poll_ready());
    let mut response = task::spawn(balance.call("hello"));
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    handle.allow(1);
    assert_ready_ok!(balance.poll_ready());

    handle.send_error("endpoint lost");
    assert_pending!(balance.poll_ready());
    assert!(balance.get_ref().is_empty(), "a failed endpoint is dropped");
}

#[tokio::test]
async fn two_endpoints_with_equal_load() {
    let (a, mut handle_a) = endpoint(1);
    let (b, mut handle_b) = endpoint(1);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b].into_iter())));

    assert_pending!(balance.poll_ready());
    assert_eq!(balance.get_ref().len(), 2, "both discovered");

    handle_a.allow(1);
    handle_b.allow(0);
    assert_ready_ok!(balance.poll_ready(), "ready when one of two is");
    let mut response = task::spawn(balance.call("first"));
    assert_request_eq!(handle_a, "first").send_response("a");
    assert_eq!(assert_ready_ok!(response.poll()), "a");

    handle_a.allow(0);
    handle_b.allow(1);
    assert_ready_ok!(balance.poll_ready(), "ready when the other one is");
    let mut response = task::spawn(balance.call("second"));
    assert_request_eq!(handle_b, "second").send_response("b");
    assert_eq!(assert_ready_ok!(response.poll()), "b");

    handle_a.allow(1);
    handle_b.allow(1);
    for _ in 0..2 {
        assert_ready_ok!(balance.poll_ready(), "ready when both are");
        let mut response = task::spawn(balance.call("either"));
        let mut answered = 0;
        for (handle, name) in [(&mut handle_a, "a"), (&mut handle_b, "b")] {
            if let Poll::Ready(Some((_, reply))) = handle.poll_request() {
                reply.send_response(name);
                handle.allow(0);
                answered += 1;
            }
        }
        assert_eq!(answered, 1);
        assert_ready_ok!(response.poll());
    }

    handle_a.send_error("endpoint lost");
    handle_b.allow(1);
    assert_ready_ok!(balance.poll_ready(), "ready with the one left");
    assert_eq!(balance.get_ref().len(), 1, "the failed endpoint is dropped");
}
