use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use donjon::limit::keyed::error::InvalidKey;
use redis::Script;
use redis::aio::ConnectionManager;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::lease::Permit;
use super::{
    DEFAULT_CALL_TIMEOUT, DEFAULT_LEASE, DEFAULT_PREFIX, DEFAULT_RETRY_INTERVAL, MAX_KEY_LEN,
};
use crate::OnFailure;
use crate::error::{ConfigKind, InvalidConfig, StoreError};
use crate::health::Health;

static ACQUIRE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("acquire.lua")));
static RENEW: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("renew.lua")));
static HELD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("held.lua")));

/// A semaphore of `max` permits held in Redis and shared by every process
/// that uses the same key: the state of a
/// [`GlobalConcurrencyLimit`](super::GlobalConcurrencyLimit).
///
/// Each permit is a **lease**: an entry in a Redis sorted set (the key
/// `prefix + key`) that expires after the lease time unless renewed. A
/// request holds one from its limiter's `poll_ready` until its response is
/// ready; a process that dies without giving its leases back loses them
/// when they expire, and the fleet gets the permits back then.
///
/// Clones share one semaphore (an `Arc`). Build one with
/// [`RedisSemaphore::builder`]; the settings are checked by
/// [`RedisSemaphoreBuilder::build`].
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Service, ServiceExt, service_fn};
/// use donjon_redis::{GlobalConcurrencyLimit, RedisSemaphore};
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// let semaphore = RedisSemaphore::builder(connection, "reports", 2).build()?;
/// let mut service = GlobalConcurrencyLimit::new(
///     service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }),
///     semaphore.clone(),
/// );
///
/// let response = service.ready().await?.call(7);
/// // The lease is held from `poll_ready` to the response.
/// assert_eq!(semaphore.held().await?, 1);
/// assert_eq!(response.await?, 7);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisSemaphore {
    pub(super) shared: Arc<Shared>,
}

pub(super) struct Shared {
    connection: ConnectionManager,
    key: String,
    redis_key: String,
    max: usize,
    lease: Duration,
    lease_micros: u64,
    call_timeout: Duration,
    retry_interval: Duration,
    on_failure: OnFailure,
    /// The in-process limit of [`OnFailure::Local`].
    local: Option<Arc<Semaphore>>,
    /// The runtime the semaphore was built on, to give leases back from
    /// when they are dropped outside any runtime.
    runtime: Option<tokio::runtime::Handle>,
    pub(super) health: Health,
    #[cfg(feature = "metrics")]
    pub(super) meter: super::meter::Meter,
}

/// The outcome of an attempt to take a lease.
pub(super) enum Acquired {
    /// A permit: a lease, or one the failure policy gave.
    Granted(Permit),
    /// Every permit is held; the earliest lease expires after this.
    Refused(Duration),
    /// Redis could not decide, and the policy is to fail.
    Failed(StoreError),
}

impl RedisSemaphore {
    /// A builder of a semaphore of `max` permits on `key`, reached through
    /// `connection`.
    ///
    /// Every process using the same key (and prefix) shares the permits.
    /// They should agree on `max` and on the lease time: each process
    /// takes a lease while fewer than its own `max` are held.
    pub fn builder(
        connection: ConnectionManager,
        key: impl Into<String>,
        max: usize,
    ) -> RedisSemaphoreBuilder {
        RedisSemaphoreBuilder {
            connection,
            key: key.into(),
            max,
            lease: DEFAULT_LEASE,
            call_timeout: DEFAULT_CALL_TIMEOUT,
            retry_interval: DEFAULT_RETRY_INTERVAL,
            on_failure: OnFailure::default(),
            prefix: DEFAULT_PREFIX.to_owned(),
            #[cfg(feature = "metrics")]
            name: None,
        }
    }

    /// The number of leases held now, across the fleet: those that have
    /// not expired, on Redis's clock.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] when Redis does not answer within the call timeout,
    /// or fails.
    pub async fn held(&self) -> Result<usize, StoreError> {
        let shared = &*self.shared;
        let mut connection = shared.connection.clone();
        let invocation = HELD.key(&shared.redis_key);
        let count = invocation.invoke_async::<usize>(&mut connection);
        match tokio::time::timeout(shared.call_timeout, count).await {
            Ok(Ok(held)) => Ok(held),
            Ok(Err(error)) => Err(StoreError::redis(error)),
            Err(_) => Err(StoreError::timeout(shared.call_timeout)),
        }
    }

    /// The key the permits are held on.
    pub fn key(&self) -> &str {
        &self.shared.key
    }

    /// The Redis key of the sorted set holding the leases: the prefix and
    /// the key.
    pub fn redis_key(&self) -> &str {
        &self.shared.redis_key
    }

    /// The most permits held at once across the fleet.
    pub fn max(&self) -> usize {
        self.shared.max
    }

    /// How long a lease lasts unless renewed.
    pub fn lease(&self) -> Duration {
        self.shared.lease
    }

    /// The longest a call to Redis may take.
    pub fn call_timeout(&self) -> Duration {
        self.shared.call_timeout
    }

    /// The longest a limiter waits before trying again to take a lease,
    /// when every permit is held.
    pub fn retry_interval(&self) -> Duration {
        self.shared.retry_interval
    }

    /// What decides when Redis cannot.
    pub fn on_failure(&self) -> OnFailure {
        self.shared.on_failure
    }
}

impl Shared {
    pub(super) fn lease(&self) -> Duration {
        self.lease
    }

    pub(super) fn retry_interval(&self) -> Duration {
        self.retry_interval
    }

    pub(super) fn key(&self) -> &str {
        &self.key
    }

    /// Tries to take a lease, within the call timeout; the failure policy
    /// decides when Redis cannot.
    ///
    /// A lease that Redis may have granted without this process learning
    /// it (a timeout, a connection lost, this future dropped) is released
    /// at once.
    pub(super) async fn acquire(self: Arc<Self>) -> Acquired {
        let id = lease_id();
        // Released when dropped, unless Redis refused it.
        let permit = Permit::lease(Arc::clone(&self), id.clone(), Instant::now());
        let mut connection = self.connection.clone();
        let mut invocation = ACQUIRE.key(&self.redis_key);
        invocation.arg(self.max).arg(self.lease_micros).arg(&id);
        let taken = invocation.invoke_async::<(u64, u64)>(&mut connection);
        let error = match tokio::time::timeout(self.call_timeout, taken).await {
            Ok(Ok((granted, wait))) => {
                self.health.answered();
                return if granted == 1 {
                    Acquired::Granted(permit.taken_now())
                } else {
                    permit.forget();
                    #[cfg(feature = "metrics")]
                    self.meter.refusals.increment(1);
                    Acquired::Refused(Duration::from_micros(wait))
                };
            }
            Ok(Err(error)) => StoreError::redis(error),
            Err(_) => StoreError::timeout(self.call_timeout),
        };
        drop(permit);
        self.fall_back(error).await
    }

    async fn fall_back(&self, error: StoreError) -> Acquired {
        self.health.failed(&error, self.on_failure);
        #[cfg(feature = "metrics")]
        self.meter.fallbacks.increment(1);
        tracing::debug!(
            key = %self.key,
            policy = %self.on_failure,
            %error,
            "redis could not grant a lease: the failure policy decides"
        );
        match (self.on_failure, &self.local) {
            (OnFailure::FailClosed, _) => Acquired::Failed(error),
            (OnFailure::Local { .. }, Some(local)) => match Arc::clone(local).acquire_owned().await
            {
                Ok(permit) => Acquired::Granted(Permit::local(permit)),
                // The semaphore is never closed.
                Err(_) => Acquired::Granted(Permit::open()),
            },
            (OnFailure::FailOpen | OnFailure::Local { .. }, _) => Acquired::Granted(Permit::open()),
        }
    }

    /// Extends lease `id` to a lease time from now: `Ok(false)` when it was
    /// gone.
    pub(super) async fn renew(self: Arc<Self>, id: String) -> Result<bool, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = RENEW.key(&self.redis_key);
        invocation.arg(self.lease_micros).arg(&id);
        let renewed = invocation.invoke_async::<u64>(&mut connection);
        let result = match tokio::time::timeout(self.call_timeout, renewed).await {
            Ok(Ok(renewed)) => Ok(renewed == 1),
            Ok(Err(error)) => Err(StoreError::redis(error)),
            Err(_) => Err(StoreError::timeout(self.call_timeout)),
        };
        match &result {
            Ok(_) => self.health.answered(),
            Err(error) => self.health.failed(error, self.on_failure),
        }
        result
    }

    /// Gives lease `id` back, from a task of the current tokio runtime (or
    /// of the one the semaphore was built on), within the call timeout.
    /// Without a runtime, or if Redis does not answer, the lease expires on
    /// its own.
    pub(super) fn release(self: Arc<Self>, id: String) {
        let runtime = tokio::runtime::Handle::try_current()
            .ok()
            .or_else(|| self.runtime.clone());
        let Some(runtime) = runtime else {
            tracing::debug!(
                key = %self.key,
                lease = %id,
                "no tokio runtime to give a lease back from: it will expire"
            );
            return;
        };
        runtime.spawn(async move {
            let mut connection = self.connection.clone();
            let mut command = redis::cmd("ZREM");
            command.arg(&self.redis_key).arg(&id);
            let removed = command.query_async::<u64>(&mut connection);
            if !matches!(tokio::time::timeout(self.call_timeout, removed).await, Ok(Ok(_))) {
                tracing::debug!(key = %self.key, lease = %id, "could not release a lease: it will expire");
            }
        });
    }
}

/// A lease id unique across the fleet: this process's id, a random number
/// drawn once per process, and a counter.
fn lease_id() -> String {
    static PROCESS: LazyLock<(u32, u64)> = LazyLock::new(|| {
        let pid = std::process::id();
        (pid, RandomState::new().hash_one(pid))
    });
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (pid, nonce) = *PROCESS;
    format!(
        "{pid}-{nonce:016x}-{}",
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

impl fmt::Debug for RedisSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &*self.shared;
        f.debug_struct("RedisSemaphore")
            .field("redis_key", &shared.redis_key)
            .field("max", &shared.max)
            .field("lease", &shared.lease)
            .field("call_timeout", &shared.call_timeout)
            .field("on_failure", &shared.on_failure)
            .field("redis_answering", &shared.health.is_healthy())
            .finish_non_exhaustive()
    }
}

/// The settings of a [`RedisSemaphore`], checked by [`build`](Self::build).
///
/// | setting | default |
/// |---|---|
/// | [`with_lease`](Self::with_lease) | [`DEFAULT_LEASE`] (10 s) |
/// | [`with_call_timeout`](Self::with_call_timeout) | [`DEFAULT_CALL_TIMEOUT`] (100 ms) |
/// | [`with_retry_interval`](Self::with_retry_interval) | [`DEFAULT_RETRY_INTERVAL`] (50 ms) |
/// | [`with_on_failure`](Self::with_on_failure) | [`OnFailure::FailOpen`] |
/// | [`with_prefix`](Self::with_prefix) | [`DEFAULT_PREFIX`] (`"donjon:leases:"`) |
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon_redis::{OnFailure, RedisSemaphore};
/// # use donjon_test::redis::RedisServer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), donjon::BoxError> {
/// # let server = RedisServer::start();
/// let connection = donjon_redis::connect(&server.url()).await?;
/// let semaphore = RedisSemaphore::builder(connection.clone(), "video-encoder", 8)
///     .with_lease(Duration::from_secs(30))
///     .with_on_failure(OnFailure::Local { replicas: 4 })
///     .build()?;
/// assert_eq!(semaphore.redis_key(), "donjon:leases:video-encoder");
///
/// let error = RedisSemaphore::builder(connection, "", 8).build().unwrap_err();
/// assert!(error.is_invalid_key());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until it is built"]
pub struct RedisSemaphoreBuilder {
    connection: ConnectionManager,
    key: String,
    max: usize,
    lease: Duration,
    call_timeout: Duration,
    retry_interval: Duration,
    on_failure: OnFailure,
    prefix: String,
    /// The `name` label of its metrics; the key when `None`.
    #[cfg(feature = "metrics")]
    name: Option<String>,
}

impl RedisSemaphoreBuilder {
    /// Names the semaphore in its metrics (the `name` label): its key
    /// unless set. The handles are taken from the recorder installed when
    /// it is built.
    ///
    /// | name | kind | labels | what |
    /// |---|---|---|---|
    /// | `donjon_fleet_limit_leases` | gauge | `name` | leases this process holds in Redis (not the fleet's) |
    /// | `donjon_fleet_limit_refusals_total` | counter | `name` | tries to take a lease that Redis refused, every permit being held (a waiting limiter tries again) |
    /// | `donjon_fleet_limit_fallbacks_total` | counter | `name`, `policy` | tries Redis could not decide, decided by the failure policy (`fail_open`, `fail_closed`, `local`) |
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// How long a lease lasts unless renewed: how long the permits of a
    /// process that died stay taken. Must be at least 3 call timeouts, so
    /// that a renewal, sent a third of the way through, reaches Redis before
    /// the lease ends even when it takes the whole call timeout (and a
    /// second attempt, two thirds of the way, too).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The longest a call to Redis may take before the
    /// [failure policy](Self::with_on_failure) decides instead. Must be
    /// longer than zero, and at most a third of the lease.
    pub fn with_call_timeout(mut self, call_timeout: Duration) -> Self {
        self.call_timeout = call_timeout;
        self
    }

    /// The longest a limiter waits before trying again when every permit is
    /// held (it tries again sooner if the earliest lease expires sooner). A
    /// permit given back is seen at the next try. Must be longer than zero.
    pub fn with_retry_interval(mut self, retry_interval: Duration) -> Self {
        self.retry_interval = retry_interval;
        self
    }

    /// What happens when Redis is too slow or fails: see [`OnFailure`].
    /// [`OnFailure::Local`] needs at least one replica.
    pub fn with_on_failure(mut self, on_failure: OnFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// What the name of the Redis key starts with. Processes sharing the
    /// permits must use the same prefix.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Builds the semaphore.
    ///
    /// # Errors
    ///
    /// [`InvalidConfig`] for an empty key or one longer than
    /// [`MAX_KEY_LEN`] bytes, a `max` of zero, a zero lease, call timeout or
    /// retry interval, a lease shorter than 3 call timeouts, or zero
    /// replicas of a local fallback.
    pub fn build(self) -> Result<RedisSemaphore, InvalidConfig> {
        let invalid = if self.key.is_empty() {
            Some(ConfigKind::InvalidKey(InvalidKey::empty()))
        } else if self.key.len() > MAX_KEY_LEN {
            Some(ConfigKind::InvalidKey(InvalidKey::too_long(
                self.key.len(),
                MAX_KEY_LEN,
            )))
        } else if self.max == 0 {
            Some(ConfigKind::ZeroMax)
        } else if self.lease.is_zero() {
            Some(ConfigKind::ZeroLease)
        } else if self.call_timeout.is_zero() {
            Some(ConfigKind::ZeroCallTimeout)
        } else if self.lease < self.call_timeout.saturating_mul(3) {
            Some(ConfigKind::LeaseTooShort {
                lease: self.lease,
                call_timeout: self.call_timeout,
            })
        } else if self.retry_interval.is_zero() {
            Some(ConfigKind::ZeroRetryInterval)
        } else if self.on_failure == (OnFailure::Local { replicas: 0 }) {
            Some(ConfigKind::ZeroReplicas)
        } else {
            None
        };
        if let Some(kind) = invalid {
            return Err(InvalidConfig::new(kind));
        }
        let local = match self.on_failure {
            OnFailure::Local { replicas } => {
                let share = usize::try_from(replicas).map_or(1, |replicas| self.max / replicas);
                Some(Arc::new(Semaphore::new(
                    share.clamp(1, Semaphore::MAX_PERMITS),
                )))
            }
            OnFailure::FailOpen | OnFailure::FailClosed => None,
        };
        let lease_micros = u64::try_from(self.lease.as_micros())
            .unwrap_or(u64::MAX)
            .clamp(1, crate::MAX_MICROS);
        let redis_key = format!("{}{}", self.prefix, self.key);
        #[cfg(feature = "metrics")]
        let meter = super::meter::Meter::new(
            self.name.unwrap_or_else(|| self.key.clone()),
            self.on_failure,
        );
        Ok(RedisSemaphore {
            shared: Arc::new(Shared {
                #[cfg(feature = "metrics")]
                meter,
                connection: self.connection,
                health: Health::new("concurrency limit", Some(self.key.clone())),
                key: self.key,
                redis_key,
                max: self.max,
                lease: self.lease,
                lease_micros,
                call_timeout: self.call_timeout,
                retry_interval: self.retry_interval,
                on_failure: self.on_failure,
                local,
                runtime: tokio::runtime::Handle::try_current().ok(),
            }),
        })
    }
}
