//! `tower`, answered by `donjon`.
//!
//! This crate is meant to be put in place of the `tower` crate with a
//! `[patch.crates-io]` section (see donjon's README): every crate in the
//! dependency tree that uses `tower::` then uses donjon's middleware, under
//! the same paths and with the same features. donjon's own modules
//! ([`circuit_breaker`], [`fallback`], the extra limits) appear under
//! `tower::` as well, behind the features of the same names.
//!
//! ```
//! # #[cfg(all(feature = "limit", feature = "timeout", feature = "util"))]
//! # async fn example() {
//! use std::time::Duration;
//! use tower::{ServiceBuilder, ServiceExt, service_fn};
//!
//! let service = ServiceBuilder::new()
//!     .timeout(Duration::from_secs(1))
//!     .concurrency_limit(8)
//!     .service(service_fn(|name: String| async move {
//!         Ok::<_, tower::BoxError>(format!("hello, {name}"))
//!     }));
//!
//! // The stack is donjon's: the timeout layer's service is donjon's `Timeout`.
//! let service: donjon::timeout::Timeout<_> = service;
//! assert_eq!(service.oneshot("world".to_owned()).await.unwrap(), "hello, world");
//! # }
//! ```

#![forbid(unsafe_code)]

pub use donjon::*;
