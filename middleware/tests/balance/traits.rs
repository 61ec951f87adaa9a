//! The balancer's auto traits and `Debug`.

use super::*;

#[test]
fn the_balancer_is_sync_when_its_parts_are() {
    fn sync<T: Sync>() {}
    sync::<Balance<ServiceList<Vec<Endpoint>>, Req>>();
}

#[test]
fn the_balancer_is_send_and_its_future_unpin() {
    fn send<T: Send>(_: &T) {}
    fn unpin<T: Unpin>(_: &T) {}
    let (a, _handle_a) = open_endpoint(0);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
    send(balance.get_ref());
    assert_ready_ok!(balance.poll_ready());
    let mut response = balance.call("x");
    unpin(&response);
    let mut task = task::spawn(());
    assert_pending!(task.enter(|cx, _| Pin::new(&mut response).poll(cx)));
}

#[test]
fn the_balancer_is_debug() {
    let (a, _handle_a) = open_endpoint(3);
    let mut balance = Spawn::new(Balance::new(ServiceList::new(vec![a])));
    assert_ready_ok!(balance.poll_ready());
    let debug = format!("{:?}", balance.get_ref());
    for field in ["Balance", "discover", "services", "load: 3"] {
        assert!(debug.contains(field), "{field} in {debug}");
    }
}
