//! Permits taken ahead from Redis, per key, and what this store learnt of
//! the keys that are over their limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use donjon::limit::keyed::Decision;
use tokio::time::Instant;

use super::script::Granted;

/// Below this many keys the map is not swept.
const MIN_SWEEP: usize = 64;

/// The turn to fetch a key's next batch: one fetch per key at a time.
pub(super) type Gate = Arc<tokio::sync::Mutex<()>>;

/// The permits a store holds for the keys it batches.
#[derive(Debug)]
pub(super) struct Batches {
    size: u64,
    max_age: Duration,
    max_keys: usize,
    slots: Mutex<Slots>,
}

#[derive(Debug)]
struct Slots {
    map: HashMap<String, Slot>,
    /// Sweep when the map holds this many keys.
    sweep_at: usize,
    /// A sweep left the map full: no other until then.
    no_sweep_until: Option<Instant>,
}

#[derive(Debug)]
struct Slot {
    /// Permits granted by Redis and not used yet.
    permits: u64,
    /// When the permits are dropped, unused.
    expires: Instant,
    /// Redis said no permit would be granted before then.
    limited_until: Option<Instant>,
    gate: Gate,
}

/// What a store can decide without Redis.
#[derive(Debug)]
pub(super) enum Take {
    /// A held permit, or a known refusal.
    Decided(Decision),
    /// Fetch a batch, in turn with the others on this key.
    Fetch(Gate),
    /// Ask Redis for one permit: the map is full of keys in use.
    Single,
}

impl Batches {
    pub(super) fn new(size: u64, max_age: Duration, max_keys: usize) -> Self {
        Batches {
            size,
            max_age,
            max_keys,
            slots: Mutex::new(Slots {
                map: HashMap::new(),
                sweep_at: MIN_SWEEP.min(max_keys),
                no_sweep_until: None,
            }),
        }
    }

    /// The permits asked for per round trip.
    pub(super) fn size(&self) -> u64 {
        self.size
    }

    /// How long permits taken ahead are kept.
    pub(super) fn max_age(&self) -> Duration {
        self.max_age
    }

    fn lock(&self) -> MutexGuard<'_, Slots> {
        // Plain data, consistent between statements.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a held permit for `name`, or says how to get one.
    pub(super) fn take(&self, name: &str, now: Instant) -> Take {
        let mut slots = self.lock();
        if let Some(slot) = slots.map.get_mut(name) {
            return match slot.take(now) {
                Some(decision) => Take::Decided(decision),
                None => Take::Fetch(Arc::clone(&slot.gate)),
            };
        }
        match slots.insert(name, now, self.max_keys, self.max_age) {
            Some(gate) => Take::Fetch(gate),
            None => Take::Single,
        }
    }

    /// Once a fetch's turn came: a permit the previous fetch left, or the
    /// refusal it learnt.
    pub(super) fn retake(&self, name: &str, now: Instant) -> Option<Decision> {
        self.lock().map.get_mut(name)?.take(now)
    }

    /// Keeps what a fetch brought (all but the permit used by the request
    /// that fetched), and decides for that request.
    pub(super) fn settle(&self, name: &str, answer: Granted, now: Instant) -> Decision {
        let decision = if answer.granted > 0 {
            Decision::Allowed
        } else {
            Decision::Limited {
                retry_after: answer.wait,
            }
        };
        let mut slots = self.lock();
        if let Some(slot) = slots.map.get_mut(name) {
            if answer.granted > 0 {
                slot.permits = answer.granted - 1;
                slot.expires = now + self.max_age;
            }
            // Other processes only push the key's arrival time later: no
            // permit can be granted before the wait Redis gave.
            slot.limited_until = (!answer.wait.is_zero()).then(|| now + answer.wait);
        }
        decision
    }

    /// The keys held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map.len()
    }
}

impl Slots {
    /// A slot for a new key, if there is room for it.
    fn insert(
        &mut self,
        name: &str,
        now: Instant,
        max_keys: usize,
        max_age: Duration,
    ) -> Option<Gate> {
        if self.map.len() >= self.sweep_at {
            self.sweep(now, max_keys, max_age);
        }
        if self.map.len() >= max_keys {
            return None;
        }
        let gate = Gate::default();
        self.map.insert(
            name.to_owned(),
            Slot {
                permits: 0,
                expires: now,
                limited_until: None,
                gate: Arc::clone(&gate),
            },
        );
        Some(gate)
    }

    /// Drops the keys that hold nothing: no fresh permit, no known
    /// refusal, no fetch waiting. Keys with a known refusal go too if the
    /// map is still full: they only save round trips.
    fn sweep(&mut self, now: Instant, max_keys: usize, max_age: Duration) {
        if self.no_sweep_until.is_some_and(|until| now < until) {
            return;
        }
        self.map
            .retain(|_, slot| slot.in_use(now) || slot.is_limited(now));
        if self.map.len() >= max_keys {
            self.map.retain(|_, slot| slot.in_use(now));
        }
        let len = self.map.len();
        self.sweep_at = (len * 2).max(MIN_SWEEP).min(max_keys);
        // Every permit held expires within `max_age`: sweeping again
        // sooner would mostly find the same keys.
        self.no_sweep_until = (len >= max_keys).then(|| now + max_age / 4);
    }
}

impl Slot {
    /// A held permit, or a known refusal.
    fn take(&mut self, now: Instant) -> Option<Decision> {
        if self.permits > 0 {
            if now < self.expires {
                self.permits -= 1;
                return Some(Decision::Allowed);
            }
            self.permits = 0;
        }
        match self.limited_until {
            Some(until) if until > now => Some(Decision::Limited {
                retry_after: until - now,
            }),
            _ => None,
        }
    }

    /// Holds fresh permits, or a fetch is under way or waiting.
    fn in_use(&self, now: Instant) -> bool {
        (self.permits > 0 && now < self.expires) || Arc::strong_count(&self.gate) > 1
    }

    fn is_limited(&self, now: Instant) -> bool {
        self.limited_until.is_some_and(|until| until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(granted: u64, wait_ms: u64) -> Granted {
        Granted {
            granted,
            wait: Duration::from_millis(wait_ms),
        }
    }

    fn fetch(batches: &Batches, name: &str, now: Instant) -> Gate {
        match batches.take(name, now) {
            Take::Fetch(gate) => gate,
            other => panic!("expected a fetch, got {other:?}"),
        }
    }

    #[test]
    fn a_batch_serves_its_permits_then_asks_again() {
        let batches = Batches::new(3, Duration::from_secs(1), 10);
        let now = Instant::now();
        let _gate = fetch(&batches, "k", now);
        assert_eq!(batches.settle("k", granted(3, 0), now), Decision::Allowed);
        for _ in 0..2 {
            assert!(matches!(
                batches.take("k", now),
                Take::Decided(Decision::Allowed)
            ));
        }
        assert!(matches!(batches.take("k", now), Take::Fetch(_)));
    }

    #[test]
    fn permits_older_than_the_max_age_are_dropped() {
        let batches = Batches::new(5, Duration::from_millis(100), 10);
        let now = Instant::now();
        let _gate = fetch(&batches, "k", now);
        batches.settle("k", granted(5, 0), now);
        let later = now + Duration::from_millis(100);
        assert!(matches!(batches.take("k", later), Take::Fetch(_)));
    }

    #[test]
    fn a_refusal_is_remembered_until_its_wait_is_over() {
        let batches = Batches::new(5, Duration::from_secs(1), 10);
        let now = Instant::now();
        let _gate = fetch(&batches, "k", now);
        // Two granted, and the next one in 300 ms.
        assert_eq!(batches.settle("k", granted(2, 300), now), Decision::Allowed);
        assert!(matches!(
            batches.take("k", now),
            Take::Decided(Decision::Allowed)
        ));
        let soon = now + Duration::from_millis(100);
        match batches.take("k", soon) {
            Take::Decided(Decision::Limited { retry_after }) => {
                assert_eq!(retry_after, Duration::from_millis(200));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(matches!(
            batches.take("k", now + Duration::from_millis(300)),
            Take::Fetch(_)
        ));
    }

    #[test]
    fn the_map_is_bounded_and_keeps_keys_in_use() {
        let batches = Batches::new(2, Duration::from_secs(1), 2);
        let now = Instant::now();
        let a = fetch(&batches, "a", now);
        let b = fetch(&batches, "b", now);
        // Both fetches are under way: a third key is asked for singly.
        assert!(matches!(batches.take("c", now), Take::Single));
        // `a` holds a permit; `b` finished with nothing held.
        batches.settle("a", granted(2, 0), now);
        batches.settle("b", granted(1, 0), now);
        drop((a, b));
        // The full map was swept not long ago.
        assert!(matches!(batches.take("c", now), Take::Single));
        let later = now + Duration::from_millis(250);
        let _c = fetch(&batches, "c", later);
        assert_eq!(batches.len(), 2);
        assert!(matches!(
            batches.take("a", later),
            Take::Decided(Decision::Allowed)
        ));
    }
}
