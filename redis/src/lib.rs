//! Fleet-wide limits for donjon, kept in Redis: every process that shares a
//! Redis server shares the limits.
//!
//! - [`RedisStore`] (module [`rate`]) is a
//!   [`RateStore`](donjon::limit::keyed::RateStore) for donjon's keyed rate
//!   limits ([`KeyedRateLimit`](donjon::limit::keyed::KeyedRateLimit) for
//!   servers, [`SharedRateLimit`](donjon::limit::keyed::SharedRateLimit) for
//!   clients): one [GCRA](donjon::limit::gcra) limit per key, decided by a
//!   script inside Redis, on Redis's clock, in one round trip (or none,
//!   with [batching](rate#batching)).
//! - [`GlobalConcurrencyLimit`] (module [`concurrency`]) lets at most `max`
//!   requests be in flight across the fleet, each holding a lease in Redis
//!   that expires, so that a process that dies gives its permits back.
//!
//! Both reach Redis through redis-rs's
//! [`ConnectionManager`], which reconnects
//! after Redis restarts; [`connect`] opens one with settings suited to
//! limiters. Every call to Redis is bounded by a timeout, and what happens
//! when Redis is slow or unreachable is the [`OnFailure`] policy you choose:
//! let requests through, refuse them, or fall back to a limit in this
//! process.
//!
//! With the `metrics` feature, the fleet-wide limit records the leases this
//! process holds, the tries Redis refused and those the failure policy
//! decided (see [`concurrency::RedisSemaphoreBuilder::with_name`]); the keyed rate limits
//! over a [`RedisStore`] record through donjon's own metrics.
//!
//! # Examples
//!
//! A limit of 2 requests per minute for each client, shared by every
//! process that uses the same Redis:
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::gcra::Quota;
//! use donjon::limit::keyed::KeyedRateLimit;
//! use donjon::limit::keyed::error::RateLimited;
//! use donjon_redis::{OnFailure, RedisStore};
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! # let server = RedisServer::start();
//! # let url = server.url();
//! // `url` is "redis://127.0.0.1:6379/", say.
//! let connection = donjon_redis::connect(&url).await?;
//! let store = RedisStore::builder(connection)
//!     .with_call_timeout(Duration::from_millis(50))
//!     .with_on_failure(OnFailure::Local { replicas: 4 })
//!     .build()?;
//!
//! let handler = service_fn(|(_client, n): (String, u32)| async move { Ok::<_, BoxError>(n) });
//! let mut service = KeyedRateLimit::new(
//!     handler,
//!     store,
//!     |(client, _): &(String, u32)| client.clone(),
//!     Quota::new(2, Duration::from_secs(60))?,
//! );
//!
//! let alice = || "alice".to_string();
//! assert_eq!(service.ready().await?.call((alice(), 1)).await?, 1);
//! assert_eq!(service.ready().await?.call((alice(), 2)).await?, 2);
//! let error = service.ready().await?.call((alice(), 3)).await.unwrap_err();
//! assert!(error.is::<RateLimited>());
//! # Ok(())
//! # }
//! ```
//!
//! # Redis
//!
//! Redis 5 or later (scripts that read the clock and then write need
//! effects replication, the default since Redis 5), standalone or behind a
//! proxy that forwards `EVALSHA`; each limit lives in one Redis key, so a
//! cluster works as long as the connection routes by key. The scripts are
//! sent once and called by their SHA1 hash afterwards (and sent again, once,
//! after a Redis restart empties its script cache).
//!
//! # Runtime
//!
//! A `ConnectionManager` runs a task on the tokio runtime it was created
//! on: use the limiters on that runtime (or any runtime, as long as that one
//! keeps running).

#![forbid(unsafe_code)]
#![doc(test(attr(deny(warnings))))]

pub mod concurrency;
pub mod error;
mod health;
mod policy;
pub mod rate;

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use self::concurrency::{GlobalConcurrencyLimit, GlobalConcurrencyLimitLayer, RedisSemaphore};
pub use self::policy::OnFailure;
pub use self::rate::RedisStore;

/// The most microseconds a script is given a duration as (about 71 years),
/// so that its sums of them and of the clock stay below 2^53, where Lua's
/// doubles are exact.
const MAX_MICROS: u64 = 1 << 51;

/// How long [`connect`] gives one connection attempt.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// The longest [`connect`]'s connection waits between two reconnection
/// attempts.
const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(1);

/// Opens a [`ConnectionManager`] to the Redis at `url`
/// (`redis://host:port/db`), with settings suited to the limiters of this
/// crate, and waits for the first connection.
///
/// The settings are redis-rs's defaults, except that a connection attempt
/// is given 1 second and reconnection attempts are at most 1 second apart
/// (instead of up to several seconds), so that limiters see Redis again
/// soon after it comes back. The limiters bound each of their calls with
/// their own timeout whatever the connection's settings.
///
/// To choose other settings, build the `ConnectionManager` yourself and pass
/// it to [`RedisStore::builder`] or [`RedisSemaphore::builder`]:
///
/// ```no_run
/// use redis::aio::{ConnectionManager, ConnectionManagerConfig};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> redis::RedisResult<()> {
/// let client = redis::Client::open("redis://redis.internal:6379/")?;
/// let config = ConnectionManagerConfig::new().set_number_of_retries(3);
/// let connection = ConnectionManager::new_with_config(client, config).await?;
/// # let _ = connection;
/// # Ok(())
/// # }
/// ```
///
/// `ConnectionManager::new_lazy_with_config` makes one without waiting for
/// Redis, for a process that must start while Redis is down: its limiters
/// apply their [`OnFailure`] policy until Redis answers.
///
/// # Errors
///
/// The [`RedisError`](redis::RedisError) of an invalid `url`, or of the
/// first connection when Redis could not be reached after redis-rs's
/// retries (a few seconds).
///
/// # Panics
///
/// Outside a tokio runtime: the connection runs a task on the current one.
pub async fn connect(url: &str) -> redis::RedisResult<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECTION_TIMEOUT))
        .set_max_delay(MAX_RECONNECT_DELAY);
    ConnectionManager::new_with_config(client, config).await
}

/// The README's examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
