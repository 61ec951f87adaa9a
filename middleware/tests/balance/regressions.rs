//! The balancer keeps a called endpoint in its ready set (no trip through
//! the pending set per request); these check that it still behaves as if
//! the endpoint had gone back to pending.

use super::*;

#[test]
fn issue_6_an_endpoint_that_fails_after_a_call_is_dropped_at_the_next_poll() {
    let mut handles = Vec::new();
    let mut endpoints = Vec::new();
    for _ in 0..4 {
        let (endpoint, handle) = open_endpoint(1);
        endpoints.push(endpoint);
        handles.push(handle);
    }
    let mut balance = Spawn::new(Balance::from_rng(ServiceList::new(endpoints), seeded_rng()));
    assert_ready_ok!(balance.poll_ready());
    let mut refs: Vec<&mut Handle> = handles.iter_mut().collect();
    let used = route(&mut balance, &mut refs);

    handles[used].send_error("endpoint lost");
    assert_ready_ok!(balance.poll_ready());
    assert_eq!(
        balance.get_ref().len(),
        3,
        "the endpoint just called is checked, and dropped, at once"
    );
}

#[test]
fn issue_6_an_endpoint_not_ready_after_a_call_wakes_the_balancer_when_it_is() {
    let (endpoint, mut handle) = open_endpoint(1);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![endpoint])));
    assert_ready_ok!(balance.poll_ready());
    handle.allow(1);
    assert_eq!(route(&mut balance, &mut [&mut handle]), 0);

    // Its one call spent, the endpoint is not ready: the balancer waits,
    // and hears when it is ready again.
    assert_parked(&mut balance);
    assert_eq!(balance.get_ref().len(), 1);
    handle.allow(1);
    assert!(
        balance.is_woken(),
        "the endpoint's readiness wakes the balancer"
    );
    assert_ready_ok!(balance.poll_ready());
}
