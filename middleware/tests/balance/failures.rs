//! Failures: endpoints whose readiness fails, response errors, and
//! discovery that fails or ends.

use super::*;

#[test]
fn an_endpoint_whose_readiness_fails_is_dropped_and_the_others_serve() {
    let (a, mut handle_a) = endpoint(0);
    let (b, mut handle_b) = endpoint(0);
    let (c, mut handle_c) = endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b, c])));
    assert_parked(&mut balance);

    handle_b.send_error("b is down");
    assert!(balance.is_woken());
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 2);
    assert!(mock_dropped(&mut handle_b));

    handle_c.allow(1);
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(
        route(
            &mut balance,
            &mut [&mut handle_a, &mut handle_b, &mut handle_c]
        ),
        2
    );
}

#[test]
fn when_every_endpoint_fails_the_balancer_waits_for_new_ones() {
    let (mut balance, tx) = channel_balance::<u32, Endpoint>();
    let (a, mut handle_a) = endpoint(0);
    let (b, handle_b) = endpoint(0);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    tx.send(Ok(Change::Insert(2, b))).unwrap();
    assert_parked(&mut balance);

    handle_a.send_error("a is down");
    // A dropped handle closes its mock: its readiness fails as well.
    drop(handle_b);
    assert!(balance.is_woken());
    assert_parked(&mut balance);
    assert!(balance.get_ref().is_empty());
    assert!(mock_dropped(&mut handle_a));

    let (c, mut handle_c) = open_endpoint(0);
    tx.send(Ok(Change::Insert(3, c))).unwrap();
    assert!(balance.is_woken());
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(route(&mut balance, &mut [&mut handle_c]), 0);
}

#[test]
fn response_errors_reach_the_caller_boxed() {
    let (a, mut handle_a) = open_endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));

    assert_ready_ok!(balance.poll_ready());
    let mut response = task::spawn(balance.call("hello"));
    let (_, reply) = assert_ready!(handle_a.poll_request()).unwrap();
    reply.send_error(Teapot);
    let error = assert_ready_err!(response.poll());
    assert_eq!(error.downcast_ref::<Teapot>(), Some(&Teapot));

    // An unanswered request fails as the mock says: closed.
    assert_ready_ok!(balance.poll_ready());
    let mut response = task::spawn(balance.call("dropped"));
    drop(assert_ready!(handle_a.poll_request()).unwrap());
    let error = assert_ready_err!(response.poll());
    assert!(error.is::<mock::error::Closed>(), "{error}");
    // The endpoint itself is fine.
    assert_ready_ok!(balance.poll_ready());
}

#[test]
fn a_discovery_error_fails_poll_ready() {
    let (mut balance, tx) = channel_balance::<u32, Endpoint>();
    let (a, _handle_a) = open_endpoint(0);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    tx.send(Err("dns down")).unwrap();

    let error = assert_ready_err!(balance.poll_ready());
    let discover = error
        .downcast_ref::<DiscoverError>()
        .expect("a balance::error::Discover");
    assert_eq!(
        discover.to_string(),
        "load balancer discovery error: dns down"
    );
    assert_eq!(error.to_string(), "load balancer discovery error: dns down");
    let source = std::error::Error::source(discover).expect("the discovery's error");
    assert_eq!(source.to_string(), "dns down");
    assert!(format!("{discover:?}").starts_with("Discover"));
}

#[test]
fn a_discovery_that_ends_keeps_its_endpoints() {
    let (mut balance, tx) = channel_balance::<u32, Endpoint>();
    let (a, mut handle_a) = open_endpoint(0);
    tx.send(Ok(Change::Insert(1, a))).unwrap();
    drop(tx);

    for _ in 0..5 {
        assert_ready_ok!(balance.poll_ready(), "the end of discovery is no error");
        assert_eq!(route(&mut balance, &mut [&mut handle_a]), 0);
    }
    assert_eq!(balance.get_ref().len(), 1);
}

#[test]
fn a_service_list_that_ends_keeps_its_endpoints_too() {
    let (a, mut handle_a) = open_endpoint(0);
    let (b, mut handle_b) = open_endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a, b])));
    let mut served = [0; 2];
    for _ in 0..20 {
        assert_ready_ok!(balance.poll_ready());
        served[route(&mut balance, &mut [&mut handle_a, &mut handle_b])] += 1;
    }
    assert_eq!(served.iter().sum::<usize>(), 20);
    assert_eq!(balance.get_ref().len(), 2);
}
