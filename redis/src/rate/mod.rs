//! Rate limits per key shared by a fleet: [`RedisStore`], a
//! [`RateStore`](donjon::limit::keyed::RateStore) keeping one
//! [GCRA](donjon::limit::gcra) limit per key in Redis.
//!
//! Use it where donjon's in-process
//! [`MemoryStore`](donjon::limit::keyed::MemoryStore) would let each
//! replica admit the whole quota: with a `RedisStore`, every process that
//! shares the Redis shares each key's limit, so a fleet of N replicas
//! admits a client's quota, not N times it.
//!
//! Each decision is a script run inside Redis: it reads Redis's clock
//! (the processes' clocks need not agree), applies GCRA to the key's
//! theoretical arrival time and stores the new one, in one round trip. In
//! any interval of length `t`, the fleet admits at most
//! `burst + rate × t` requests for a key, exactly as a single in-process
//! limit would (without batching, and while Redis answers).
//!
//! # Examples
//!
//! Two processes (here, two connections) sharing a limit of 3 requests per
//! hour for one client:
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::gcra::Quota;
//! use donjon::limit::keyed::KeyedRateLimit;
//! use donjon::limit::keyed::error::RateLimited;
//! use donjon_redis::RedisStore;
//! # use donjon_test::redis::RedisServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! # let server = RedisServer::start();
//! # let url = server.url();
//! let quota = Quota::new(3, Duration::from_secs(3600))?;
//! let handler = service_fn(|client: &'static str| async move { Ok::<_, BoxError>(client) });
//! let mut replicas = Vec::new();
//! for _ in 0..2 {
//!     let store = RedisStore::new(donjon_redis::connect(&url).await?);
//!     replicas.push(KeyedRateLimit::new(handler, store, |client: &&'static str| *client, quota));
//! }
//!
//! let mut admitted = 0;
//! for n in 0..6 {
//!     let replica = &mut replicas[n % 2];
//!     match replica.ready().await?.call("alice").await {
//!         Ok(_) => admitted += 1,
//!         Err(error) => assert!(error.is::<RateLimited>()),
//!     }
//! }
//! // Three in total, not three per replica.
//! assert_eq!(admitted, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Batching
//!
//! With [`with_batch(n)`](RedisStoreBuilder::with_batch), a store asks
//! Redis for up to `n` permits of a key at a time, uses one for the request
//! that asked, and keeps the others for the next requests of that key: those
//! are decided at once ([`Answer::Now`](donjon::limit::keyed::Answer::Now)),
//! without a round trip. A store fetches one batch per key at a time (other
//! requests of the key wait for that fetch, then use its permits or fetch
//! the next), and remembers a refusal until the wait Redis gave is over,
//! answering the key's requests meanwhile at once. Round trips drop by up
//! to `n` times.
//!
//! The cost is **overshoot**: Redis counts permits when it grants them,
//! and a store may use them later. Each store holds at most `n − 1` permits
//! of a key, so in any interval of length `t` the fleet admits at most
//!
//! ```text
//! burst + rate × t + P × (n − 1)
//! ```
//!
//! requests for the key, while Redis answers, where `P` is the number of
//! stores using it (clones of a store are one store). The bound is reached when the stores hold
//! their permits while Redis's limit refills, then use them along with a
//! full burst. Permits held longer than
//! [`with_batch_max_age`](RedisStoreBuilder::with_batch_max_age)
//! ([`DEFAULT_BATCH_MAX_AGE`] unless set) are dropped, unused, so that a
//! replica does not sit on old permits. Redis's own limit stays exact: a
//! batch gets only what GCRA would grant one request after the other.
//!
//! Choose `n` well below the burst (a tenth, say): a key's first fetch
//! takes `n` permits of the burst at once, and a store that takes its
//! permits ahead takes them from the other stores.
//!
//! # Failures
//!
//! See [`RedisStore`]'s `# Errors` section and [`OnFailure`](crate::OnFailure):
//! each decision Redis cannot make within the call timeout is made by the
//! policy, with `tracing` events for the change of state and each decision.

mod batch;
mod builder;
pub mod future;
mod script;
mod store;

use std::time::Duration;

pub use self::builder::RedisStoreBuilder;
pub use self::store::RedisStore;

/// The call timeout of a store, unless set with
/// [`RedisStoreBuilder::with_call_timeout`]: 100 ms.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(100);

/// The longest key a store accepts, unless set with
/// [`RedisStoreBuilder::with_max_key_len`]: 512 bytes.
pub const DEFAULT_MAX_KEY_LEN: usize = 512;

/// What the names of a store's Redis keys start with, unless set with
/// [`RedisStoreBuilder::with_prefix`].
pub const DEFAULT_PREFIX: &str = "donjon:rate:";

/// How long permits taken ahead are kept, unless set with
/// [`RedisStoreBuilder::with_batch_max_age`]: 1 second.
pub const DEFAULT_BATCH_MAX_AGE: Duration = Duration::from_secs(1);

/// How many keys may hold permits taken ahead, unless set with
/// [`RedisStoreBuilder::with_batch_max_keys`].
pub const DEFAULT_BATCH_MAX_KEYS: usize = 10_000;
