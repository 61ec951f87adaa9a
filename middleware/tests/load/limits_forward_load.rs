//! The limits forward their inner service's `Load`.

use donjon::limit::{ConcurrencyLimit, RateLimit, rate::Rate};

use super::*;

#[test]
fn concurrency_limit_reports_its_inner_load() {
    let limited = ConcurrencyLimit::new(Constant::new(Echo, 7_u32), 1);
    assert_eq!(load_of(&limited), 7);
}

#[tokio::test]
async fn concurrency_limit_load_follows_the_inner_service_live() {
    let (mut service, mut handle) = mock::spawn_with(|mock: Mock| {
        ConcurrencyLimit::new(PendingRequests::new(mock, CompleteOnResponse::default()), 2)
    });
    assert_eq!(service.get_ref().load(), Count::default());

    assert_ready_ok!(service.poll_ready());
    let mut response = task::spawn(service.call("counted"));
    assert!(service.get_ref().load() > Count::default());

    assert_request_eq!(handle, "counted").send_response("ok");
    assert_ready_ok!(response.poll());
    assert_eq!(service.get_ref().load(), Count::default());
}

#[tokio::test]
async fn rate_limit_reports_its_inner_load() {
    let limited = RateLimit::new(
        Constant::new(Echo, 0.25_f64),
        Rate::new(1, Duration::from_secs(1)),
    );
    assert_eq!(load_of(&limited), 0.25);
}

#[tokio::test]
async fn rate_limit_load_follows_the_inner_service_live() {
    let mut limited = RateLimit::new(
        PendingRequests::new(Echo, CompleteOnResponse::default()),
        Rate::new(10, Duration::from_secs(1)),
    );
    assert_eq!(load_of(&limited), Count::default());
    let mut ready_task = task::spawn(());
    assert_ready_ok!(ready_task.enter(|cx, _| donjon::Service::<u8>::poll_ready(&mut limited, cx)));
    let response = donjon::Service::<u8>::call(&mut limited, 1);
    assert!(load_of(&limited) > Count::default());
    drop(response);
    assert_eq!(load_of(&limited), Count::default());
}
