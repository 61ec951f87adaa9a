//! Stop calling a service that keeps failing, and find out when it is back
//! with a few probe requests.
//!
//! Use a [`CircuitBreaker`] in front of a dependency that can go down or
//! slow to a crawl: rather than sending it every request (and making
//! callers wait for each to fail), the breaker notices the failures and
//! refuses requests at once for a while, which gives the dependency room to
//! recover and callers a fast answer. Behind a load balancer, in
//! [not-ready mode](OpenBehavior::NotReady), it takes a broken endpoint out
//! of rotation.
//!
//! # States
//!
//! - **Closed**: requests go through. Each finished call is classified (by
//!   a [`Classify`](crate::classify::Classify), by default
//!   [`ErrorsAreFailures`](crate::classify::ErrorsAreFailures)) as a
//!   success, a failure or ignored; successes and failures go into a
//!   sliding window, either the last N calls
//!   ([`Config::with_count_window`]) or the calls of the last T, in buckets
//!   ([`Config::with_time_window`]). The breaker trips when, with at least
//!   [`minimum_calls`](Config::with_minimum_calls) in the window, the
//!   failure rate reaches its threshold, or the slow-call rate does
//!   ([`Config::with_slow_calls`]); or after a number of failures in a row
//!   ([`Config::with_consecutive_failures`]).
//! - **Open**: requests are refused for the
//!   [open duration](Config::with_open_duration), which can grow each time
//!   the breaker opens again without closing in between
//!   ([`Config::with_open_backoff`]). Refused requests either fail at once
//!   with [`CircuitOpen`](error::CircuitOpen) (the default), or wait in
//!   `poll_ready` ([`OpenBehavior`]).
//! - **Half-open**: once the open period ends, exactly
//!   [`half_open_calls`](Config::with_half_open_calls) probe requests go
//!   through; others are refused (or wait) while they are in flight. When
//!   they have all finished, the breaker closes, or opens again if their
//!   failure (or slow-call) rate reaches its threshold.
//! - **Forced open** and **disabled**: set by hand through a [`Handle`],
//!   which also reads the state and the window's [`Figures`], and closes or
//!   resets the breaker.
//!
//! Reading the rates costs the same whatever the window's size: the window
//! keeps running totals. All time comes from tokio's clock, so tests can
//! drive the breaker with a paused clock. Each change of state emits a
//! `tracing` event (at `WARN` when opening, `INFO` otherwise) with the
//! figures that caused it.
//!
//! A call counts from `call` to its response; a response future dropped
//! before it is ready counts as nothing.
//!
//! Feature: `circuit-breaker`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::{BoxError, Layer, Service, ServiceExt};
//! use donjon::circuit_breaker::{CircuitBreakerLayer, Config, State};
//! use donjon::circuit_breaker::error::CircuitOpen;
//! # mod backend {
//! #     use std::future::{Ready, ready};
//! #     use std::task::{Context, Poll};
//! #     use donjon::BoxError;
//! #     /// Fails the requests for "down", answers the others.
//! #     pub struct Backend;
//! #     impl donjon::Service<&'static str> for Backend {
//! #         type Response = &'static str;
//! #         type Error = BoxError;
//! #         type Future = Ready<Result<&'static str, BoxError>>;
//! #         fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
//! #             Poll::Ready(Ok(()))
//! #         }
//! #         fn call(&mut self, request: &'static str) -> Self::Future {
//! #             ready(if request == "down" { Err("unavailable".into()) } else { Ok(request) })
//! #         }
//! #     }
//! # }
//! # use backend::Backend;
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! // Over the last 10 calls, once there are 4, trip at a failure rate of 50%.
//! let config = Config::new()
//!     .with_count_window(10)
//!     .with_minimum_calls(4)
//!     .with_failure_rate_threshold(0.5)
//!     .with_open_duration(Duration::from_secs(30));
//! let mut service = CircuitBreakerLayer::new(config).layer(Backend);
//! let handle = service.handle();
//!
//! for request in ["up", "down", "up", "down"] {
//!     let _ = service.ready().await?.call(request).await;
//! }
//! assert_eq!(handle.state(), State::Open);
//! assert_eq!(handle.figures().failure_rate(), 0.5);
//!
//! // Requests now fail at once, without reaching the backend.
//! let error = service.ready().await?.call("up").await.unwrap_err();
//! assert!(error.is::<CircuitOpen>());
//! assert_eq!(error.to_string(), "circuit breaker is open; next probe in 30s");
//!
//! // After 30 seconds, a probe goes through; its success closes the circuit.
//! tokio::time::advance(Duration::from_secs(30)).await;
//! assert_eq!(service.ready().await?.call("up").await?, "up");
//! assert_eq!(handle.state(), State::Closed);
//! # Ok(())
//! # }
//! ```

mod breaker;
mod config;
mod credit;
pub mod error;
pub mod future;
mod handle;
mod layer;
mod machine;
#[cfg(feature = "metrics")]
mod meter;
mod phase;
mod service;
mod ticket;
mod window;

pub use self::config::{Config, OpenBehavior};
pub use self::handle::{Figures, Handle, State};
pub use self::layer::CircuitBreakerLayer;
pub use self::service::CircuitBreaker;
