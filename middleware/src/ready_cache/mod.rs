//! A set of services, split into those ready for a request and those still
//! being driven to readiness, addressable by key or by index.
//!
//! [`ReadyCache`] is the bookkeeping a load balancer needs: push services
//! in under keys, let [`poll_pending`](ReadyCache::poll_pending) drive the
//! ones that are not ready, pick among the ready ones by index (at random,
//! say), check that the pick is still ready, and call it, after which it goes
//! back to being driven to readiness.
//!
//! Feature: `ready-cache`.
//!
//! # Examples
//!
//! ```
//! use donjon::ready_cache::ReadyCache;
//! use donjon::{BoxError, service_fn};
//! use std::future::poll_fn;
//!
//! # futures::executor::block_on(async {
//! let echo = |n: u32| async move { Ok::<_, BoxError>(n) };
//! let mut cache = ReadyCache::default();
//! cache.push("a", service_fn(echo));
//! cache.push("b", service_fn(echo));
//! assert_eq!(cache.pending_len(), 2);
//!
//! poll_fn(|cx| cache.poll_pending(cx)).await?;
//! assert_eq!(cache.ready_len(), 2);
//!
//! let ready = poll_fn(|cx| std::task::Poll::Ready(cache.check_ready(cx, &"b"))).await?;
//! assert!(ready);
//! assert_eq!(cache.call_ready(&"b", 7).await?, 7);
//! // Once used, the service is driven to readiness again.
//! assert_eq!((cache.ready_len(), cache.pending_len()), (1, 1));
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```

pub mod cache;
pub mod error;
mod pending;

pub use self::cache::ReadyCache;
#[cfg(feature = "balance")]
pub(crate) use self::pending::Driver;
