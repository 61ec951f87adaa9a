//! Reject requests at once when the inner service is not ready, instead of
//! making callers wait.
//!
//! Behind a [`LoadShed`], callers never see `Pending`: when the inner
//! service is not ready (it is at capacity, or rate limited), the request
//! fails immediately with [`Overloaded`](error::Overloaded). Put it outside a
//! concurrency limit to turn "wait for a permit" into "fail fast", so that a
//! server under overload answers quickly (say, with a 503) rather than
//! queueing.
//!
//! [`LoadShed::with_max_wait`] (or [`LoadShedLayer::with_max_wait`]) waits a
//! bounded time for the inner service before shedding: around a concurrency
//! limit, a bulkhead with a maximum wait. A `Pending` that resolves within
//! the wait never sheds a request.
//!
//! Feature: `load-shed`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceBuilder, ServiceExt};
//! use donjon::load_shed::error::Overloaded;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let mut service = ServiceBuilder::new()
//!     .load_shed()
//!     .concurrency_limit(1)
//!     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
//!
//! // The first request takes the only permit and is still in flight...
//! let first = service.ready().await?.call(1);
//! // ...so the second one is shed at once rather than queued.
//! let error = service.ready().await?.call(2).await.unwrap_err();
//! assert!(error.is::<Overloaded>());
//! assert_eq!(first.await?, 1);
//! # Ok(())
//! # }
//! ```
//!
//! A bulkhead: at most one request in flight, and callers wait up to
//! 100 ms for the permit before being turned away.
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Layer, ServiceExt};
//! use donjon::limit::ConcurrencyLimitLayer;
//! use donjon::load_shed::LoadShedLayer;
//! use donjon::load_shed::error::Overloaded;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let slow = donjon::service_fn(|ms: u64| async move {
//!     tokio::time::sleep(Duration::from_millis(ms)).await;
//!     Ok::<_, BoxError>(ms)
//! });
//! let bulkhead = LoadShedLayer::with_max_wait(Duration::from_millis(100))
//!     .layer(ConcurrencyLimitLayer::new(1).layer(slow));
//!
//! let long = tokio::spawn(bulkhead.clone().oneshot(1_000));
//! tokio::task::yield_now().await;
//! // The permit is not freed within 100 ms: shed.
//! let error = bulkhead.clone().oneshot(10).await.unwrap_err();
//! assert!(error.is::<Overloaded>());
//! assert_eq!(long.await??, 1_000);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, a `debug` event
//! `load shed: the inner service was not ready in time`, with `max_wait`,
//! for each request shed after a bounded wait. A request shed at once emits
//! none: under overload that is every request, and the `metrics` feature
//! counts them.

pub mod error;
pub mod future;
mod layer;
mod service;

pub use self::layer::LoadShedLayer;
pub use self::service::LoadShed;
