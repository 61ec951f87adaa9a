//! Inner errors, in readiness and responses, and the inner service closed or dropping a request.

use super::*;

#[tokio::test(start_paused = true)]
async fn response_errors_reach_the_caller_unchanged_and_count_as_failures() {
    let script = Script::new();
    let (mut service, mut handle, _limits) = new_service(scripted(&script, 2));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    let send = assert_request_eq!(handle, "hello");
    tokio::time::advance(ms(30)).await;
    send.send_error(Boom("failed"));
    let error = response.await.unwrap_err();
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("failed")));
    assert_eq!(script.samples(), vec![Sample::failure(ms(30), 1, 2)]);
}

#[tokio::test(start_paused = true)]
async fn a_sample_carries_the_latency_the_in_flight_count_and_the_limit() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 5));
    let _background = Background::hold(&mut service, &mut handle, 2).await;

    // A reservation counts as in flight.
    let mut other = service.clone();
    assert_ready_ok!(other.poll_ready());
    assert_eq!(limits.in_flight(), 3);

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    tokio::time::advance(ms(25)).await;
    assert_request_eq!(handle, "hello").send_response("world");
    assert_eq!(response.await.unwrap(), "world");
    // Two background calls and a reservation were in flight: this one was
    // the fourth.
    assert_eq!(script.samples(), vec![Sample::success(ms(25), 4, 5)]);
    assert_eq!(limits.in_flight(), 3);
}

#[tokio::test]
async fn poll_ready_errors_reach_the_caller_unchanged_and_give_back_the_slot() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 1));
    let mut other = service.clone();

    handle.send_error(Boom("not ready"));
    let error = assert_ready_err!(service.poll_ready());
    assert_eq!(error.downcast_ref::<Boom>(), Some(&Boom("not ready")));
    assert_eq!(limits.in_flight(), 0, "the failed service keeps no slot");
    assert_ready_ok!(other.poll_ready());
    assert!(script.samples().is_empty(), "no call, no sample");
}

#[test]
fn a_closed_inner_service_fails_poll_ready_and_keeps_no_slot() {
    let (mut service, handle, limits) = new_service(scripted(&Script::new(), 1));
    drop(handle);
    let error = assert_ready_err!(service.poll_ready());
    assert!(error.is::<Closed>());
    assert_eq!(limits.in_flight(), 0);
}

#[tokio::test]
async fn a_request_the_inner_service_drops_fails_and_counts_as_a_failure() {
    let script = Script::new();
    let (mut service, mut handle, limits) = new_service(scripted(&script, 1));

    assert_ready_ok!(service.poll_ready());
    let response = service.call("hello");
    drop(assert_request_eq!(handle, "hello"));
    assert!(response.await.unwrap_err().is::<Closed>());
    let samples = script.samples();
    assert_eq!(samples.len(), 1);
    assert!(samples[0].is_failure());
    assert_eq!(limits.in_flight(), 0);
}
