//! Client-side adaptive throttling: refuse requests locally, before they
//! reach a backend that is refusing them anyway.
//!
//! A [`Throttle`] keeps, over a sliding window, the count of requests made
//! and of requests the backend accepted, and refuses each new request with
//! probability `max(0, (requests − k × accepts) / (requests + 1))` (the
//! Google SRE book, "Handling Overload"). A healthy backend sees every
//! request; one that refuses most of them sees only a trickle, enough to
//! notice when it recovers, and the client answers the rest at once with
//! [`Throttled`](error::Throttled). What counts as accepted is a
//! [`Classify`](crate::classify::Classify)'s call (errors are refusals by
//! default).
//!
//! Feature: `throttle`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Layer, Service, ServiceExt, service_fn};
//! use donjon::throttle::ThrottleLayer;
//! use donjon::throttle::error::Throttled;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! // A backend that refuses everything.
//! let backend = service_fn(|_: u32| async { Err::<u32, BoxError>("unavailable".into()) });
//! let mut client = ThrottleLayer::new()
//!     .k(2.0)
//!     .window(Duration::from_secs(60), 6)
//!     .seed(7)
//!     .layer(backend);
//!
//! let mut throttled = 0;
//! for n in 0..100 {
//!     let error = client.ready().await.unwrap().call(n).await.unwrap_err();
//!     if error.is::<Throttled>() {
//!         throttled += 1;
//!     }
//! }
//! // After 10 refusals the probability is 10/11: most requests never left.
//! assert!(client.probability() > 0.9);
//! assert!(throttled > 50, "{throttled}");
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, a `warn` event `throttle: the backend
//! accepts too few requests, some are refused locally` when the
//! probability of refusal leaves zero, and an `info` event `throttle: the
//! backend accepts enough requests, none are refused` when it comes back to
//! zero, each with `requests`, `accepts` and `k` (and `probability`).

pub mod error;
pub mod future;
mod layer;
mod service;
mod window;

pub use self::layer::ThrottleLayer;
pub use self::service::Throttle;
