//! Limit how many requests a service takes per period of time.
//!
//! A [`RateLimit`] lets through at most `num` requests per window of `per`
//! (a [`Rate`]). A window opens with the first request after the previous
//! one ended; once its budget is spent, `poll_ready` waits until the window
//! ends.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::limit::rate::{Rate, RateLimit};
//! use futures::FutureExt;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let echo = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
//! let mut service = RateLimit::new(echo, Rate::new(2, Duration::from_secs(1)));
//!
//! service.ready().await?.call(1).await?;
//! service.ready().await?.call(2).await?;
//! // The budget of this second is spent.
//! assert!(service.ready().now_or_never().is_none());
//! tokio::time::advance(Duration::from_secs(1)).await;
//! assert_eq!(service.ready().await?.call(3).await?, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! A `debug` event
//! `rate limit: the window is exhausted; callers wait for the next one`,
//! once per window, when its first caller has to wait, with `budget` and
//! `per` (the [`Rate`]) and `ends_in` (the time left in the window; `None`
//! for a window too long to end).

mod budget;
mod layer;
#[allow(
    clippy::module_inception,
    reason = "the module is named after the type it holds"
)]
mod rate;
mod service;

pub use self::layer::RateLimitLayer;
pub use self::rate::Rate;
pub use self::service::RateLimit;
