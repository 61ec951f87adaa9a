//! Ready indices: a service leaving the ready set gives its index to the last one.

use super::*;

#[test]
fn evicting_a_ready_service_moves_the_last_into_its_index() {
    let (mut cache, controls) = ready_gates(&["a", "b", "c", "d"]);
    assert!(cache.evict(&"b"));
    assert_eq!(ready_labels(&cache), ["a", "d", "c"]);
    assert_eq!(cache.get_ready(&"d").unwrap().0, 1);
    assert!(
        controls[1].gate_dropped(),
        "an evicted ready service is dropped at once"
    );

    assert!(cache.evict(&"c"));
    assert_eq!(ready_labels(&cache), ["a", "d"]);
    assert!(!cache.evict(&"c"), "already gone");
}

#[test]
fn a_service_found_not_ready_leaves_its_index_to_the_last() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a", "b", "c"]);
    controls[0].close();
    assert!(!task.enter(|cx, _| cache.check_ready_index(cx, 0)).unwrap());
    assert_eq!(ready_labels(&cache), ["c", "b"]);

    // Back to ready: appended at the end.
    controls[0].open();
    assert_ready_ok!(poll_pending(&mut task, &mut cache));
    assert_eq!(ready_labels(&cache), ["c", "b", "a"]);
}

#[test]
fn a_failed_service_leaves_its_index_to_the_last() {
    let mut task = task::spawn(());
    let (mut cache, controls) = ready_gates(&["a", "b", "c"]);
    controls[0].fail("gone");
    assert!(task.enter(|cx, _| cache.check_ready_index(cx, 0)).is_err());
    assert_eq!(ready_labels(&cache), ["c", "b"]);
}

#[test]
fn calling_the_last_index_leaves_the_others_in_place() {
    let (mut cache, _controls) = ready_gates(&["a", "b", "c"]);
    drop(cache.call_ready_index(2, "x"));
    assert_eq!(ready_labels(&cache), ["a", "b"]);
}
