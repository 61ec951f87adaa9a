use std::convert::Infallible;
use std::fmt;
use std::future::Ready;
use std::hash::{BuildHasher, Hash};
use std::sync::Arc;
use std::time::Duration;

use hashbrown::{DefaultHashBuilder, HashTable};
use tokio::time::Instant;

use super::store::{Answer, Decision, RateStore};
use crate::limit::gcra::Quota;
use crate::limit::gcra::math::admit;
use crate::limit::gcra::state::nanos_since;
use crate::sync::{Mutex, lock};

/// The keys a [`MemoryStore`] holds by default.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// The fewest keys a shard holds, unless the whole store holds fewer.
const MIN_SHARE: usize = 64;

/// How long a [`MemoryStore`] keeps a key whose limit has recovered, by
/// default, while it has room.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(1);

/// A [`RateStore`] in this process's memory: one GCRA state (a theoretical
/// arrival time) per key, with bounded memory.
///
/// Clones share one store. Keys are spread over shards, each behind its own
/// short lock, so that callers with different keys rarely wait for one
/// another. Deciding reads the clock once, hashes the key once, and takes
/// one shard's lock. Keys are hashed with `H`: by default
/// [`DefaultHashBuilder`] (foldhash, seeded at random for each store, so
/// that keys cannot be chosen to collide without knowing the seed); a
/// shard's table is bounded whatever the keys, so colliding keys slow their
/// own shard down and nothing else.
///
/// # Memory
///
/// - **Idle keys are evicted.** A key whose limit has fully recovered (its
///   theoretical arrival time has passed) carries no information: forgetting
///   it changes no decision. When a new key finds its shard's table full,
///   the shard first sweeps out the keys that have been recovered for
///   longer than the idle timeout ([`DEFAULT_IDLE_TIMEOUT`] unless set with
///   [`with_idle_timeout`](Self::with_idle_timeout)), and grows only if that
///   frees nothing: keys in steady use stay, and are not swept out and
///   inserted again between their requests. Each sweep is paid for by the
///   insertions that filled the table, so it costs O(1) per request on
///   average.
/// - **At most `max_keys` keys** ([`DEFAULT_MAX_KEYS`] unless set with
///   [`with_max_keys`](Self::with_max_keys)), split evenly over the shards
///   (at most 4 per core, each holding at least 64 keys unless the store
///   holds fewer in all).
///   When a request brings a new key to a shard that holds its share, every
///   recovered key of the shard is swept out, idle timeout or not; if that
///   frees nothing, the request is **limited**: [`Decision::Limited`], with a
///   `retry_after` of when the shard's first key will expire, and a
///   `tracing` warning (once until the shard has room again). Keys already
///   held keep their limits. A flood of distinct keys therefore never grows
///   memory past the cap, and never lifts the limit of a known key; each
///   key it adds expires at most `burst × emission interval` after its last
///   request.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{Answer, Decision, MemoryStore, RateStore};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// let store = MemoryStore::<String>::new();
/// let quota = Quota::new(1, Duration::from_secs(1))?;
/// let alice = "alice".to_string();
///
/// let decide = |key: &String| match store.acquire(key, quota) {
///     Answer::Now(decision) => decision.unwrap(),
///     Answer::Later(_) => unreachable!("a memory store always answers at once"),
/// };
/// assert_eq!(decide(&alice), Decision::Allowed);
/// assert_eq!(decide(&alice), Decision::Limited { retry_after: Duration::from_secs(1) });
/// // Another key has its own limit.
/// assert_eq!(decide(&"bob".to_string()), Decision::Allowed);
/// # Ok(())
/// # }
/// ```
pub struct MemoryStore<K, H = DefaultHashBuilder> {
    shared: Arc<Shared<K, H>>,
}

struct Shared<K, H> {
    shards: Box<[Mutex<Shard<K>>]>,
    hasher: H,
    origin: Instant,
    /// `shards.len() - 1`; the number of shards is a power of two.
    mask: usize,
    /// Keys per shard at most.
    per_shard: usize,
    max_keys: usize,
    /// How long a recovered key is kept while there is room, in nanoseconds.
    idle: u64,
}

struct Shard<K> {
    table: HashTable<Entry<K>>,
    /// No key expires before this (a lower bound: it may be raised since).
    soonest: u64,
    /// The key that expired first was used since `soonest` was computed:
    /// the bound may be too low.
    stale: bool,
    /// A warning that the shard is full was given since it last had room.
    warned: bool,
}

struct Entry<K> {
    hash: u64,
    /// Theoretical arrival time, in nanoseconds from the store's origin.
    tat: u64,
    key: K,
}

impl<K> MemoryStore<K> {
    /// An empty store holding at most [`DEFAULT_MAX_KEYS`] keys.
    pub fn new() -> Self {
        Self::with_max_keys(DEFAULT_MAX_KEYS)
    }

    /// An empty store holding at most `max_keys` keys.
    ///
    /// # Panics
    ///
    /// If `max_keys` is zero: such a store could not limit any key.
    pub fn with_max_keys(max_keys: usize) -> Self {
        Self::with_max_keys_and_hasher(max_keys, DefaultHashBuilder::default())
    }
}

impl<K, H> MemoryStore<K, H> {
    /// An empty store holding at most `max_keys` keys, hashing them with
    /// `hasher`.
    ///
    /// # Panics
    ///
    /// If `max_keys` is zero: such a store could not limit any key.
    pub fn with_max_keys_and_hasher(max_keys: usize, hasher: H) -> Self {
        assert!(
            max_keys > 0,
            "a MemoryStore must be able to hold at least one key (max_keys > 0)"
        );
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let shards = shards_for(cores, max_keys);
        let per_shard = max_keys / shards;
        let shards = (0..shards)
            .map(|_| {
                Mutex::new(Shard {
                    table: HashTable::new(),
                    soonest: u64::MAX,
                    stale: false,
                    warned: false,
                })
            })
            .collect::<Box<[_]>>();
        MemoryStore {
            shared: Arc::new(Shared {
                mask: shards.len() - 1,
                shards,
                hasher,
                origin: Instant::now(),
                per_shard,
                max_keys,
                idle: nanos(DEFAULT_IDLE_TIMEOUT),
            }),
        }
    }

    /// Keeps keys whose limit has recovered for `idle` while the store has
    /// room, instead of [`DEFAULT_IDLE_TIMEOUT`]; a store that reached its
    /// cap evicts them whatever their idle time.
    ///
    /// A longer timeout keeps a larger working set of keys in memory and
    /// spares it being inserted again; a shorter one gives memory back
    /// sooner. Call it before sharing the store.
    ///
    /// # Panics
    ///
    /// If the store is already shared (cloned).
    pub fn with_idle_timeout(mut self, idle: Duration) -> Self {
        Arc::get_mut(&mut self.shared)
            .expect("MemoryStore::with_idle_timeout must be called before the store is cloned")
            .idle = nanos(idle);
        self
    }

    /// The most keys the store holds.
    pub fn max_keys(&self) -> usize {
        self.shared.max_keys
    }

    /// The keys held now, idle ones not yet swept out included.
    pub fn len(&self) -> usize {
        self.shared
            .shards
            .iter()
            .map(|shard| lock(shard).table.len())
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How many shards a store of `max_keys` keys gets on `cores` cores: a
/// power of two, about 4 per core (at most 256), fewer if that would give
/// a shard less than [`MIN_SHARE`] keys.
fn shards_for(cores: usize, max_keys: usize) -> usize {
    let mut shards = (cores.max(1) * 4).next_power_of_two().min(256);
    // Each shard holds its share of the keys: keep shares large enough
    // that one busy shard does not refuse new keys while the store is far
    // from full.
    while shards > 1 && max_keys / shards < MIN_SHARE {
        shards /= 2;
    }
    shards
}

/// `duration` in nanoseconds, saturating.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl<K> Shard<K> {
    /// Forgets the keys whose limit had fully recovered by `before`.
    fn sweep(&mut self, before: u64) {
        let mut soonest = u64::MAX;
        self.table.retain(|entry| {
            let keep = entry.tat > before;
            if keep {
                soonest = soonest.min(entry.tat);
            }
            keep
        });
        self.soonest = soonest;
        self.stale = false;
    }
}

impl<K, H> MemoryStore<K, H>
where
    K: Hash + Eq + Clone,
    H: BuildHasher,
{
    /// Decides for one request for `key` arriving now.
    #[inline]
    pub fn decide(&self, key: &K, quota: Quota) -> Decision {
        let shared = &*self.shared;
        let hash = shared.hasher.hash_one(key);
        // The table uses the low bits (bucket) and the top 7 (tag) of the
        // hash: pick the shard with bits from the middle.
        let index = (hash >> 40) as usize & shared.mask;
        let now = nanos_since(shared.origin, Instant::now());
        let mut guard = lock(&shared.shards[index]);
        let shard = &mut *guard;
        if let Some(entry) = shard.table.find_mut(hash, |entry| entry.key == *key) {
            return match admit(entry.tat, now, &quota) {
                Ok(tat) => {
                    if entry.tat <= shard.soonest {
                        // The first key to expire expires later now.
                        shard.stale = true;
                    }
                    entry.tat = tat;
                    Decision::Allowed
                }
                Err(wait) => Decision::Limited {
                    retry_after: Duration::from_nanos(wait),
                },
            };
        }
        let (decision, full) = self.insert(shard, hash, key, now, quota);
        drop(guard);
        if let (true, Decision::Limited { retry_after }) = (full, decision) {
            tracing::warn!(
                max_keys = shared.max_keys,
                ?retry_after,
                "keyed rate limit store is full: requests with new keys are limited until \
                 held keys expire"
            );
        }
        decision
    }

    /// A request for a key the shard does not hold: a quiet limit, which
    /// admits it, if the shard has room for the key. Also says whether the
    /// shard just became full, to be reported once the lock is released.
    #[cold]
    fn insert(
        &self,
        shard: &mut Shard<K>,
        hash: u64,
        key: &K,
        now: u64,
        quota: Quota,
    ) -> (Decision, bool) {
        let per_shard = self.shared.per_shard;
        if shard.table.len() >= per_shard {
            // At the cap: every recovered key goes, and the refusal below
            // needs to know when the first key expires.
            if now >= shard.soonest || shard.stale {
                shard.sweep(now);
            }
        } else if shard.table.len() == shard.table.capacity() {
            // Before growing: the keys idle for long go.
            let before = now.saturating_sub(self.shared.idle);
            if before >= shard.soonest {
                shard.sweep(before);
            }
        }
        if shard.table.len() >= per_shard {
            let retry_after = Duration::from_nanos(shard.soonest.saturating_sub(now));
            let full = !shard.warned;
            shard.warned = true;
            return (Decision::Limited { retry_after }, full);
        }
        shard.warned = false;
        let tat = match admit(0, now, &quota) {
            Ok(tat) => tat,
            // A quiet limit admits at least one request (burst ≥ 1).
            Err(_) => unreachable!("a quiet GCRA limit admits a request"),
        };
        shard.soonest = shard.soonest.min(tat);
        shard.table.insert_unique(
            hash,
            Entry {
                hash,
                tat,
                key: key.clone(),
            },
            |entry| entry.hash,
        );
        (Decision::Allowed, false)
    }
}

impl<K, H> RateStore<K> for MemoryStore<K, H>
where
    K: Hash + Eq + Clone,
    H: BuildHasher,
{
    type Error = Infallible;
    type Future = Ready<Result<Decision, Infallible>>;

    #[inline]
    fn acquire(&self, key: &K, quota: Quota) -> Answer<Self::Future, Infallible> {
        Answer::Now(Ok(self.decide(key, quota)))
    }
}

impl<K> Default for MemoryStore<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, H> Clone for MemoryStore<K, H> {
    /// The same store.
    fn clone(&self) -> Self {
        MemoryStore {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K, H> fmt::Debug for MemoryStore<K, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("keys", &self.len())
            .field("max_keys", &self.shared.max_keys)
            .field("shards", &self.shared.shards.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::shards_for;

    #[test]
    fn issue_11_shards_keep_a_share_of_at_least_64_keys_however_many_cores() {
        // 64 cores once gave a store of 1000 keys 256 shards of 3 keys,
        // and refused new keys at a third of its room.
        assert_eq!(shards_for(64, 1000), 8);
        assert_eq!(shards_for(64, 100), 1);
        assert_eq!(shards_for(64, 1_000_000), 256);
        assert_eq!(shards_for(2, 100_000), 8);
        assert_eq!(shards_for(1, 1), 1);
        assert_eq!(shards_for(0, 10), 1);
    }
}
