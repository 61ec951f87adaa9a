//! `MemoryStore`: eviction and the cap, property tests against a
//! reference GCRA, and a stress test on real threads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::{Answer, Decision, MemoryStore, RateStore};
use proptest::prelude::*;

use crate::support::{check_bound, paused_runtime};
use tokio::time::{Instant, advance};

/// The decision of `store` for `key`, which a memory store gives at once.
fn decide<K>(store: &MemoryStore<K>, key: &K, quota: Quota) -> Decision
where
    K: std::hash::Hash + Eq + Clone,
{
    match store.acquire(key, quota) {
        Answer::Now(Ok(decision)) => decision,
        Answer::Now(Err(never)) => match never {},
        Answer::Later(_) => panic!("a memory store answers at once"),
    }
}

/// Limited, with `retry_after`.
fn limited(retry_after: Duration) -> Decision {
    Decision::Limited { retry_after }
}

#[tokio::test(start_paused = true)]
async fn a_store_of_one_key_limits_new_keys_until_the_held_one_expires() {
    // One key: one shard, with room for one.
    let store = MemoryStore::with_max_keys(1);
    let second = Quota::per_second(1).unwrap();
    assert_eq!(store.max_keys(), 1);
    assert!(store.is_empty());

    assert_eq!(decide(&store, &"alice", second), Decision::Allowed);
    assert_eq!(
        decide(&store, &"bob", second),
        limited(Duration::from_secs(1))
    );
    advance(Duration::from_millis(400)).await;
    assert_eq!(
        decide(&store, &"bob", second),
        limited(Duration::from_millis(600))
    );
    assert_eq!(
        decide(&store, &"alice", second),
        limited(Duration::from_millis(600)),
        "alice keeps her own limit"
    );
    assert_eq!(store.len(), 1);

    advance(Duration::from_millis(600)).await;
    // Alice's limit has recovered: she is forgotten, and Bob takes her place.
    assert_eq!(decide(&store, &"bob", second), Decision::Allowed);
    assert_eq!(store.len(), 1);
    assert_eq!(
        decide(&store, &"alice", second),
        limited(Duration::from_secs(1)),
        "now Alice is the new key"
    );
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_distinct_keys_never_grows_the_store_past_its_cap_nor_lifts_a_known_limit() {
    const MAX_KEYS: usize = 1000;
    const ALICE: u32 = u32::MAX;
    const BOB: u32 = u32::MAX - 1;
    let store = MemoryStore::with_max_keys(MAX_KEYS);
    // Each flooding key makes one request, and expires a second later.
    let flood_quota = Quota::per_second(1).unwrap();
    let alice_quota = Quota::new(1, Duration::from_secs(10)).unwrap();
    let bob_quota = Quota::per_second(1).unwrap().with_burst(3).unwrap();
    let secs = Duration::from_secs;
    let ms = Duration::from_millis;

    assert_eq!(decide(&store, &ALICE, alice_quota), Decision::Allowed);
    assert_eq!(decide(&store, &BOB, bob_quota), Decision::Allowed);

    // Sends `count` new keys; every refused one must have `retry_after`.
    // Returns how many were admitted, checking the cap after each.
    let mut keys = 0u32..;
    let mut flood = |count: usize, retry_after: Duration| {
        let mut admitted = 0;
        for key in keys.by_ref().take(count) {
            match decide(&store, &key, flood_quota) {
                Decision::Allowed => admitted += 1,
                refused => assert_eq!(refused, limited(retry_after), "key {key}"),
            }
            assert!(store.len() <= MAX_KEYS, "{} keys", store.len());
        }
        admitted
    };

    // 50 000 keys at once: the shards fill, and the rest wait for the
    // first keys held to expire, a second from now.
    let admitted = flood(50_000, secs(1));
    assert!(admitted > 0 && admitted < MAX_KEYS);
    assert_eq!(store.len(), admitted + 2);
    // Bob, held, still has the rest of his burst; the cap refuses only new
    // keys.
    assert_eq!(decide(&store, &BOB, bob_quota), Decision::Allowed);
    assert_eq!(decide(&store, &BOB, bob_quota), Decision::Allowed);
    assert_eq!(decide(&store, &BOB, bob_quota), limited(secs(1)));

    // Half a second on, nothing has expired: every new key is refused.
    advance(ms(500)).await;
    assert_eq!(flood(10_000, ms(500)), 0, "no room before a key expires");
    assert_eq!(decide(&store, &ALICE, alice_quota), limited(ms(9500)));
    assert_eq!(decide(&store, &BOB, bob_quota), limited(ms(500)));

    // A second on, the flood's first keys have recovered: they are swept
    // out as new keys come, and new keys are admitted again.
    advance(ms(500)).await;
    let before = store.len();
    assert_eq!(flood(1, secs(1)), 1, "a new key is admitted again");
    assert!(store.len() < before, "its shard was swept");
    let admitted = 1 + flood(39_999, secs(1));
    assert_eq!(
        store.len(),
        admitted + 2,
        "every first-second key was evicted; Alice and Bob stay"
    );
    // Alice and Bob kept their exact limits through it all.
    assert_eq!(decide(&store, &ALICE, alice_quota), limited(secs(9)));
    assert_eq!(decide(&store, &BOB, bob_quota), Decision::Allowed);
    assert_eq!(decide(&store, &BOB, bob_quota), limited(secs(1)));

    advance(secs(9)).await;
    assert_eq!(decide(&store, &ALICE, alice_quota), Decision::Allowed);
}

#[test]
#[should_panic(expected = "a MemoryStore must be able to hold at least one key (max_keys > 0)")]
fn a_memory_store_of_no_keys_is_refused() {
    let _store = MemoryStore::<u32>::with_max_keys(0);
}

#[tokio::test(start_paused = true)]
async fn clones_of_a_memory_store_are_one_store() {
    let store = MemoryStore::<&str>::default();
    let clone = store.clone();
    let second = Quota::per_second(1).unwrap();
    assert_eq!(decide(&store, &"alice", second), Decision::Allowed);
    assert_eq!(
        decide(&clone, &"alice", second),
        limited(Duration::from_secs(1))
    );
    assert_eq!(clone.len(), 1);
    assert_eq!(
        store.max_keys(),
        donjon::limit::keyed::DEFAULT_MAX_KEYS,
        "the default cap"
    );
}

// Property tests against a reference GCRA.

/// donjon's documented GCRA rule, by hand: a request arriving at `now`
/// (nanoseconds) is admitted iff `max(tat, now) − now ≤ interval ×
/// (burst − 1)`, which moves `tat` to `max(tat, now) + interval`. A key
/// never seen has a TAT of zero.
fn reference(tat: u64, now: u64, quota: &Quota) -> (Decision, u64) {
    let interval = u64::try_from(quota.emission_interval().as_nanos()).unwrap();
    let tolerance = interval * (quota.burst() - 1);
    let base = tat.max(now);
    if base - now <= tolerance {
        (Decision::Allowed, base + interval)
    } else {
        let retry_after = Duration::from_nanos(base - now - tolerance);
        (Decision::Limited { retry_after }, tat)
    }
}

/// Nanoseconds from `start` to now.
fn nanos_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).expect("within 584 years")
}

/// A quota of `num` per `per_ms` milliseconds, with `burst`.
fn a_quota() -> impl Strategy<Value = Quota> {
    (1u64..20, 1u64..2000, 1u64..6).prop_map(|(num, per_ms, burst)| {
        Quota::new(num, Duration::from_millis(per_ms))
            .and_then(|quota| quota.with_burst(burst))
            .expect("a valid quota")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn memory_store_decisions_equal_a_reference_gcra_for_each_key(
        quotas in proptest::collection::vec(a_quota(), 4),
        // Which key, after an advance of so many microseconds.
        steps in proptest::collection::vec((0usize..4, 0u64..300_000), 1..300),
    ) {
        paused_runtime().block_on(async {
            let store = MemoryStore::new();
            let start = Instant::now();
            let mut tats: HashMap<usize, u64> = HashMap::new();
            let mut admitted = vec![Vec::new(); quotas.len()];
            for (key, gap_us) in steps {
                advance(Duration::from_micros(gap_us)).await;
                let now = nanos_since(start);
                let quota = quotas[key];
                let tat = tats.entry(key).or_default();
                let (expected, next) = reference(*tat, now, &quota);
                *tat = next;
                prop_assert_eq!(decide(&store, &key, quota), expected, "key {} at {} ns", key, now);
                if expected.is_allowed() {
                    admitted[key].push(now);
                }
            }
            for (times, quota) in admitted.iter().zip(&quotas) {
                check_bound(times, quota)?;
            }
            Ok(())
        })?;
    }

    #[test]
    fn with_a_tiny_cap_no_decision_is_more_permissive_than_the_reference(
        max_keys in 1usize..5,
        quota in a_quota(),
        steps in proptest::collection::vec((0usize..8, 0u64..300_000), 1..300),
    ) {
        paused_runtime().block_on(async {
            let store = MemoryStore::with_max_keys(max_keys);
            let start = Instant::now();
            // The reference runs on the requests the store admitted.
            let mut tats: HashMap<usize, u64> = HashMap::new();
            let mut admitted = vec![Vec::new(); 8];
            for (key, gap_us) in steps {
                advance(Duration::from_micros(gap_us)).await;
                let now = nanos_since(start);
                let tat = tats.entry(key).or_default();
                let (expected, next) = reference(*tat, now, &quota);
                let actual = decide(&store, &key, quota);
                if !expected.is_allowed() {
                    // A key over its limit is held: its state is never lost.
                    prop_assert_eq!(actual, expected, "key {} at {} ns", key, now);
                }
                if actual.is_allowed() {
                    *tat = next;
                    admitted[key].push(now);
                }
                prop_assert!(store.len() <= max_keys);
            }
            for times in &admitted {
                check_bound(times, &quota)?;
            }
            Ok(())
        })?;
    }
}

// Real threads.

#[test]
fn concurrent_requests_on_a_few_keys_admit_exactly_each_keys_burst() {
    const KEYS: usize = 5;
    const THREADS: usize = 4;
    const REQUESTS: usize = 2_000;
    // One an hour: no request is admitted beyond the burst while this runs.
    let quota = Quota::new(1, Duration::from_secs(3600))
        .and_then(|quota| quota.with_burst(100))
        .unwrap();
    let store = MemoryStore::<usize>::new();
    let admitted: [AtomicUsize; KEYS] = Default::default();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let store = store.clone();
            let admitted = &admitted;
            scope.spawn(move || {
                for request in 0..REQUESTS {
                    let key = (request + thread) % KEYS;
                    if decide(&store, &key, quota).is_allowed() {
                        admitted[key].fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let admitted = admitted.map(AtomicUsize::into_inner);
    assert_eq!(admitted, [100; KEYS]);
}

#[tokio::test(start_paused = true)]
async fn issue_11_a_full_store_refuses_until_its_first_key_really_expires() {
    // One key of room; 1 per second with a burst of 2.
    let store = MemoryStore::with_max_keys(1);
    let quota = Quota::per_second(1).unwrap().with_burst(2).unwrap();
    assert_eq!(decide(&store, &"alice", quota), Decision::Allowed);
    // Alice's second request pushes her expiry from 1 s to 2 s.
    assert_eq!(decide(&store, &"alice", quota), Decision::Allowed);
    assert_eq!(
        decide(&store, &"bob", quota),
        limited(Duration::from_secs(2))
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(
        decide(&store, &"bob", quota),
        limited(Duration::from_secs(1))
    );
    advance(Duration::from_secs(1)).await;
    assert_eq!(decide(&store, &"bob", quota), Decision::Allowed);
}
