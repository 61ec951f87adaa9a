//! `check_ready` and `call_ready`, by key and by index: lost readiness, failures, misuse.

use super::*;

#[test]
fn check_ready_moves_a_service_no_longer_ready_back_to_pending() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a"]);
    assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());

    controls[0].close();
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
    assert!(cache.pending_contains(&"a"));
    assert!(!controls[0].gate_dropped());
    assert_parked(&mut task, &mut cache);

    controls[0].open();
    assert!(task.is_woken(), "its readiness wakes the task again");
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
}

#[test]
fn check_ready_drops_a_failed_service_and_reports_it() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a", "b"]);

    controls[0].fail("overheated");
    let failed = task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap_err();
    assert_eq!(failed.0, "a");
    assert_eq!(failed.1.downcast_ref::<Boom>(), Some(&Boom("overheated")));
    assert!(controls[0].gate_dropped());
    assert_eq!(ready_labels(&cache), ["b"]);
    assert_eq!(cache.pending_len(), 0);
    assert!(!cache.pending_contains(&"a"));
}

#[test]
fn check_ready_index_drops_a_failed_mock() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = ready_mock();
    cache.push(3, service);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));

    handle.send_error("lost");
    let failed = task
        .enter(|cx, _| cache.check_ready_index(cx, 0))
        .unwrap_err();
    assert_eq!((failed.0, failed.to_string()), (3, "lost".to_owned()));
    assert!(cache.is_empty());
    assert!(mock_dropped(&mut handle));
}

#[test]
fn checking_an_unknown_key_or_index_is_false() {
    let mut task = task::spawn(());
    let (mut cache, _controls) = ready_gates(&["a"]);
    let (pending, _control) = gate("p", false);
    cache.push("p", pending);
    assert_parked(&mut task, &mut cache);

    assert!(
        !task
            .enter(|cx, _| cache.check_ready(cx, &"nobody"))
            .unwrap()
    );
    // Pending services are not ready ones.
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"p")).unwrap());
    assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 1)).unwrap());
    assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 99)).unwrap());
    assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));
}

#[test]
fn call_ready_sends_the_request_and_the_service_goes_back_to_pending() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = ready_mock();
    cache.push(1, service);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &1)).unwrap());

    let mut response = task::spawn(cache.call_ready(&1, "hello"));
    assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
    assert!(cache.pending_contains(&1));

    let (request, reply) = assert_ready!(handle.poll_request()).unwrap();
    assert_eq!(request, "hello");
    assert_pending!(response.poll());
    reply.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");

    // Its one allowed call is spent: it stays pending until allowed more.
    assert_parked(&mut task, &mut cache);
    handle.allow(1);
    assert!(task.is_woken());
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!(cache.ready_len(), 1);
}

#[test]
fn response_errors_are_not_converted() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = ready_mock();
    cache.push(1, service);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));

    let mut response = task::spawn(cache.call_ready(&1, "hello"));
    let (_, reply) = assert_ready!(handle.poll_request()).unwrap();
    reply.send_error("teapot");
    let error: BoxError = assert_ready_err!(response.poll());
    assert_eq!(error.to_string(), "teapot");

    // With its own error type, the future keeps it.
    let (mut cache, _controls) = ready_gates(&["g"]);
    let future: Ready<Result<String, Boom>> = cache.call_ready(&"g", "typed");
    assert_eq!(
        futures::executor::block_on(future),
        Ok("g: typed".to_owned())
    );
}

#[test]
fn call_ready_index_calls_the_service_at_that_index() {
    let (mut cache, _controls) = ready_gates(&["a", "b", "c"]);
    let answer = futures::executor::block_on(cache.call_ready_index(1, "hi")).unwrap();
    assert_eq!(answer, "b: hi");
    // "c" moved into the index "b" left.
    assert_eq!(ready_labels(&cache), ["a", "c"]);
    assert!(cache.pending_contains(&"b"));
}

#[test]
#[should_panic(expected = "check_ready was not called")]
fn call_ready_of_a_key_not_ready_panics() {
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    drop(cache.call_ready(&0, "too soon"));
}

#[test]
#[should_panic(expected = "check_ready was not called")]
fn call_ready_of_a_pending_service_panics() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, _handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);
    drop(cache.call_ready(&0, "too soon"));
}

#[test]
#[should_panic(expected = "check_ready_index was not called")]
fn call_ready_index_out_of_range_panics() {
    let (mut cache, _controls) = ready_gates(&["a"]);
    drop(cache.call_ready_index(1, "nobody there"));
}
