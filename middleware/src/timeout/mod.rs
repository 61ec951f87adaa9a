//! Fail requests that take longer than a set duration.
//!
//! [`Timeout`] bounds the time between `call` and the response: when the
//! inner service has not answered in time, the response future fails with
//! [`Elapsed`](error::Elapsed) and the inner future is dropped (cancelling
//! the work, if the inner service supports it). Waiting for readiness is
//! not bounded.
//!
//! Two variants:
//! - [`RequestTimeout`] takes each request's timeout from the request
//!   itself ([`TimeoutFor`]: a function of the request, `None` meaning no
//!   timeout, or with [`RequestTimeout::with_default`] a value the request
//!   may carry, falling back to a default);
//! - [`TotalTimeout`] also bounds the time spent waiting in `poll_ready`,
//!   so that a request stuck behind a rate limit times out too.
//!
//! Feature: `timeout`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//! use donjon::timeout::error::Elapsed;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let service = ServiceBuilder::new()
//!     .timeout(Duration::from_secs(1))
//!     .service_fn(|delay: Duration| async move {
//!         tokio::time::sleep(delay).await;
//!         Ok::<_, BoxError>("done")
//!     });
//!
//! assert_eq!(service.clone().oneshot(Duration::from_millis(10)).await?, "done");
//! let error = service.oneshot(Duration::from_secs(5)).await.unwrap_err();
//! assert!(error.is::<Elapsed>());
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! None: a timeout keeps no state that could change. The
//! [`Elapsed`](error::Elapsed) error reaches the caller, and the RED layer
//! of `donjon::metrics` (feature `metrics`) counts it under the
//! kind `timeout`.

pub mod error;
pub mod future;
mod layer;
mod per_request;
mod service;
mod total;

pub use self::layer::TimeoutLayer;
pub use self::per_request::{OrDefault, RequestTimeout, RequestTimeoutLayer, TimeoutFor};
pub use self::service::Timeout;
pub use self::total::{TotalTimeout, TotalTimeoutLayer};
