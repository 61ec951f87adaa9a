//! Tests ported from tower's own suite, in our words.

use super::*;

#[test]
fn a_failed_service_is_reported_with_its_key_and_the_others_stay() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();

    let (failing, mut failing_handle) = mock::pair();
    failing_handle.send_error("doom");
    cache.push(0, failing);
    let (healthy, _healthy_handle) = ready_mock();
    cache.push(1, healthy);

    let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
    assert_eq!(failed.0, 0);
    assert_eq!(format!("{}", failed.1), "doom");
    assert_eq!(cache.len(), 1);
    assert!(
        mock_dropped(&mut failing_handle),
        "the failed service is dropped"
    );
}

#[test]
fn services_that_are_not_ready_stay_pending() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (first, _first_handle) = not_ready_mock();
    let (second, _second_handle) = not_ready_mock();
    cache.push(0, first);
    cache.push(1, second);

    assert_parked(&mut task, &mut cache);
    assert_eq!(cache.ready_len(), 0);
    assert_eq!(cache.pending_len(), 2);
    assert_eq!(cache.len(), 2);
}

#[test]
fn ready_services_are_promoted() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (first, _first_handle) = ready_mock();
    let (second, _second_handle) = ready_mock();
    cache.push(0, first);
    cache.push(1, second);
    assert_eq!((cache.pending_len(), cache.ready_len()), (2, 0));

    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!((cache.pending_len(), cache.ready_len()), (0, 2));
    assert_eq!(cache.len(), 2);
}

#[test]
fn an_evicted_ready_service_error_is_never_reported() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);

    handle.allow(1);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(cache.is_empty());
    assert!(mock_dropped(&mut handle));
}

#[test]
fn an_evicted_pending_service_error_is_never_reported() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);

    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(cache.is_empty());
    assert!(mock_dropped(&mut handle));
}

#[test]
fn a_service_evicted_right_after_its_push_is_never_polled() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    handle.send_error("doom");
    assert!(cache.evict(&0));
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(cache.is_empty());
}

#[test]
fn an_error_after_promotion_is_not_reported_by_poll_pending() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);

    handle.allow(1);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    handle.send_error("doom");
    // Ready services are not polled by poll_pending; check_ready finds
    // the error.
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!(cache.ready_len(), 1);
    let failed = task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap_err();
    assert_eq!((failed.0, failed.to_string()), (0, "doom".to_owned()));
    assert!(cache.is_empty());
}

#[test]
fn a_key_pushed_twice_then_evicted_then_pushed_again() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();

    let (first, mut first_handle) = not_ready_mock();
    cache.push(0, first);
    let (second, mut second_handle) = not_ready_mock();
    // Cancels the first.
    cache.push(0, second);
    // Cancels the second.
    assert!(cache.evict(&0));

    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
    assert!(mock_dropped(&mut first_handle));
    assert!(mock_dropped(&mut second_handle));

    let (third, mut third_handle) = ready_mock();
    cache.push(0, third);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &0)).unwrap());
    assert!(task.enter(|cx, _| cache.check_ready_index(cx, 0)).unwrap());

    let mut response = task::spawn(cache.call_ready_index(0, "hello"));
    let (request, reply) = assert_ready!(third_handle.poll_request()).unwrap();
    assert_eq!(request, "hello");
    reply.send_response("world");
    assert_eq!(assert_ready_ok!(response.poll()), "world");
}

#[tokio::test(start_paused = true)]
async fn many_cancellations_of_one_key_are_observed_in_a_tokio_task() {
    let mut cache = ReadyCache::<&'static str, mock::Mock<(), ()>, ()>::default();
    let mut handles = Vec::new();
    // 130 is past tokio's cooperative budget (128): a cancellation that
    // went through tokio's channels would stall here.
    for _ in 0..130 {
        let (service, mut handle) = mock::pair::<(), ()>();
        handle.allow(1);
        cache.push("ep0", service);
        handles.push(handle);
    }
    assert_eq!(cache.pending_len(), 130);

    let task = tokio::spawn(async move {
        std::future::poll_fn(|cx| cache.poll_pending(cx))
            .await
            .map_err(|failed| failed.to_string())?;
        Ok::<_, String>(cache)
    });
    // The clock is paused: if the task stalls without a wake-up, the
    // runtime idles and the timeout fires at once instead of hanging.
    let cache = tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("poll_pending completes")
        .expect("the task does not panic")
        .expect("no failure is reported");
    assert_eq!(cache.ready_len(), 1);
    assert_eq!(cache.pending_len(), 0);
    assert!(cache.get_ready(&"ep0").is_some());
}
