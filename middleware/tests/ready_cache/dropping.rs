//! Dropping the cache drops every service it holds, ready or pending.

use super::*;

#[test]
fn dropping_the_cache_drops_every_service() {
    let mut task = task::spawn(());
    let mut cache = ReadyCache::<usize, Mock, Req>::default();
    let (ready, mut ready_handle) = ready_mock();
    let (pending, mut pending_handle) = not_ready_mock();
    cache.push(0, ready);
    cache.push(1, pending);
    assert_parked(&mut task, &mut cache);
    assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));

    drop(cache);
    assert!(mock_dropped(&mut ready_handle));
    assert!(mock_dropped(&mut pending_handle));
}
