use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{
    DEFAULT_BATCH_MAX_AGE, DEFAULT_BATCH_MAX_KEYS, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_KEY_LEN,
    DEFAULT_PREFIX, RedisStore,
};
use crate::OnFailure;
use crate::error::{ConfigKind, InvalidConfig};

/// The settings of a [`RedisStore`], checked by [`build`](Self::build).
///
/// | setting | default |
/// |---|---|
/// | [`with_call_timeout`](Self::with_call_timeout) | [`DEFAULT_CALL_TIMEOUT`] (100 ms) |
/// | [`with_on_failure`](Self::with_on_failure) | [`OnFailure::FailOpen`] |
/// | [`with_batch`](Self::with_batch) | 1: no batching |
/// | [`with_batch_max_age`](Self::with_batch_max_age) | [`DEFAULT_BATCH_MAX_AGE`] (1 s) |
/// | [`with_batch_max_keys`](Self::with_batch_max_keys) | [`DEFAULT_BATCH_MAX_KEYS`] (10 000) |
/// | [`with_max_key_len`](Self::with_max_key_len) | [`DEFAULT_MAX_KEY_LEN`] (512 bytes) |
/// | [`with_prefix`](Self::with_prefix) | [`DEFAULT_PREFIX`] (`"donjon:rate:"`) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon_redis::{OnFailure, RedisStore};
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// let store = RedisStore::builder(connection.clone())
///     .with_call_timeout(Duration::from_millis(20))
///     .with_on_failure(OnFailure::FailClosed)
///     .with_prefix("api:limits:")
///     .build()?;
/// assert_eq!(store.prefix(), "api:limits:");
///
/// // Checked when built.
/// let error = RedisStore::builder(connection).with_call_timeout(Duration::ZERO).build().unwrap_err();
/// assert!(error.is_zero_call_timeout());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct RedisStoreBuilder {
    connection: ConnectionManager,
    call_timeout: Duration,
    on_failure: OnFailure,
    batch: u64,
    batch_max_age: Duration,
    batch_max_keys: usize,
    max_key_len: usize,
    prefix: String,
}

impl RedisStoreBuilder {
    pub(super) fn new(connection: ConnectionManager) -> Self {
        RedisStoreBuilder {
            connection,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            on_failure: OnFailure::default(),
            batch: 1,
            batch_max_age: DEFAULT_BATCH_MAX_AGE,
            batch_max_keys: DEFAULT_BATCH_MAX_KEYS,
            max_key_len: DEFAULT_MAX_KEY_LEN,
            prefix: DEFAULT_PREFIX.to_owned(),
        }
    }

    /// The longest a call to Redis may take before the
    /// [failure policy](Self::with_on_failure) decides instead. Must be
    /// longer than zero.
    ///
    /// It bounds the whole decision: with batching, the wait for another
    /// request's fetch of the same key counts.
    pub fn with_call_timeout(mut self, call_timeout: Duration) -> Self {
        self.call_timeout = call_timeout;
        self
    }

    /// What decides when Redis is too slow or fails: see [`OnFailure`].
    /// [`OnFailure::Local`] needs at least one replica.
    pub fn with_on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// Asks Redis for up to `permits` permits per round trip, keeping the
    /// ones not used at once for the next requests of the same key. 1 (the
    /// default) asks for one per request; 0 is refused.
    ///
    /// See [batching](super#batching) for what it saves and the overshoot
    /// it allows.
    pub fn with_batch(mut self, permits: u64) -> Self {
        self.batch = permits;
        self
    }

    /// How long permits taken ahead are kept: unused after that, they are
    /// dropped (they were counted by Redis, and are lost). Must be longer
    /// than zero.
    pub fn with_batch_max_age(mut self, max_age: Duration) -> Self {
        self.batch_max_age = max_age;
        self
    }

    /// How many keys may hold permits taken ahead at once. Requests for
    /// further keys ask Redis for one permit each, until keys free up
    /// (those with no permit left, no refusal to remember and no fetch under
    /// way). Must be at least 1.
    pub fn with_batch_max_keys(mut self, max_keys: usize) -> Self {
        self.batch_max_keys = max_keys;
        self
    }

    /// The longest key accepted, in bytes of its text (the prefix not
    /// counted). Must be at least 1.
    pub fn with_max_key_len(mut self, max_key_len: usize) -> Self {
        self.max_key_len = max_key_len;
        self
    }

    /// What the names of the Redis keys start with, to keep them apart
    /// from other data, or the limits of one application from another's.
    /// Stores sharing a limit must use the same prefix.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Builds the store.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for a zero call timeout, zero replicas of a local
    /// fallback, a zero batch size, batch age or number of batched keys,
    /// or a zero maximum key length.
    pub fn build(self) -> Result<RedisStore, InvalidConfig> {
        let zero = if self.call_timeout.is_zero() {
            Some(ConfigKind::ZeroCallTimeout)
        } else if self.on_failure == (OnFailure::Local { replicas: 0 }) {
            Some(ConfigKind::ZeroReplicas)
        } else if self.batch == 0 {
            Some(ConfigKind::ZeroBatch)
        } else if self.batch_max_age.is_zero() {
            Some(ConfigKind::ZeroBatchMaxAge)
        } else if self.batch_max_keys == 0 {
            Some(ConfigKind::ZeroBatchMaxKeys)
        } else if self.max_key_len == 0 {
            Some(ConfigKind::ZeroMaxKeyLen)
        } else {
            None
        };
        match zero {
            Some(kind) => Err(InvalidConfig::new(kind)),
            None => Ok(self.assemble()),
        }
    }

    /// The store, settings unchecked.
    pub(super) fn assemble(self) -> RedisStore {
        let batch =
            (self.batch > 1).then_some((self.batch, self.batch_max_age, self.batch_max_keys));
        RedisStore::from_parts(
            self.connection,
            self.prefix,
            self.max_key_len,
            self.call_timeout,
            self.on_failure,
            batch,
        )
    }
}
