//! Smooth rate limiting: the generic cell rate algorithm (GCRA).
//!
//! A [`Gcra`] limit lets requests through at a steady rate with a bounded
//! burst, described by a [`Quota`]: in **any** interval of length `t`, at
//! most `burst + rate × t` requests pass. Use it instead of
//! [`RateLimit`](crate::limit::RateLimit) when bursts across a window's end
//! matter: a fixed window of `n` per period lets `2n` through in one period
//! that straddles two windows, where a GCRA limit lets at most
//! `burst + n` through in any period, with the burst yours to choose (a
//! burst of 1 spaces requests evenly; the default, `n`, matches the fixed
//! window's worst case and lets a quiet client spend a period's worth at
//! once).
//!
//! Its state is one atomic word per limit. The same arithmetic drives the
//! [keyed limits](crate::limit::keyed), which keep one such state per key,
//! in process or in a store shared by a fleet.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::gcra::{Gcra, Quota};
//! use futures::FutureExt;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! // 4 per second, spaced: a burst of one.
//! let quota = Quota::new(4, Duration::from_secs(1))?.with_burst(1)?;
//! let mut limited = Gcra::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n) }), quota);
//!
//! limited.ready().await?.call(1).await?;
//! assert!(limited.ready().now_or_never().is_none());
//! tokio::time::advance(Duration::from_millis(250)).await;
//! assert_eq!(limited.ready().await?.call(2).await?, 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `debug` event `gcra: the limit is reached; a caller waits` each time a
//! handle starts waiting (not at each poll while it waits), with the
//! [`Quota`]'s `burst`, `num` and `per`, and `retry_in` (how long until its
//! request would be admitted).

pub mod error;
mod layer;
pub(crate) mod math;
mod quota;
mod service;
pub(crate) mod state;

pub use self::layer::GcraLayer;
pub use self::quota::Quota;
pub use self::service::Gcra;
