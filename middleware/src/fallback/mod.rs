//! Answer from a fallback when a call fails.
//!
//! [`Fallback`] sends each request to its inner service; when the call
//! counts as failed (a [`Classify`](crate::classify::Classify) decides, by
//! default every error), it answers from a second service instead: a cached
//! value, a degraded answer, another backend. That service receives a
//! [`Failure`]: the failed outcome (the error, shared, or the response that
//! counted as a failure) and, when it could be kept, the request.
//!
//! Requests are kept by a [`KeepRequest`]: [`CloneRequest`] (the default)
//! clones each request before the call, [`DropRequest`] keeps none (for
//! requests that cannot be cloned), and a closure can keep part of one.
//!
//! Feature: `fallback`.
//!
//! # Examples
//!
//! ```
//! use donjon::fallback::{Failure, Fallback};
//! use donjon::{BoxError, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let primary = service_fn(|key: String| async move {
//!     if key == "missing" {
//!         Err::<String, BoxError>("not found".into())
//!     } else {
//!         Ok(format!("value of {key}"))
//!     }
//! });
//! let stale = service_fn(|failure: Failure<String, String>| async move {
//!     let key = failure.request().cloned().unwrap_or_default();
//!     Ok::<_, BoxError>(format!("stale value of {key}"))
//! });
//! let service = Fallback::new(primary, stale);
//!
//! assert_eq!(service.clone().oneshot("a".to_string()).await?, "value of a");
//! assert_eq!(service.oneshot("missing".to_string()).await?, "stale value of missing");
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, a `debug` event for each call answered by
//! the fallback: `fallback: the call failed; answering from the fallback`,
//! with `error`, or
//! `fallback: the response counted as a failure; answering from the fallback`.

pub mod error;
mod failure;
pub mod future;
mod keep;
mod layer;
mod service;

pub use self::failure::{Failure, SharedError};
pub use self::keep::{CloneRequest, DropRequest, KeepRequest};
pub use self::layer::FallbackLayer;
pub use self::service::Fallback;
