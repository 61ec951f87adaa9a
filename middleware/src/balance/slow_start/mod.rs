//! Slow start: a new endpoint's share of traffic ramps up over a window,
//! instead of taking its full share at once, so that a cold cache or a JIT
//! that is still compiling is not flooded.
//!
//! Use it in front of a load balancer that compares loads, such as
//! [`p2c::Balance`](super::p2c::Balance): [`SlowStartDiscover`] wraps every
//! endpoint a discovery finds in a [`Warming`], whose
//! [`load`](crate::load::Load::load) is the inner load divided by a weight
//! that grows from a minimum to 1 over the [`SlowStart`] window, along
//! Envoy's curve. A warming endpoint looks more loaded than it is, so the
//! balancer picks it less often; once warm, its load is the inner one (plus
//! one), and the balancer sees no difference. The balancer itself is not
//! changed.
//!
//! The inner loads are read as numbers through [`AsF64`], implemented for
//! the metrics of [`Constant`](crate::load::Constant) loads; the weight
//! scales the requests in flight that a load measure counts, so the share
//! of a warming endpoint grows with its weight: with a balancer choosing
//! between it and an equally loaded warm endpoint, it gets about
//! `f / (1 + f)` of the requests at weight `f`, half once warm.
//!
//! Which endpoints warm up: every one inserted after the discovery's first
//! batch (the endpoints a balancer finds on its first `poll_ready`), a
//! replacement included. The first batch serves at full weight at once,
//! unless [`SlowStart::with_warm_initial`] says otherwise.
//!
//! Feature: `balance`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::balance::p2c::Balance;
//! use donjon::balance::slow_start::{SlowStart, SlowStartDiscover};
//! use donjon::discover::Change;
//! use donjon::load::Constant;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), BoxError> {
//! let endpoint = |name: &'static str| {
//!     // A constant load for the example; a load measure counts real ones.
//!     Constant::new(service_fn(move |()| async move { Ok::<_, BoxError>(name) }), 0_u32)
//! };
//! let (changes, discover) = futures::channel::mpsc::unbounded();
//! let insert = |name| changes.unbounded_send(Ok::<_, BoxError>(Change::Insert(name, endpoint(name))));
//! insert("old").map_err(|_| "closed")?;
//!
//! let config = SlowStart::new(Duration::from_secs(30));
//! let mut balance = Balance::new(SlowStartDiscover::new(discover, config));
//! // The first batch serves at once.
//! assert_eq!(balance.ready().await?.call(()).await?, "old");
//!
//! // A new endpoint looks more loaded than the old one (with these equal,
//! // constant loads, always) until its window has passed.
//! insert("new").map_err(|_| "closed")?;
//! for _ in 0..10 {
//!     assert_eq!(balance.ready().await?.call(()).await?, "old");
//! }
//! tokio::time::advance(Duration::from_secs(30)).await;
//! let mut answers = Vec::new();
//! for _ in 0..50 {
//!     answers.push(balance.ready().await?.call(()).await?);
//! }
//! assert!(answers.contains(&"new"), "warm: picked too");
//! # Ok(())
//! # }
//! ```
//!
//! # Events
//!
//! None: the weights are read by the balancer, whose `trace` event
//! `load balancer: picked` shows the [`Weighted`] loads compared.

mod config;
mod cost;
mod discover;
mod service;

pub use self::config::SlowStart;
pub use self::cost::AsF64;
pub use self::discover::SlowStartDiscover;
pub use self::service::{Warming, Weighted};
