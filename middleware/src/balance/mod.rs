//! Spread requests over a changing set of endpoints, by "power of two
//! choices".
//!
//! [`p2c::Balance`] takes its endpoints from a
//! [`Discover`](crate::discover::Discover), keeps the ready ones apart, and
//! sends each request to the less loaded (by [`Load`](crate::load::Load)) of
//! two ready endpoints picked at random. Picking costs the same whatever the
//! number of endpoints, and the random pairs keep a slow endpoint from being
//! either flooded or ignored.
//!
//! Three modules judge the endpoints, each by wrapping those a discovery
//! finds, so that they compose with any discovery and with each other:
//! [`outlier`] ejects endpoints that keep failing or fail far more than
//! their peers (Envoy's outlier detection), [`slow_start`] ramps a new
//! endpoint's share of traffic up over a window, and [`health`] takes
//! endpoints whose active health check fails out of the ready set. An
//! endpoint taken out is not ready (never failed, which would make the
//! balancer drop it), so p2c does not pick it until it is back.
//!
//! Feature: `balance`.
//!
//! # Examples
//!
//! ```
//! use donjon::balance::p2c::Balance;
//! use donjon::discover::ServiceList;
//! use donjon::load::Constant;
//! use donjon::{BoxError, ServiceExt, service_fn};
//!
//! # futures::executor::block_on(async {
//! let endpoint = |name: &'static str| {
//!     // A constant load for the example; PeakEwma measures real latency.
//!     Constant::new(service_fn(move |()| async move { Ok::<_, BoxError>(name) }), 1)
//! };
//! let balance = Balance::new(ServiceList::new(vec![endpoint("a"), endpoint("b")]));
//! let answer = balance.oneshot(()).await?;
//! assert!(answer == "a" || answer == "b");
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```
//!
//! # Events
//!
//! `debug` events, each with `endpoints` (those left, ready or pending):
//! `load balancer: endpoint inserted`, `load balancer: endpoint removed`
//! (a removal of an unknown key emits nothing), and
//! `load balancer: dropped an endpoint whose readiness failed`, with
//! `error`. A `trace` event `load balancer: picked` gives the two loads
//! compared. With
//! [`with_background_readiness`](p2c::Balance::with_background_readiness),
//! the readiness tasks run in the span current when the balancer's
//! `poll_ready` spawned them.

pub mod error;
pub mod health;
pub mod outlier;
pub mod p2c;
pub mod slow_start;
