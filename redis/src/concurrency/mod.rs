//! A concurrency limit shared by a fleet: at most `max` requests in flight
//! across every process, held as leases in Redis that expire.
//!
//! [`GlobalConcurrencyLimit`] is donjon's
//! [`ConcurrencyLimit`](donjon::limit::ConcurrencyLimit) for a fleet: its
//! permits are those of a [`RedisSemaphore`], a Redis sorted set of leases
//! that every process using the same key shares. Use it to keep a shared
//! resource (a database, a partner's API, a pool of workers) under the
//! number of concurrent requests it takes, however many replicas call it.
//!
//! A permit is a lease with an expiry on Redis's clock. The request that
//! holds it renews it every third of the lease time while it is in flight,
//! and gives it back when its response is ready or its future is dropped.
//! A process that crashes, or loses Redis, stops renewing: its leases
//! expire after at most the lease time, and the fleet gets the permits
//! back. Choose the lease time as how long the fleet may do without the
//! permits of a process that died.
//!
//! # Examples
//!
//! Three requests at most, across two processes (here, two connections):
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::time::Duration;
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//! use donjon_redis::{GlobalConcurrencyLimitLayer, RedisSemaphore};
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! # let server = RedisServer::start();
//! # let url = server.url();
//! let in_flight = Arc::new(AtomicUsize::new(0));
//! let peak = Arc::new(AtomicUsize::new(0));
//! let mut calls = Vec::new();
//! for process in 0..2 {
//!     let connection = donjon_redis::connect(&url).await?;
//!     let semaphore = RedisSemaphore::builder(connection, "search-index", 3).build()?;
//!     let (in_flight, peak) = (Arc::clone(&in_flight), Arc::clone(&peak));
//!     let service = ServiceBuilder::new()
//!         .layer(GlobalConcurrencyLimitLayer::new(semaphore))
//!         .service_fn(move |n: u32| {
//!             let (in_flight, peak) = (Arc::clone(&in_flight), Arc::clone(&peak));
//!             async move {
//!                 let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
//!                 peak.fetch_max(now, Ordering::SeqCst);
//!                 tokio::time::sleep(Duration::from_millis(20)).await;
//!                 in_flight.fetch_sub(1, Ordering::SeqCst);
//!                 Ok::<_, BoxError>(n)
//!             }
//!         });
//!     for n in 0..4 {
//!         calls.push(tokio::spawn(service.clone().oneshot(process * 10 + n)));
//!     }
//! }
//! for call in calls {
//!     call.await??;
//! }
//! assert!(peak.load(Ordering::SeqCst) <= 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Failures
//!
//! Every call to Redis is bounded by the call timeout; when Redis cannot
//! decide, the semaphore's [`OnFailure`](crate::OnFailure) policy applies
//! (see [`GlobalConcurrencyLimit`]'s `# Errors`). While Redis is away, the
//! requests let through by the policy hold no lease, and when it comes back
//! (empty, after a restart) the leases it had are gone: for about one lease
//! time after an outage, the fleet may have more than `max` requests in
//! flight.

pub mod future;
mod layer;
mod lease;
#[cfg(feature = "metrics")]
mod meter;
mod semaphore;
mod service;

use std::time::Duration;

pub use self::layer::GlobalConcurrencyLimitLayer;
pub use self::semaphore::{RedisSemaphore, RedisSemaphoreBuilder};
pub use self::service::GlobalConcurrencyLimit;

/// How long a lease lasts unless renewed, unless set with
/// [`RedisSemaphoreBuilder::with_lease`]: 10 seconds.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// The call timeout of a semaphore, unless set with
/// [`RedisSemaphoreBuilder::with_call_timeout`]: 100 ms.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest a limiter waits before trying again to take a lease when
/// every permit is held, unless set with
/// [`RedisSemaphoreBuilder::with_retry_interval`]: 50 ms.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_millis(50);

/// What the name of a semaphore's Redis key starts with, unless set with
/// [`RedisSemaphoreBuilder::with_prefix`].
pub const DEFAULT_PREFIX: &str = "donjon:leases:";

/// The longest key a semaphore accepts, in bytes.
pub const MAX_KEY_LEN: usize = 512;
