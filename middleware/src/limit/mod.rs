//! Limit how much work reaches a service: how many requests at once
//! ([`concurrency`]), how many per period of time (in fixed windows,
//! [`rate`], or smoothly, [`gcra`]), how many per period for each key of
//! the requests, in this process or across a fleet ([`keyed`]), and how
//! many at once with a limit that moves with the latency and failures the
//! service shows ([`adaptive`]: AIMD, Vegas, Gradient2, or your own
//! algorithm).
//!
//! All but one apply backpressure through `poll_ready`: a caller waits
//! (`Pending`) until the limit lets one more request through. Put a
//! [`LoadShed`](crate::load_shed::LoadShed) in front of them to fail
//! requests at once instead, or use [`try_concurrency`], a concurrency
//! limit that refuses the requests over it at once. Between the two, a
//! concurrency limit's waiters can be served by a [`QueueDiscipline`]:
//! refused CoDel's way once they have waited too long under a standing
//! queue, or served newest first under overload; [`QueueDelay`] reads how
//! long its oldest waiter has waited (a saturation signal for
//! [`PriorityShed`](crate::priority::PriorityShed)).
//!
//! Feature: `limit`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let service = ServiceBuilder::new()
//!     // At most 100 requests per second, and 10 at a time.
//!     .rate_limit(100, Duration::from_secs(1))
//!     .concurrency_limit(10)
//!     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n * 2) });
//! assert_eq!(service.oneshot(21).await?, 42);
//! # Ok(())
//! # }
//! ```

pub mod adaptive;
pub mod concurrency;
pub mod gcra;
pub mod keyed;
#[cfg(feature = "metrics")]
mod meter;
pub mod rate;
pub mod try_concurrency;

pub use self::adaptive::{AdaptiveConcurrencyLimit, AdaptiveConcurrencyLimitLayer};
pub use self::concurrency::{ConcurrencyLimit, ConcurrencyLimitLayer, GlobalConcurrencyLimitLayer};
pub use self::gcra::{Gcra, GcraLayer};
pub use self::keyed::{KeyedRateLimit, KeyedRateLimitLayer, SharedRateLimit, SharedRateLimitLayer};
pub use self::rate::{RateLimit, RateLimitLayer};
pub use self::try_concurrency::{TryConcurrencyLimit, TryConcurrencyLimitLayer};
pub use crate::discipline::{QueueDelay, QueueDiscipline};
