//! Active health checks: a probe of your own, run at an interval against
//! each endpoint; failing endpoints leave the ready set until they pass
//! again.
//!
//! Use it when an endpoint can be broken while still accepting requests (a
//! server up but its database down, say), or to find out before a request
//! does. [`HealthCheckDiscover`] wraps every endpoint a discovery finds in a
//! [`Checked`], and spawns for each a task that runs the [`Probe`] at once,
//! then every [`HealthCheck::interval`]. After
//! [`unhealthy_threshold`](HealthCheck::unhealthy_threshold) failures in a
//! row (a probe that times out fails), the endpoint is unhealthy: it is not
//! ready (`Pending`, never an error, so a balancer keeps it), and a
//! balancer such as [`p2c::Balance`](super::p2c::Balance) moves it out of
//! its ready set and sends it nothing. After
//! [`healthy_threshold`](HealthCheck::healthy_threshold) passes in a row it
//! is ready again, and the task waiting on it is woken.
//!
//! Checks are optional per endpoint: the probe's
//! [`checks`](Probe::checks) (or a [`ProbeIf`] predicate) decides, from the
//! key, when the endpoint is inserted; an endpoint not checked is never
//! probed and always healthy. The probing task ends when its endpoint is
//! dropped: removed from the discovery, say.
//!
//! Feature: `balance`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::balance::health::{HealthCheck, HealthCheckDiscover};
//! use donjon::balance::p2c::Balance;
//! use donjon::discover::ServiceList;
//! use donjon::load::Constant;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let endpoint = |name: &'static str| {
//!     Constant::new(service_fn(move |()| async move { Ok::<_, BoxError>(name) }), 0_u32)
//! };
//! // Endpoints keyed by position; the second one fails its probes.
//! let probe = |index: &usize| {
//!     let index = *index;
//!     async move { if index == 1 { Err("no answer") } else { Ok(()) } }
//! };
//! let endpoints = ServiceList::new(vec![endpoint("up"), endpoint("down")]);
//! let config = HealthCheck::new(Duration::from_secs(5));
//! let mut balance = Balance::new(HealthCheckDiscover::new(endpoints, config, probe));
//!
//! // Probed at once, then 5 s later: two failures, unhealthy.
//! balance.ready().await?;
//! tokio::time::sleep(Duration::from_secs(6)).await;
//! for _ in 0..20 {
//!     assert_eq!(balance.ready().await?.call(()).await?, "up");
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! `debug` events, with `endpoint` (the key, by `Debug`):
//! `health check: endpoint became unhealthy`, with `failures` (the
//! threshold reached) and `error` (the last probe's, or how long it timed
//! out after), and `health check: endpoint became healthy`, with `passes`.
//! A `trace` event `health check: probe failed`, with `error`, for every
//! failed probe. The probing tasks run in the span current when their
//! endpoint was made (for a balancer, when its `poll_ready` took the
//! endpoint in).

mod config;
mod discover;
mod probe;
mod service;

pub use self::config::HealthCheck;
pub use self::discover::HealthCheckDiscover;
pub use self::probe::{Probe, ProbeIf};
pub use self::service::Checked;
