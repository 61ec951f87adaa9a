//! Limit how many requests a service handles at once, refusing the requests
//! over the limit at once instead of making them wait.
//!
//! A [`TryConcurrencyLimit`] is a [`ConcurrencyLimit`](super::ConcurrencyLimit)
//! that never queues: when every permit is out, `poll_ready` is ready all
//! the same and the call fails at once with
//! [`Overloaded`](error::Overloaded), without reaching the service; the
//! refused caller holds no permit and takes no place in any queue. It is
//! the bulkhead a server puts in front of a handler to answer `503` rather
//! than let requests pile up: the limit that tower users write by hand with
//! a semaphore's `try_acquire` (tower #793).
//!
//! A caller that gets a permit keeps it while the service under the limit
//! is not ready (`poll_ready` is then `Pending`, as with `ConcurrencyLimit`),
//! and the response future gives it back when the response is ready or the
//! future is dropped. Clones share the limit; [`TryConcurrencyLimitLayer`]
//! gives each service it wraps its own.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::TryConcurrencyLimit;
//! use donjon::limit::try_concurrency::error::Overloaded;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let mut service = TryConcurrencyLimit::new(
//!     service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }),
//!     1,
//! );
//!
//! let first = service.ready().await?.call(1);
//! // The one permit is out: the next call is refused at once.
//! let error = service.ready().await?.call(2).await.unwrap_err();
//! assert!(error.is::<Overloaded>());
//!
//! assert_eq!(first.await?, 1);
//! // The permit is back.
//! assert_eq!(service.ready().await?.call(3).await?, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `debug` event `try concurrency limit: every permit is in use, requests
//! are refused`, with `limit`, when a service refuses a call after letting
//! the one before through (or refuses its first): one per run of refusals
//! of each service (clones count apart), not one per refused request, which
//! under overload would be every request; the `metrics` feature counts
//! each refusal.

pub mod error;
pub mod future;
mod layer;
mod service;

pub use self::layer::TryConcurrencyLimitLayer;
pub use self::service::TryConcurrencyLimit;
