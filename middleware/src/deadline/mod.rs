//! Deadlines that travel with requests, and the middleware that honours
//! them.
//!
//! A [`Deadline`] is the moment by which a request's caller stops waiting.
//! It travels with the request (in an HTTP request's extensions, or
//! wherever a [`DeadlineFor`] finds it) and, between processes, as the
//! remaining time in a `grpc-timeout` header ([`grpc_timeout`]; with the
//! `http` feature, [`DeadlineToHeader`] writes it and
//! [`DeadlineFromHeader`] reads it back). Each hop then gives up when the
//! first one's caller has:
//!
//! - [`Timeout`](crate::timeout::Timeout) and
//!   [`TotalTimeout`](crate::timeout::TotalTimeout), given a `DeadlineFor`
//!   with `with_deadlines`, end a call at the earlier of their own duration
//!   and the request's deadline;
//! - [`Admit`] refuses, before any work, a request whose deadline has
//!   passed (or that has less time left than its work needs), with
//!   [`DeadlineExceeded`](error::DeadlineExceeded);
//! - `WithinDeadline` (features `retry` or `hedge`) makes a [`Retry`](crate::retry::Retry) or
//!   [`Hedge`](crate::hedge::Hedge) policy start no attempt once the
//!   deadline has passed, or when less than a set minimum remains.
//!
//! Feature: `deadline` (the HTTP parts: `http`).
//!
//! # Examples
//!
//! A request carrying its deadline, behind a timeout of a second: it gives
//! up at its own deadline, 100 ms.
//!
//! ```
//! use std::time::Duration;
//! use donjon::deadline::Deadline;
//! use donjon::timeout::Timeout;
//! use donjon::timeout::error::Elapsed;
//! use donjon::{BoxError, ServiceExt, service_fn};
//! use tokio::time::Instant;
//!
//! struct Query {
//!     work: Duration,
//!     deadline: Option<Deadline>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let slow = service_fn(|query: Query| async move {
//!     tokio::time::sleep(query.work).await;
//!     Ok::<_, BoxError>("done")
//! });
//! let service = Timeout::new(slow, Duration::from_secs(1))
//!     .with_deadlines(|query: &Query| query.deadline);
//!
//! let start = Instant::now();
//! let query = Query {
//!     work: Duration::from_secs(5),
//!     deadline: Some(Deadline::after(Duration::from_millis(100))),
//! };
//! let error = service.oneshot(query).await.unwrap_err();
//! assert!(error.is::<Elapsed>());
//! assert_eq!(start.elapsed(), Duration::from_millis(100));
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, [`Admit`] emits a `debug` event `deadline:
//! requests arrive with their time up, refused before any work`, with the
//! first refused request's `remaining` and `needed`, when it refuses a
//! request after admitting the one before (or refuses its first): once per
//! run of refusals of each service, clones apart, not once per request.

mod admit;
pub mod error;
pub mod future;
pub mod grpc_timeout;
#[cfg(feature = "http")]
mod http;
mod instant;
#[cfg(any(feature = "retry", feature = "hedge"))]
mod policy;

pub use self::admit::{Admit, AdmitLayer};
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use self::http::{
    DeadlineFromHeader, DeadlineFromHeaderLayer, DeadlineToHeader, DeadlineToHeaderLayer,
    FromExtensions, GRPC_TIMEOUT,
};
pub use self::instant::{Deadline, DeadlineFor, NoDeadline};
#[cfg(any(feature = "retry", feature = "hedge"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "retry", feature = "hedge"))))]
pub use self::policy::WithinDeadline;
