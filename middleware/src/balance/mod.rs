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

pub mod error;
pub mod p2c;
