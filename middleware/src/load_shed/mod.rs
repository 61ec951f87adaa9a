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

pub mod error;
pub mod future;
mod layer;
mod service;

pub use self::layer::LoadShedLayer;
pub use self::service::LoadShed;
