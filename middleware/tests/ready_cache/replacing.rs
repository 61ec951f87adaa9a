//! Replacing a key's service: the old one serves until the new one is ready, then is dropped.

use super::*;

#[test]
fn a_ready_service_stays_usable_until_its_replacement_is_ready() {
    let mut task = task::spawn(());
    let (mut cache, _controls) = ready_gates(&["a", "b"]);

    let (replacement, replacement_control) = gate("a2", false);
    cache.push("a", replacement);
    assert!(cache.pending_contains(&"a"));
    assert_parked(&mut task, &mut cache);

    // The old service is still there, at its index.
    let (index, key, old) = cache.get_ready(&"a").unwrap();
    assert_eq!((index, *key, old.label), (0, "a", "a"));
    assert!(task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    assert_eq!(cache.len(), 3);

    replacement_control.open();
    assert!(task.is_woken());
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    // Replaced in place: same key, same index, the new service.
    assert_eq!(ready_labels(&cache), ["a2", "b"]);
    let (index, _, new) = cache.get_ready(&"a").unwrap();
    assert_eq!((index, new.label), (0, "a2"));
    assert_eq!(cache.len(), 2);
    assert!(!cache.pending_contains(&"a"));
}

#[test]
fn evicting_a_key_removes_both_its_ready_and_its_pending_service() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a", "b"]);
    let (replacement, replacement_control) = gate("a2", false);
    cache.push("a", replacement);
    assert_parked(&mut task, &mut cache);

    assert!(cache.evict(&"a"));
    assert!(controls[0].gate_dropped(), "the ready one at once");
    assert!(!cache.pending_contains(&"a"));
    assert_eq!(ready_labels(&cache), ["b"]);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(
        replacement_control.gate_dropped(),
        "the pending one at the next poll"
    );
    assert_eq!(cache.len(), 1);
}

#[test]
fn the_replaced_ready_service_is_dropped() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (old, mut old_handle) = ready_mock();
    cache.push(7, old);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));

    let (new, mut new_handle) = ready_mock();
    cache.push(7, new);
    assert!(!mock_dropped(&mut old_handle), "usable until replaced");
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert!(mock_dropped(&mut old_handle));
    assert_eq!(cache.len(), 1);

    assert!(task.enter(|cx, _| cache.check_ready(cx, &7)).unwrap());
    let _response = cache.call_ready(&7, "to the new one");
    let (request, _) = assert_ready!(new_handle.poll_request()).unwrap();
    assert_eq!(request, "to the new one");
}

#[test]
fn a_superseded_ready_service_is_dropped_once_called() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (old, mut old_handle) = ready_mock();
    cache.push(0, old);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    let (new, _new_handle) = not_ready_mock();
    cache.push(0, new);
    assert_parked(&mut task, &mut cache);

    let _response = cache.call_ready(&0, "last call");
    let (request, _) = assert_ready!(old_handle.poll_request()).unwrap();
    assert_eq!(request, "last call");
    // It does not go back to pending: the newer service is the key's.
    assert!(mock_dropped(&mut old_handle));
    assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
    assert!(cache.pending_contains(&0));
}

#[test]
fn a_superseded_ready_service_that_is_no_longer_ready_is_dropped() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a"]);
    let (new, _new_control) = gate("a2", false);
    cache.push("a", new);
    assert_parked(&mut task, &mut cache);

    controls[0].close();
    assert!(!task.enter(|cx, _| cache.check_ready(cx, &"a")).unwrap());
    assert!(controls[0].gate_dropped());
    assert_eq!((cache.ready_len(), cache.pending_len()), (0, 1));
}

#[test]
fn a_replaced_pending_service_is_dropped_and_its_error_never_reported() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (old, mut old_handle) = not_ready_mock();
    cache.push(0, old);
    assert_parked(&mut task, &mut cache);

    let (new, mut new_handle) = not_ready_mock();
    cache.push(0, new);
    old_handle.send_error("doom");
    // Counted until dropped, but no longer the key's.
    assert_eq!(cache.pending_len(), 2);
    assert_parked(&mut task, &mut cache);
    assert_eq!(cache.pending_len(), 1);
    assert!(mock_dropped(&mut old_handle));

    new_handle.allow(1);
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!(cache.ready_len(), 1);
}
