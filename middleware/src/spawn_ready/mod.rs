//! Drive a service to readiness in a background task, so that callers
//! waiting on it do not have to keep polling it.
//!
//! Some services only make progress toward readiness while their
//! `poll_ready` is polled (a connection pool, a balancer). Behind a
//! [`SpawnReady`], a service that is not ready is moved into a spawned
//! tokio task that polls it until it is, and handed back then; callers are
//! woken when that happens.
//!
//! Feature: `spawn-ready`.
//!
//! # Examples
//!
//! ```
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//! use donjon::spawn_ready::SpawnReady;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let mut service = SpawnReady::new(service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) }));
//! assert_eq!(service.ready().await?.call(1).await?, 2);
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! None of its own: the spawned task runs in the span that was current when
//! `poll_ready` spawned it, so the inner service's events keep the caller's
//! span.

pub mod future;
mod layer;
mod service;

pub use self::layer::SpawnReadyLayer;
pub use self::service::SpawnReady;
