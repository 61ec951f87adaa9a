//! Keep a connection-like service alive: make it, and make it again when
//! it fails.
//!
//! [`Reconnect`] wraps a [`MakeService`](crate::MakeService) (say, a
//! connector) and a target. It connects on the first `poll_ready`, forwards
//! requests to the connection, and when the connection's `poll_ready` fails
//! it drops it and connects again. A failed connection attempt is reported
//! through the next request rather than through `poll_ready`, so the service
//! itself stays usable and the attempt after that reconnects. Attempts can
//! be spaced by a backoff and bounded in number (see [`Reconnect`]).
//!
//! Feature: `reconnect`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::reconnect::Reconnect;
//!
//! # futures::executor::block_on(async {
//! // A "connector" whose connections echo what they get, tagged with the
//! // target. The connecting future must be `Unpin`: box it.
//! let connect = service_fn(|target: &'static str| Box::pin(async move {
//!     Ok::<_, BoxError>(service_fn(move |text: String| async move {
//!         Ok::<_, BoxError>(format!("{target} got {text}"))
//!     }))
//! }));
//! let mut service = Reconnect::new(connect, "db:5432");
//! let answer = service.ready().await?.call("ping".to_string()).await?;
//! assert_eq!(answer, "db:5432 got ping");
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```
//!
//! # Events
//!
//! - `debug` `reconnect: connection attempt failed`, with `failures` (in a
//!   row, this one included) and `backoff` (whether a delay comes next);
//! - `warn` `reconnect: connection attempt failed; giving up`, with
//!   `failures`, when the attempts allowed are spent;
//! - `debug` `reconnect: connected`, with `failures` (the failed attempts
//!   before it);
//! - `debug` `reconnect: connection failed; reconnecting`, with `error`;
//! - `trace` `reconnect: connecting`, as each attempt starts.

pub mod error;
mod future;
mod service;

pub use self::future::ResponseFuture;
pub use self::service::Reconnect;
