use std::cell::RefCell;
use std::fmt::{self, Display, Write};
use std::sync::Arc;
use std::time::Duration;

use donjon::limit::gcra::Quota;
use donjon::limit::keyed::error::InvalidKey;
use donjon::limit::keyed::{Answer, Decision, MemoryStore, RateStore};
use redis::aio::ConnectionManager;
use tokio::time::Instant;

use super::batch::{Batches, Gate, Take};
use super::builder::RedisStoreBuilder;
use super::future::AcquireFuture;
use super::script::{self, Micros};
use crate::OnFailure;
use crate::error::StoreError;
use crate::health::Health;

/// A [`RateStore`] in Redis: one GCRA limit per key, shared by every
/// process using the same Redis, decided on Redis's clock.
///
/// Use it with donjon's [`KeyedRateLimit`](donjon::limit::keyed::KeyedRateLimit)
/// (a server limiting each client) or
/// [`SharedRateLimit`](donjon::limit::keyed::SharedRateLimit) (clients
/// sharing an API's limit). Clones share one store, cheaply (an `Arc`).
///
/// Build it from a redis-rs [`ConnectionManager`] ([`connect`](crate::connect)
/// opens one) with [`RedisStore::new`] or, to change the defaults,
/// [`RedisStore::builder`].
///
/// # Keys
///
/// A key `k` of any type that implements [`Display`] is kept in the Redis
/// key `prefix + k` ([`DEFAULT_PREFIX`](super::DEFAULT_PREFIX) unless set),
/// which holds the key's theoretical arrival time and expires when the
/// limit has fully recovered: idle keys cost Redis nothing. A key whose
/// text is empty, or longer than the
/// [maximum](RedisStoreBuilder::with_max_key_len)
/// ([`DEFAULT_MAX_KEY_LEN`](super::DEFAULT_MAX_KEY_LEN) bytes unless set),
/// is refused with [`InvalidKey`] by
/// [`check_key`](RateStore::check_key), and answered at once with a
/// [`StoreError`] by [`acquire`](RateStore::acquire); neither panics.
///
/// # Decisions
///
/// Each decision is one call of a script in Redis (`EVALSHA`), which reads
/// Redis's clock, applies GCRA and stores the result: one round trip, no
/// trust in the clocks of the processes, and the limit is exact across the
/// fleet. [`acquire`](RateStore::acquire) answers
/// [`Answer::Later`] with an [`AcquireFuture`], or, with
/// [batching](super#batching), [`Answer::Now`] when a permit taken ahead is
/// held.
///
/// The script counts in microseconds: an emission interval is rounded up
/// to the microsecond (a limit faster than one request per microsecond per
/// key is one per microsecond), and intervals and tolerances
/// (`interval × (burst − 1)`) beyond about 71 years are taken as 71 years.
///
/// # Errors
///
/// Each call to Redis is bounded by the call timeout
/// ([`DEFAULT_CALL_TIMEOUT`](super::DEFAULT_CALL_TIMEOUT) unless set). When
/// Redis does not answer in time, or fails, the [`OnFailure`] policy
/// decides: allowed ([`FailOpen`](OnFailure::FailOpen), the default), a
/// [`StoreError`] ([`FailClosed`](OnFailure::FailClosed)), or an in-process
/// limit of the quota divided among the replicas
/// ([`Local`](OnFailure::Local)). The next decision asks Redis again. A
/// call that timed out may still reach Redis and count against the key.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{Answer, Decision, RateStore};
/// use donjon_redis::RedisStore;
/// use donjon_redis::error::StoreError;
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// # let server = RedisServer::start();
/// # let url = server.url();
/// let store = RedisStore::new(donjon_redis::connect(&url).await?);
/// // One request per hour: the second is refused for about an hour.
/// let quota = Quota::new(1, Duration::from_secs(3600))?;
///
/// async fn decide(store: &RedisStore, key: &str, quota: Quota) -> Result<Decision, StoreError> {
///     match store.acquire(key, quota) {
///         Answer::Now(decision) => decision,
///         Answer::Later(future) => future.await,
///     }
/// }
/// assert_eq!(decide(&store, "user:7", quota).await?, Decision::Allowed);
/// let Decision::Limited { retry_after } = decide(&store, "user:7", quota).await? else {
///     panic!("one per hour");
/// };
/// assert!(retry_after > Duration::from_secs(3590));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: ConnectionManager,
    prefix: String,
    max_key_len: usize,
    call_timeout: Duration,
    on_failure: OnFailure,
    /// The in-process limits of [`OnFailure::Local`].
    local: Option<MemoryStore<String>>,
    batches: Option<Batches>,
    health: Health,
}

/// How a decision that needs Redis asks it.
enum Ask {
    /// For one permit.
    Single,
    /// For a batch, in turn with the other fetches of the key.
    Batch(Gate),
}

thread_local! {
    /// Where keys are formatted, so that a decision made without Redis
    /// allocates nothing.
    static NAME: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A formatting buffer grown past this is not kept.
const MAX_KEPT_NAME: usize = 1024;

impl RedisStore {
    /// A store on `connection` with the default settings: see
    /// [`RedisStoreBuilder`].
    pub fn new(connection: ConnectionManager) -> Self {
        RedisStore::builder(connection).assemble()
    }

    /// A builder of a store on `connection`, to change the default
    /// settings.
    pub fn builder(connection: ConnectionManager) -> RedisStoreBuilder {
        RedisStoreBuilder::new(connection)
    }

    pub(super) fn from_parts(
        connection: ConnectionManager,
        prefix: String,
        max_key_len: usize,
        call_timeout: Duration,
        on_failure: OnFailure,
        batch: Option<(u64, Duration, usize)>,
    ) -> Self {
        let local = matches!(on_failure, OnFailure::Local { .. }).then(MemoryStore::new);
        RedisStore {
            inner: Arc::new(Inner {
                connection,
                prefix,
                max_key_len,
                call_timeout,
                on_failure,
                local,
                batches: batch
                    .map(|(size, max_age, max_keys)| Batches::new(size, max_age, max_keys)),
                health: Health::new("rate store", None),
            }),
        }
    }

    /// The longest a call to Redis may take.
    pub fn call_timeout(&self) -> Duration {
        self.inner.call_timeout
    }

    /// What decides when Redis cannot.
    pub fn on_failure(&self) -> OnFailure {
        self.inner.on_failure
    }

    /// The permits asked for per round trip: 1 without batching.
    pub fn batch(&self) -> u64 {
        self.inner.batches.as_ref().map_or(1, Batches::size)
    }

    /// How long permits taken ahead are kept, with batching.
    pub fn batch_max_age(&self) -> Option<Duration> {
        self.inner.batches.as_ref().map(Batches::max_age)
    }

    /// What the names of Redis keys start with.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The longest key accepted, in bytes of its text.
    pub fn max_key_len(&self) -> usize {
        self.inner.max_key_len
    }

    /// The connection to Redis.
    pub fn connection(&self) -> &ConnectionManager {
        &self.inner.connection
    }
}

impl Inner {
    /// Runs `f` with the Redis key of `key`, or why it is refused.
    fn with_name<K, R>(&self, key: &K, f: impl FnOnce(Result<&str, InvalidKey>) -> R) -> R
    where
        K: Display + ?Sized,
    {
        NAME.with(|cell| match cell.try_borrow_mut() {
            Ok(mut name) => {
                let result = f(self.format(&mut name, key));
                if name.capacity() > MAX_KEPT_NAME {
                    *name = String::new();
                }
                result
            }
            // `K::fmt` called the store: not worth a panic.
            Err(_) => f(self.format(&mut String::new(), key)),
        })
    }

    fn format<'a, K>(&self, name: &'a mut String, key: &K) -> Result<&'a str, InvalidKey>
    where
        K: Display + ?Sized,
    {
        name.clear();
        name.push_str(&self.prefix);
        // An error of `K::fmt` leaves what it wrote, which is checked below.
        let _ = write!(name, "{key}");
        let len = name.len() - self.prefix.len();
        if len == 0 {
            Err(InvalidKey::empty())
        } else if len > self.max_key_len {
            Err(InvalidKey::too_long(len, self.max_key_len))
        } else {
            Ok(name)
        }
    }

    /// Asks Redis, within the call timeout, falling back on the policy.
    async fn ask(
        self: Arc<Self>,
        name: String,
        quota: Quota,
        ask: Ask,
    ) -> Result<Decision, StoreError> {
        let micros = Micros::of(&quota);
        let mut connection = self.connection.clone();
        let asked = async {
            match (&ask, &self.batches) {
                (Ask::Batch(gate), Some(batches)) => {
                    let _turn = gate.lock().await;
                    if let Some(decision) = batches.retake(&name, Instant::now()) {
                        return Ok(decision);
                    }
                    let answer =
                        script::call(&mut connection, &name, micros, batches.size()).await?;
                    self.health.answered();
                    Ok(batches.settle(&name, answer, Instant::now()))
                }
                _ => {
                    let answer = script::call(&mut connection, &name, micros, 1).await?;
                    self.health.answered();
                    Ok(if answer.granted > 0 {
                        Decision::Allowed
                    } else {
                        Decision::Limited {
                            retry_after: answer.wait,
                        }
                    })
                }
            }
        };
        let error = match tokio::time::timeout(self.call_timeout, asked).await {
            Ok(Ok(decision)) => return Ok(decision),
            Ok(Err(error)) => StoreError::redis(error),
            Err(_) => StoreError::timeout(self.call_timeout),
        };
        self.fall_back(&name, quota, error)
    }

    /// The failure policy's decision.
    fn fall_back(
        &self,
        name: &String,
        quota: Quota,
        error: StoreError,
    ) -> Result<Decision, StoreError> {
        self.health.failed(&error, self.on_failure);
        let decision = match (self.on_failure, &self.local) {
            (OnFailure::FailClosed, _) => Err(error),
            (OnFailure::Local { replicas }, Some(local)) => {
                // A share too large to count is taken as one request per
                // period: the most cautious.
                let share = quota
                    .divided_among(replicas)
                    .or_else(|_| Quota::new(1, quota.per()))
                    .unwrap_or(quota);
                Ok(local.decide(name, share))
            }
            (OnFailure::FailOpen | OnFailure::Local { .. }, _) => Ok(Decision::Allowed),
        };
        tracing::debug!(
            key = %name,
            policy = %self.on_failure,
            decision = ?decision,
            "redis could not decide: the failure policy did"
        );
        decision
    }
}

impl<K> RateStore<K> for RedisStore
where
    K: Display + ?Sized,
{
    type Error = StoreError;
    type Future = AcquireFuture;

    fn acquire(&self, key: &K, quota: Quota) -> Answer<AcquireFuture, StoreError> {
        self.inner.with_name(key, |name| {
            let name = match name {
                Ok(name) => name,
                Err(error) => return Answer::Now(Err(StoreError::invalid_key(error))),
            };
            let ask = match &self.inner.batches {
                None => Ask::Single,
                Some(batches) => match batches.take(name, Instant::now()) {
                    Take::Decided(decision) => return Answer::Now(Ok(decision)),
                    Take::Fetch(gate) => Ask::Batch(gate),
                    Take::Single => Ask::Single,
                },
            };
            let inner = Arc::clone(&self.inner);
            Answer::Later(AcquireFuture::new(inner.ask(name.to_owned(), quota, ask)))
        })
    }

    fn check_key(&self, key: &K) -> Result<(), InvalidKey> {
        self.inner.with_name(key, |name| name.map(drop))
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        f.debug_struct("RedisStore")
            .field("prefix", &inner.prefix)
            .field("call_timeout", &inner.call_timeout)
            .field("on_failure", &inner.on_failure)
            .field("batch", &self.batch())
            .field("max_key_len", &inner.max_key_len)
            .field("redis_answering", &inner.health.is_healthy())
            .finish_non_exhaustive()
    }
}
