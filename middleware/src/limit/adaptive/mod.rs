//! Limit how many requests a service handles at once, with a limit that
//! moves with what the service's calls measure.
//!
//! Use it instead of a fixed [`ConcurrencyLimit`](super::ConcurrencyLimit)
//! when the right limit is not known in advance or changes over time: a
//! backend that slows down or fails under load gets fewer requests at
//! once, and more again when it copes. Put a `LoadShed` (feature
//! `load-shed`) in front to fail the requests over the limit at once
//! instead of making them wait.
//!
//! An [`AdaptiveConcurrencyLimit`] works like a `ConcurrencyLimit`:
//! `poll_ready` is `Pending` while the requests in flight reach the limit,
//! and waiting callers are served in the order they came. After each call
//! finishes, an [`Algorithm`] gets a [`Sample`] (the call's latency, the
//! requests in flight when it was admitted, and whether it failed, as a
//! [`Classify`](crate::classify::Classify) decides) and returns the new
//! limit, kept between a minimum and a maximum. A response future dropped
//! before it finished counts as neither a success nor a failure. All time
//! comes from tokio's clock.
//!
//! The algorithms, after Netflix's concurrency-limits (each documents its
//! formula):
//!
//! - [`Aimd`]: loss-based; one more after a success, a fraction less after
//!   a failure or a timeout.
//! - [`Vegas`]: latency-based; estimates the queue in the service from the
//!   fastest latency seen and each call's latency.
//! - [`Gradient2`]: latency-based; compares each call's latency with a
//!   long-term average, and does not grow while fewer than half of the
//!   permits are in use.
//!
//! Implement [`Algorithm`] to plug in another. [`AdaptiveConcurrencyLimitLayer`]
//! sets the limits and the classification; a [`Handle`] reads the current
//! limit and the requests in flight.
//!
//! Feature: `limit`.
//!
//! # Examples
//!
//! ```
//! use std::future::poll_fn;
//! use donjon::{Layer, Service};
//! use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Aimd};
//!
//! # #[derive(Clone)] struct Backend;
//! # impl Service<u32> for Backend {
//! #     type Response = u32;
//! #     type Error = String;
//! #     type Future = std::future::Ready<Result<u32, String>>;
//! #     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), String>> {
//! #         std::task::Poll::Ready(Ok(()))
//! #     }
//! #     fn call(&mut self, n: u32) -> Self::Future {
//! #         std::future::ready(if n == 0 { Err("zero".to_string()) } else { Ok(n * 2) })
//! #     }
//! # }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), String> {
//! // `Backend` is any service; this one doubles numbers, and fails on 0.
//! let mut service = AdaptiveConcurrencyLimitLayer::new(Aimd::new().with_backoff_ratio(0.5))
//!     .with_initial_limit(10)
//!     .with_max_limit(100)
//!     .layer(Backend);
//! let handle = service.handle();
//!
//! // A success raises the limit by one...
//! poll_fn(|cx| service.poll_ready(cx)).await?;
//! assert_eq!(service.call(21).await?, 42);
//! assert_eq!(handle.limit(), 11);
//!
//! // ...a failure halves it: floor(11 × 0.5).
//! poll_fn(|cx| service.poll_ready(cx)).await?;
//! assert!(service.call(0).await.is_err());
//! assert_eq!(handle.limit(), 5);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `debug` event `adaptive concurrency limit changed` each time the limit
//! moves (not when the algorithm keeps it), emitted once the algorithm's
//! lock is released, with `limit` and `previous`, and the [`Sample`] that
//! moved it: `latency`, `in_flight` and `failure`.

mod aimd;
mod algorithm;
pub mod future;
mod gradient2;
mod handle;
mod layer;
mod limiter;
mod service;
mod vegas;

pub use self::aimd::Aimd;
pub use self::algorithm::{Algorithm, Sample};
pub use self::gradient2::Gradient2;
pub use self::handle::Handle;
pub use self::layer::AdaptiveConcurrencyLimitLayer;
pub use self::service::AdaptiveConcurrencyLimit;
pub use self::vegas::Vegas;
