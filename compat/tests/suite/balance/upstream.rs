//! Upstream's unit cases: an empty balancer, a single endpoint, two of equal load.

use super::*;

#[tokio::test]
async fn an_empty_balancer_is_pending() {
    let empty: Vec<Constant<Mock<(), &'static str>, usize>> = vec![];
    let mut svc = Spawn::new(Balance::new(ServiceList::new(empty)));
    assert_pending!(svc.poll_ready());
    assert!(svc.get_ref().is_empty());
    assert_eq!(svc.get_ref().len(), 0);
}

#[tokio::test]
async fn a_single_endpoint_is_discovered_used_and_dropped_on_failure() {
    let (mut svc, mut handle) = mock::spawn_with(|mock: Mock<(), u32>| {
        let list = ServiceList::new(vec![Constant::new(mock, 0u8)].into_iter());
        Balance::new(list)
    });
    handle.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1, "discovered on the first poll");

    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call(()));
    assert_request_eq!(handle, ()).send_response(1);
    assert_eq!(assert_ready_ok!(fut.poll()), 1);

    handle.allow(1);
    assert_ready_ok!(svc.poll_ready());
    handle.send_error("endpoint lost");
    assert_pending!(svc.poll_ready());
    assert!(svc.get_ref().is_empty(), "a failed endpoint is dropped");
}

#[tokio::test]
async fn two_endpoints_with_equal_load() {
    let (a, mut ha) = endpoint(1);
    let (b, mut hb) = endpoint(1);
    let mut svc = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));

    ha.allow(0);
    hb.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 2);

    // Only `a` is ready: it gets the request.
    ha.allow(1);
    assert!(svc.is_woken());
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("x"));
    assert_request_eq!(ha, "x").send_response("a");
    assert_eq!(assert_ready_ok!(fut.poll()), "a");

    // Only `b`.
    ha.allow(0);
    hb.allow(1);
    assert_ready_ok!(svc.poll_ready());
    let mut fut = task::spawn(svc.call("y"));
    assert_request_eq!(hb, "y").send_response("b");
    assert_eq!(assert_ready_ok!(fut.poll()), "b");

    // Both: each request goes to exactly one of them.
    ha.allow(1);
    hb.allow(1);
    for _ in 0..2 {
        assert_ready_ok!(svc.poll_ready());
        let mut fut = task::spawn(svc.call("z"));
        let name = answer(&mut [("a", &mut ha), ("b", &mut hb)], "z");
        assert_eq!(assert_ready_ok!(fut.poll()), name);
        match name {
            "a" => ha.allow(0),
            _ => hb.allow(0),
        }
    }

    ha.send_error("endpoint lost");
    hb.allow(0);
    assert_pending!(svc.poll_ready());
    assert_eq!(svc.get_ref().len(), 1);
}
