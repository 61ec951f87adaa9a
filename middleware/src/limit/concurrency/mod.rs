//! Limit how many requests a service handles at once.
//!
//! A [`ConcurrencyLimit`] holds a permit of a semaphore for each request in
//! flight: `poll_ready` waits for a permit, `call` hands it to the response
//! future, and the permit goes back as soon as the response is ready (or the
//! response future is dropped). Waiting callers get permits in the order
//! they asked.
//!
//! [`ConcurrencyLimitLayer`] gives each service it wraps its own limit;
//! [`GlobalConcurrencyLimitLayer`] makes every service it wraps share one.
//! Each can serve its waiters by a
//! [`QueueDiscipline`](crate::limit::QueueDiscipline) instead of in order
//! ([`ConcurrencyLimit::with_queue`]): CoDel's refusals, newest first under
//! overload, or both.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::ConcurrencyLimit;
//! use futures::FutureExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let mut service = ConcurrencyLimit::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), 1);
//!
//! let first = service.ready().await?.call(1);
//! // While the first response is pending, a clone has to wait for the permit.
//! let mut other = service.clone();
//! assert!(other.ready().now_or_never().is_none());
//! assert_eq!(first.await?, 1);
//! assert_eq!(other.ready().await?.call(2).await?, 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `debug` event `concurrency limit: every permit is in use, a caller
//! waits` when a caller joins the queue, with `limit` and `waiting` (the
//! callers queued, this one included); for a limit over a user's semaphore
//! (`with_semaphore`) the event is `concurrency limit: its semaphore has no
//! permit free, a caller waits`. A caller that stays in the queue across
//! polls is reported once, and one that takes a free permit not at all.
//!
//! With a queue discipline that refuses
//! ([`with_queue`](ConcurrencyLimit::with_queue)), a `debug` event
//! `concurrency limit: waiters past the queue's delay target were refused`,
//! with `limit` and `refused` (the callers refused at once with it), when a
//! run of refusals starts: the refusals that follow it are not reported
//! until a waiter is served again (they are counted in the metrics).

pub mod future;
mod layer;
pub(super) mod permits;
mod service;

pub use self::layer::{ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
pub use self::service::{ConcurrencyLimit, Disciplined, Fifo};
