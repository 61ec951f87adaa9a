//! Outlier detection: take endpoints that keep failing, or fail far more
//! often than their peers, out of a load balancer for a while, with
//! Envoy's rules.
//!
//! Wrap the endpoints of a [`p2c::Balance`](super::p2c::Balance) (through
//! its discovery with [`OutlierDetection::discover`], or one by one with an
//! [`EjectableLayer`]): each becomes an [`Ejectable`] registered with one
//! shared [`Detector`], which classifies every finished call (by default,
//! errors are failures) and ejects an endpoint by making its `poll_ready`
//! `Pending` (never an error, which would make the balancer drop it) until
//! its ejection is over. The balancer keeps a pending endpoint aside, sends
//! it nothing, and takes it back when the timer of its ejection wakes it.
//! Nothing else changes: the balancer picks among the endpoints in
//! service, by their [`Load`](crate::load::Load), which `Ejectable` passes
//! through.
//!
//! Use it for endpoints that accept requests but answer them badly; for a
//! single service that should fail fast while its backend is down, see
//! [`circuit_breaker`](crate::circuit_breaker) instead.
//!
//! Feature: `balance`.
//!
//! # Examples
//!
//! ```
//! use donjon::balance::outlier::OutlierDetection;
//! use donjon::balance::p2c::Balance;
//! use donjon::discover::ServiceList;
//! use donjon::load::Constant;
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let endpoint = |name: &'static str, up: bool| {
//!     let answer = move |()| async move {
//!         if up { Ok(name) } else { Err(BoxError::from(format!("{name} is down"))) }
//!     };
//!     Constant::new(service_fn(answer), 1)
//! };
//! // Eject an endpoint at its third failure in a row, for 30 s.
//! let endpoints = OutlierDetection::new()
//!     .with_consecutive_failures(3)
//!     .discover(ServiceList::new(vec![endpoint("a", true), endpoint("b", false), endpoint("c", true)]));
//! let detector = endpoints.detector().clone();
//! let mut balance = Balance::new(endpoints);
//!
//! let mut failures = 0;
//! for _ in 0..100 {
//!     if balance.ready().await?.call(()).await.is_err() {
//!         failures += 1;
//!     }
//! }
//! assert_eq!(failures, 3, "b gets requests until its third failure, then none");
//! assert_eq!(detector.ejected_len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Rules
//!
//! Each rule follows Envoy's outlier detection, with the differences noted.
//!
//! - **Consecutive failures** (`consecutive_5xx`): an endpoint is ejected
//!   as soon as its N-th failure in a row is reported (5 by default). A
//!   success restarts the count; an [`Ignored`](crate::classify::Outcome)
//!   call neither counts nor restarts it. If the share of endpoints out is
//!   full at the N-th failure, every later failure in a row tries again
//!   (Envoy tries only at exactly the N-th), so that an endpoint still
//!   failing is ejected as soon as another one returns.
//! - **Success rate** (`success_rate_*`): at the end of each interval (10 s
//!   by default), the endpoints in service with at least `request_volume`
//!   calls (100) in that interval qualify; if at least `minimum_hosts` (5)
//!   do, those whose success rate is below `mean − stdev_factor × stdev` of
//!   the qualifying rates (population standard deviation; the factor is
//!   1.9) are ejected, the lowest rate first. The counts start again at
//!   zero for the next interval.
//! - **Length** (`base_ejection_time`, `max_ejection_time`): an endpoint's
//!   ejection multiplier (Envoy's back-off) grows by one at each ejection,
//!   as long as base × multiplier is below the cap, and the ejection lasts
//!   `min(base × multiplier, max)`: 30 s, 60 s, 90 s... up to 300 s by
//!   default (a cap below the base is raised to it). At the end of each
//!   interval, the multiplier of every endpoint that has been in service
//!   for the whole interval decreases by one, down to zero.
//! - **Return**: an endpoint is back in service exactly when its ejection
//!   ends (Envoy brings it back at the first interval tick after that). Its
//!   consecutive failures count from zero again, and its multiplier is
//!   kept: if it still fails, it is ejected after N more failures, for
//!   longer, unless it stayed in service long enough for the multiplier to
//!   decrease.
//! - **Share** (`max_ejection_percent`, as a fraction): an endpoint is
//!   ejected only if the endpoints ejected, itself included, are at most
//!   `⌊share × registered⌋` (0.1 by default), counted over the registered
//!   endpoints, ejected or not. When that rounds down to zero, one endpoint
//!   may still be ejected if another one stays in service (Envoy's
//!   `always_eject_one_host`, on here by default; see
//!   [`OutlierDetection::with_always_eject_one`]). When every endpoint
//!   fails, only the share is ejected: the others stay in service.
//! - A call reported while its endpoint is ejected (sent before the
//!   ejection) counts for nothing. A call whose response future is dropped
//!   before it finished counts for nothing either.
//!
//! Envoy's other detectors (gateway failures, local-origin errors, failure
//! percentage), the enforcement percentages (all 100 here) and the jitter
//! are not implemented.
//!
//! # Time
//!
//! The intervals are counted on tokio's clock from the detector's
//! creation. There is no timer for them: the end of an interval is
//! applied, as of that end, by the first report, poll or method call of
//! the detector after it. An interval in which nothing happened changes
//! nothing but the multipliers and the ejections that end, which are then
//! applied as of their own times, so that the outcome is the same as with
//! a timer. An ejected endpoint's `poll_ready` does set a timer, to wake
//! its task at the end of its ejection.
//!
//! # Events
//!
//! `info` events `outlier detection: endpoint ejected` (with `endpoint`,
//! the [`EndpointId`], `reason`, `duration`, `multiplier`, `ejected` and
//! `endpoints`) and `outlier detection: endpoint returned` (with `endpoint`
//! and `duration`, the ejection's length), and a `debug` event
//! `outlier detection: endpoint not ejected, as many as allowed are` when
//! the share keeps an endpoint in service. They are emitted when the
//! detector notices the change (see [Time](#time)).

mod config;
mod detector;
mod discover;
pub mod future;
mod layer;
mod service;
mod state;

pub use self::config::OutlierDetection;
pub use self::detector::{Detector, EndpointId};
pub use self::discover::OutlierDiscover;
pub use self::layer::EjectableLayer;
pub use self::service::Ejectable;
