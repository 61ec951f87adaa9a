use std::convert::Infallible;
use std::fmt;
use std::future::Ready;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hashbrown::HashTable;
use tokio::time::Instant;

use super::store::{Answer, Decision, RateStore};
use crate::limit::gcra::Quota;
use crate::limit::gcra::math::admit;
use crate::limit::gcra::state::nanos_since;

/// The keys a [`MemoryStore`] holds by default.
pub const DEFAULT_MAX_KEYS: usize = 100_000;

/// Below this many keys a shard is not swept for idle keys.
const MIN_SWEEP: usize = 64;

/// A [`RateStore`] in this process's memory: one GCRA state (a theoretical
/// arrival time) per key, with bounded memory.
///
/// Clones share one store. Keys are spread over shards, each behind its own
/// short lock, so that callers with different keys rarely wait for one
/// another. Deciding reads the clock once, hashes the key once (with
/// `H`, [`RandomState`] by default, whose keyed hashing keeps hostile keys
/// from colliding on purpose), and takes one shard's lock.
///
/// # Memory
///
/// - **Idle keys are evicted.** A key whose limit has fully recovered (its
///   theoretical arrival time has passed) carries no information: forgetting
///   it changes no decision. A shard sweeps such keys out when it has grown
///   to twice its size after the last sweep, so the sweeping costs O(1) per
///   request on average.
/// - **At most `max_keys` keys** ([`DEFAULT_MAX_KEYS`] unless set with
///   [`with_max_keys`](Self::with_max_keys)), split evenly over the shards.
///   When a request brings a new key to a full shard, and sweeping frees
///   nothing, the request is **limited**: [`Decision::Limited`], with a
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
pub struct MemoryStore<K, H = RandomState> {
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
}

struct Shard<K> {
    table: HashTable<Entry<K>>,
    /// Sweep idle keys once the table holds this many.
    sweep_at: usize,
    /// No key expires before this (a lower bound: it may be raised since).
    soonest: u64,
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
        Self::with_max_keys_and_hasher(max_keys, RandomState::new())
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
        let mut shards = (cores * 4).next_power_of_two().min(256);
        while shards > max_keys {
            shards /= 2;
        }
        let per_shard = max_keys / shards;
        let shards = (0..shards)
            .map(|_| {
                Mutex::new(Shard {
                    table: HashTable::new(),
                    sweep_at: MIN_SWEEP.min(per_shard),
                    soonest: u64::MAX,
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
            }),
        }
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

fn lock<K>(shard: &Mutex<Shard<K>>) -> MutexGuard<'_, Shard<K>> {
    // Plain data, consistent between statements: a panic elsewhere while
    // it was locked (in a key's `Eq`, say) leaves it usable.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<K> Shard<K> {
    /// Forgets the keys whose limit has fully recovered by `now`.
    fn sweep(&mut self, now: u64, per_shard: usize) {
        let mut soonest = u64::MAX;
        self.table.retain(|entry| {
            let keep = entry.tat > now;
            if keep {
                soonest = soonest.min(entry.tat);
            }
            keep
        });
        self.soonest = soonest;
        self.sweep_at = (self.table.len() * 2).max(MIN_SWEEP).min(per_shard);
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
        let mut shard = lock(&shared.shards[index]);
        if let Some(entry) = shard.table.find_mut(hash, |entry| entry.key == *key) {
            return match admit(entry.tat, now, &quota) {
                Ok(tat) => {
                    entry.tat = tat;
                    Decision::Allowed
                }
                Err(wait) => Decision::Limited {
                    retry_after: Duration::from_nanos(wait),
                },
            };
        }
        self.insert(&mut shard, hash, key, now, quota)
    }

    /// A request for a key the shard does not hold: a quiet limit, which
    /// admits it, if the shard has room for the key.
    #[cold]
    fn insert(&self, shard: &mut Shard<K>, hash: u64, key: &K, now: u64, quota: Quota) -> Decision {
        let per_shard = self.shared.per_shard;
        if shard.table.len() >= shard.sweep_at && now >= shard.soonest {
            shard.sweep(now, per_shard);
        }
        if shard.table.len() >= per_shard {
            let retry_after = Duration::from_nanos(shard.soonest.saturating_sub(now));
            let warn = !shard.warned;
            shard.warned = true;
            if warn {
                tracing::warn!(
                    max_keys = self.shared.max_keys,
                    ?retry_after,
                    "keyed rate limit store is full: requests with new keys are limited until \
                     held keys expire"
                );
            }
            return Decision::Limited { retry_after };
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
        Decision::Allowed
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
