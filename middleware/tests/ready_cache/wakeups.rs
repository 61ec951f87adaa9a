//! Wake-ups of the task waiting in `poll_pending`, which goes on after a failure.

use super::*;

#[test]
fn a_pending_service_becoming_ready_wakes_the_task() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);
    assert!(!task.is_woken());

    handle.allow(1);
    assert!(task.is_woken());
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!(cache.ready_len(), 1);
}

#[test]
fn an_eviction_wakes_the_task_waiting_in_poll_pending() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, mut handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);
    assert!(!task.is_woken());

    assert!(cache.evict(&0));
    assert!(task.is_woken(), "the cancellation wakes the waiting task");
    assert!(!mock_dropped(&mut handle), "dropped at the next poll");
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(mock_dropped(&mut handle));
}

#[test]
fn a_replacing_push_wakes_the_task_waiting_in_poll_pending() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (old, mut old_handle) = not_ready_mock();
    cache.push(0, old);
    assert_parked(&mut task, &mut cache);

    let (new, _new_handle) = not_ready_mock();
    cache.push(0, new);
    assert!(task.is_woken());
    assert_parked(&mut task, &mut cache);
    assert!(mock_dropped(&mut old_handle));
}

#[test]
fn poll_pending_goes_on_after_a_failure() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let mut handles = Vec::new();
    for key in 0..3 {
        let (service, mut handle) = mock::pair();
        handle.send_error("doom");
        cache.push(key, service);
        handles.push(handle);
    }
    let (healthy, _healthy_handle) = ready_mock();
    cache.push(3, healthy);

    let mut failed_keys = Vec::new();
    loop {
        match poll_pending(&mut task, &mut cache) {
            Poll::Ready(Ok(())) => break,
            Poll::Ready(Err(failed)) => failed_keys.push(failed.0),
            Poll::Pending => panic!("nothing here waits"),
        }
    }
    failed_keys.sort_unstable();
    assert_eq!(failed_keys, [0, 1, 2]);
    assert_eq!((cache.ready_len(), cache.pending_len()), (1, 0));
    assert!(cache.get_ready(&3).is_some());
}

#[test]
fn a_closed_service_fails_instead_of_hanging() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (service, handle) = not_ready_mock();
    cache.push(0, service);
    assert_parked(&mut task, &mut cache);

    drop(handle);
    assert!(task.is_woken());
    let failed = assert_ready_err!(poll_pending(&mut task, &mut cache));
    assert!(failed.1.is::<mock::error::Closed>(), "{failed}");
    assert!(cache.is_empty());
}
