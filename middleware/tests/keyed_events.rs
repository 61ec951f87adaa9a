//! The `tracing` events of `donjon::limit::keyed`, in a test binary of
//! their own: a subscriber set for one test sees every event only when no
//! other test registers the same callsites concurrently without one.
#![cfg(feature = "limit")]

mod support;

use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::{Decision, MemoryStore};
use tokio::time::advance;

use support::Captured;

#[tokio::test(start_paused = true)]
async fn a_full_store_warns_once_until_it_has_room_again() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .without_time()
        .with_target(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Room for one key: one shard.
    let store = MemoryStore::with_max_keys(1);
    let quota = Quota::per_second(1).unwrap();
    let second = Duration::from_secs(1);

    assert_eq!(store.decide(&"alice", quota), Decision::Allowed);
    assert!(captured.lines().is_empty(), "room: no event");
    assert!(!store.decide(&"bob", quota).is_allowed());
    assert!(!store.decide(&"carol", quota).is_allowed());
    assert!(!store.decide(&"dave", quota).is_allowed());
    let expected = " WARN keyed rate limit store is full: requests with new keys are limited \
                    until held keys expire max_keys=1 retry_after=1s";
    assert_eq!(captured.lines(), [expected], "one warning while full");

    // Alice expires; Bob takes her place, and the store is full again.
    advance(second).await;
    assert_eq!(store.decide(&"bob", quota), Decision::Allowed);
    assert_eq!(captured.lines().len(), 1, "room again: no event");
    assert!(!store.decide(&"carol", quota).is_allowed());
    assert_eq!(
        captured.lines(),
        [expected, expected],
        "full again: a warning again"
    );
}
