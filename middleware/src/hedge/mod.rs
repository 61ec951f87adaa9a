//! Send a second copy of a request that is taking longer than most, and
//! answer with whichever copy finishes first.
//!
//! [`Hedge`] keeps a histogram of recent response times. When a request has
//! been in flight longer than a chosen quantile of them (say the 90th
//! percentile), and its [`Policy`] allows it, a copy is sent to a clone of
//! the service; the first response to arrive, success or error, is the
//! answer, and the other attempt is cancelled. This trims the tail of the
//! latency distribution at the cost of some extra load, which is capped.
//!
//! Feature: `hedge`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, ServiceExt, service_fn};
//! use donjon::hedge::{Hedge, Policy};
//!
//! /// Hedges every request: they are all idempotent reads.
//! #[derive(Clone)]
//! struct Reads;
//!
//! impl Policy<String> for Reads {
//!     fn clone_request(&self, request: &String) -> Option<String> {
//!         Some(request.clone())
//!     }
//!     fn can_retry(&self, _request: &String) -> bool {
//!         true
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let lookup = service_fn(|key: String| async move { Ok::<_, BoxError>(key.len()) });
//! // Hedge past the 90th percentile (0.9: a fraction, not a percentage), once
//! // 10 response times were seen, over one-minute periods.
//! let hedged = Hedge::new(lookup, Reads, 10, 0.9, Duration::from_secs(60));
//! assert_eq!(hedged.oneshot("key".to_string()).await?, 3);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, a `debug` event
//! `hedge: the request outlived the latency threshold; sending a copy`
//! as each hedge is sent, in the caller's span (the hedge is sent from the
//! caller's own future), with `delay` (the latency threshold it outlived),
//! `percentile` (the quantile that threshold was read at) and `budget_left`
//! (the hedges the budget can still pay for).

mod future;
mod histogram;
#[cfg(feature = "metrics")]
mod meter;
mod policy;
mod service;

pub use self::future::Future;
#[doc(hidden)]
pub use self::future::HedgedFuture;
pub use self::policy::Policy;
pub use self::service::Hedge;
#[doc(hidden)]
pub use self::service::Hedged;
