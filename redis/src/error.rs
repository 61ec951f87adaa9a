//! The errors of this crate: a limiter that could not be built
//! ([`InvalidConfig`]), and a decision Redis could not make
//! ([`StoreError`]).
//!
//! Middleware box a [`StoreError`] into a [`BoxError`](donjon::BoxError):
//! recognise it with `is::<StoreError>()` or `downcast_ref`, and tell a
//! refused key from an unavailable Redis with its `is_*` methods.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::gcra::Quota;
//! use donjon::limit::keyed::KeyedRateLimit;
//! use donjon_redis::RedisStore;
//! use donjon_redis::error::StoreError;
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! # let server = RedisServer::start();
//! let store = RedisStore::new(donjon_redis::connect(&server.url()).await?);
//! let handler = service_fn(|user: String| async move { Ok::<_, BoxError>(user) });
//! let mut service = KeyedRateLimit::new(handler, store, |user: &String| user.clone(), Quota::per_second(5)?);
//!
//! // A request without a user has an empty key: refused, not limited.
//! let error = service.ready().await?.call(String::new()).await.unwrap_err();
//! let error = error.downcast_ref::<StoreError>().expect("the store's error");
//! assert!(error.is_invalid_key() && !error.is_unavailable());
//! # Ok(())
//! # }
//! ```

use std::error::Error;
use std::fmt;
use std::time::Duration;

use donjon::limit::keyed::error::InvalidKey;

/// The error of a decision that Redis could not make: it did not answer
/// within the call timeout, it failed, or the key was refused before
/// asking it.
///
/// A [`RedisStore`](crate::RedisStore) returns it for an invalid key
/// whatever its [`OnFailure`](crate::OnFailure) policy, and for a slow or
/// failed Redis under [`OnFailure::FailClosed`](crate::OnFailure::FailClosed);
/// [`GlobalConcurrencyLimit`](crate::GlobalConcurrencyLimit) fails calls
/// with it under `FailClosed`. Middleware box it into a
/// [`BoxError`](donjon::BoxError): find it with `downcast_ref`.
///
/// # Examples
///
/// ```
/// use donjon::limit::gcra::Quota;
/// use donjon::limit::keyed::{Answer, RateStore};
/// use donjon_redis::RedisStore;
/// use donjon_redis::error::StoreError;
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// # let server = RedisServer::start();
/// let store = RedisStore::new(donjon_redis::connect(&server.url()).await?);
/// // An empty key is refused at once, without asking Redis.
/// let Answer::Now(Err(error)) = store.acquire("", Quota::per_second(1)?) else {
///     panic!("an empty key is refused at once");
/// };
/// assert!(error.is_invalid_key());
/// assert_eq!(error.to_string(), "invalid rate limit key: a rate limit key must not be empty");
///
/// // Boxed by a middleware, it is found with a downcast.
/// let boxed: donjon::BoxError = error.into();
/// assert!(boxed.downcast_ref::<StoreError>().is_some_and(StoreError::is_invalid_key));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct StoreError {
    kind: StoreKind,
}

#[derive(Debug, Clone)]
enum StoreKind {
    Timeout(Duration),
    Redis(redis::RedisError),
    InvalidKey(InvalidKey),
}

impl StoreError {
    pub(crate) fn timeout(after: Duration) -> Self {
        StoreError {
            kind: StoreKind::Timeout(after),
        }
    }

    pub(crate) fn redis(error: redis::RedisError) -> Self {
        StoreError {
            kind: StoreKind::Redis(error),
        }
    }

    pub(crate) fn invalid_key(error: InvalidKey) -> Self {
        StoreError {
            kind: StoreKind::InvalidKey(error),
        }
    }

    /// Redis did not answer within the call timeout (it is slow, paused,
    /// or the connection to it is being re-established).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, StoreKind::Timeout(_))
    }

    /// Redis, or the connection to it, failed: connection refused or
    /// reset, an error reply. [`redis_error`](Self::redis_error) (and
    /// [`source`](Error::source)) is redis-rs's error.
    pub fn is_redis(&self) -> bool {
        matches!(self.kind, StoreKind::Redis(_))
    }

    /// The key was refused before asking Redis: empty, or longer than the
    /// store accepts. [`source`](Error::source) is the
    /// [`InvalidKey`] saying which.
    pub fn is_invalid_key(&self) -> bool {
        matches!(self.kind, StoreKind::InvalidKey(_))
    }

    /// Whether Redis could not decide (a timeout or a Redis error), as
    /// opposed to a key refused before asking it: the cases that the
    /// [`OnFailure`](crate::OnFailure) policy handles.
    pub fn is_unavailable(&self) -> bool {
        !self.is_invalid_key()
    }

    /// redis-rs's error, when Redis failed.
    pub fn redis_error(&self) -> Option<&redis::RedisError> {
        match &self.kind {
            StoreKind::Redis(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            StoreKind::Timeout(after) => write!(f, "redis did not answer within {after:?}"),
            StoreKind::Redis(error) => write!(f, "redis failed: {error}"),
            StoreKind::InvalidKey(error) => write!(f, "invalid rate limit key: {error}"),
        }
    }
}

impl Error for StoreError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            StoreKind::Timeout(_) => None,
            StoreKind::Redis(error) => Some(error),
            StoreKind::InvalidKey(error) => Some(error),
        }
    }
}

/// The error of a limiter built with a configuration it cannot work with.
///
/// [`RedisStoreBuilder::build`](crate::rate::RedisStoreBuilder::build) and
/// [`RedisSemaphoreBuilder::build`](crate::concurrency::RedisSemaphoreBuilder::build)
/// return it; the `is_*` methods say which setting is wrong, and the
/// message says why. Invalid quotas (a zero rate, period or burst) are
/// refused earlier, by [`Quota`](donjon::limit::gcra::Quota)'s constructors.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon_redis::RedisSemaphore;
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// let error = RedisSemaphore::builder(connection, "exports", 4)
///     .with_lease(Duration::from_millis(200))
///     .with_call_timeout(Duration::from_millis(100))
///     .build()
///     .unwrap_err();
/// assert!(error.is_lease_too_short());
/// assert_eq!(
///     error.to_string(),
///     "a lease of 200ms is too short for a call timeout of 100ms: \
///      it must be at least 3 call timeouts (300ms), so that a renewal fits in it"
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidConfig {
    kind: ConfigKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConfigKind {
    ZeroCallTimeout,
    ZeroReplicas,
    ZeroBatch,
    ZeroBatchMaxAge,
    ZeroBatchMaxKeys,
    ZeroMaxKeyLen,
    ZeroMax,
    ZeroLease,
    LeaseTooShort {
        lease: Duration,
        call_timeout: Duration,
    },
    ZeroRetryInterval,
    InvalidKey(InvalidKey),
}

impl InvalidConfig {
    pub(crate) fn new(kind: ConfigKind) -> Self {
        InvalidConfig { kind }
    }

    /// The call timeout is zero: no call to Redis could succeed.
    pub fn is_zero_call_timeout(&self) -> bool {
        self.kind == ConfigKind::ZeroCallTimeout
    }

    /// The failure policy is [`OnFailure::Local`](crate::OnFailure::Local)
    /// with zero replicas.
    pub fn is_zero_replicas(&self) -> bool {
        self.kind == ConfigKind::ZeroReplicas
    }

    /// A batch setting is zero: the batch size, the age at which permits
    /// taken ahead are dropped, or the number of keys holding them.
    pub fn is_zero_batch(&self) -> bool {
        matches!(
            self.kind,
            ConfigKind::ZeroBatch | ConfigKind::ZeroBatchMaxAge | ConfigKind::ZeroBatchMaxKeys
        )
    }

    /// The longest key accepted is zero bytes: no key would be.
    pub fn is_zero_max_key_len(&self) -> bool {
        self.kind == ConfigKind::ZeroMaxKeyLen
    }

    /// A concurrency limit of zero requests at once.
    pub fn is_zero_max(&self) -> bool {
        self.kind == ConfigKind::ZeroMax
    }

    /// A lease of zero time.
    pub fn is_zero_lease(&self) -> bool {
        self.kind == ConfigKind::ZeroLease
    }

    /// A lease shorter than three call timeouts, too short for a renewal
    /// (sent a third of the way through the lease) to reach Redis in time.
    pub fn is_lease_too_short(&self) -> bool {
        matches!(self.kind, ConfigKind::LeaseTooShort { .. })
    }

    /// The time between two attempts to take a lease is zero.
    pub fn is_zero_retry_interval(&self) -> bool {
        self.kind == ConfigKind::ZeroRetryInterval
    }

    /// The key is refused: empty or too long. [`source`](Error::source) is
    /// the [`InvalidKey`] saying which.
    pub fn is_invalid_key(&self) -> bool {
        matches!(self.kind, ConfigKind::InvalidKey(_))
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ConfigKind::ZeroCallTimeout => f.write_str("the call timeout must be longer than zero"),
            ConfigKind::ZeroReplicas => {
                f.write_str("a local limit cannot be divided among zero replicas")
            }
            ConfigKind::ZeroBatch => f.write_str("a batch must take at least one permit"),
            ConfigKind::ZeroBatchMaxAge => {
                f.write_str("permits taken ahead must be kept for longer than zero")
            }
            ConfigKind::ZeroBatchMaxKeys => {
                f.write_str("batching must be able to hold permits for at least one key")
            }
            ConfigKind::ZeroMaxKeyLen => {
                f.write_str("the longest key accepted must be at least one byte long")
            }
            ConfigKind::ZeroMax => {
                f.write_str("a concurrency limit must allow at least one request at once")
            }
            ConfigKind::ZeroLease => f.write_str("a lease must be longer than zero"),
            ConfigKind::LeaseTooShort {
                lease,
                call_timeout,
            } => write!(
                f,
                "a lease of {lease:?} is too short for a call timeout of {call_timeout:?}: it \
                 must be at least 3 call timeouts ({:?}), so that a renewal fits in it",
                call_timeout.saturating_mul(3)
            ),
            ConfigKind::ZeroRetryInterval => f.write_str(
                "the interval between attempts to take a lease must be longer than zero",
            ),
            ConfigKind::InvalidKey(error) => write!(f, "invalid key: {error}"),
        }
    }
}

impl Error for InvalidConfig {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match &self.kind {
            ConfigKind::InvalidKey(error) => Some(error),
            _ => None,
        }
    }
}
