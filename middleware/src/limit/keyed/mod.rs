//! Rate limits per key (a client id, an address, a tenant, a route), held
//! in this process or in a store shared by a whole fleet.
//!
//! Each key gets its own [GCRA](crate::limit::gcra) limit of a [`Quota`],
//! kept by a [`RateStore`]:
//!
//! - [`MemoryStore`] keeps the limits in this process, with bounded memory:
//!   idle keys are evicted and the number of keys is capped;
//! - a remote store (the `donjon-redis` crate's, or your own implementation
//!   of [`RateStore`]) makes the limit hold across every process that
//!   shares it.
//!
//! Two middleware use a store:
//!
//! - [`KeyedRateLimit`], for servers, takes each request's key from the
//!   request and answers a request over its key's limit at once with a
//!   [`RateLimited`](error::RateLimited) error carrying when to retry (an
//!   HTTP server turns it into a `429` with a `Retry-After` header);
//! - [`SharedRateLimit`], for clients, limits a service on one key and
//!   waits in `poll_ready` until the key's limit admits a request.
//!
//! Feature: `limit`.
//!
//! # Examples
//!
//! ```
//! use std::net::IpAddr;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::gcra::Quota;
//! use donjon::limit::keyed::{KeyedRateLimit, MemoryStore};
//! use donjon::limit::keyed::error::RateLimited;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! struct Request {
//!     peer: IpAddr,
//! }
//! let handler = service_fn(|_: Request| async move { Ok::<_, BoxError>("hello") });
//!
//! // One request per second for each address, and bounded memory.
//! let mut service = KeyedRateLimit::new(
//!     handler,
//!     MemoryStore::with_max_keys(10_000),
//!     |request: &Request| request.peer,
//!     Quota::per_second(1)?,
//! );
//!
//! let peer: IpAddr = [192, 0, 2, 1].into();
//! assert_eq!(service.ready().await?.call(Request { peer }).await?, "hello");
//! let error = service.ready().await?.call(Request { peer }).await.unwrap_err();
//! assert!(error.is::<RateLimited>());
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `warn` event `keyed rate limit store is full: requests with new keys
//! are limited until held keys expire` when a shard of a [`MemoryStore`]
//! fills up (once until it has room again), emitted once the shard's lock
//! is released, with `max_keys` and `retry_after` (when the first held key
//! expires).

pub mod error;
pub mod future;
mod layer;
mod memory;
mod service;
mod shared;
mod store;

pub use self::layer::{KeyedRateLimitLayer, SharedRateLimitLayer};
pub use self::memory::{DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_KEYS, MemoryStore};
pub use self::service::KeyedRateLimit;
pub use self::shared::SharedRateLimit;
pub use self::store::{Answer, Decision, RateStore};
pub use crate::limit::gcra::Quota;
