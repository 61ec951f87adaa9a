//! Measures of how loaded a service is, for load balancers to compare
//! endpoints.
//!
//! A service that implements [`Load`] reports a metric (lower is less
//! loaded). The wrappers here add one to any service:
//!
//! - [`Constant`]: a fixed value, for tests or for weighting by hand;
//! - [`PendingRequests`]: the number of requests in flight;
//! - [`PeakEwma`]: a peak-sensitive moving average of response times,
//!   multiplied by the requests in flight, so that an endpoint that turns
//!   slow is avoided at once and tried again as its average decays.
//!
//! How long a request counts as "in flight" is up to a [`TrackCompletion`]
//! policy: by default, until its response future completes.
//!
//! Feature: `load`.
//!
//! # Examples
//!
//! ```
//! use donjon::load::{CompleteOnResponse, Load, PendingRequests};
//! use donjon::{BoxError, Service, ServiceExt, service_fn};
//!
//! # futures::executor::block_on(async {
//! let echo = service_fn(|n: u32| async move { Ok::<_, BoxError>(n) });
//! let mut service = PendingRequests::new(echo, CompleteOnResponse::default());
//! assert_eq!(service.load(), Default::default());
//!
//! let response = service.ready().await?.call(1);
//! assert!(service.load() > Default::default(), "one request in flight");
//! response.await?;
//! assert_eq!(service.load(), Default::default());
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//! ```

pub mod completion;
mod constant;
pub mod peak_ewma;
pub mod pending_requests;

pub use self::completion::{CompleteOnResponse, TrackCompletion};
pub use self::constant::Constant;
pub use self::peak_ewma::PeakEwma;
#[cfg(feature = "discover")]
pub use self::peak_ewma::PeakEwmaDiscover;
pub use self::pending_requests::PendingRequests;
#[cfg(feature = "discover")]
pub use self::pending_requests::PendingRequestsDiscover;

/// A measure of how loaded a service is: a lower metric means less loaded.
///
/// # Examples
///
/// ```
/// use donjon::load::Load;
///
/// /// A database replica, loaded by how far it lags behind.
/// struct Replica {
///     lag_ms: u64,
/// }
///
/// impl Load for Replica {
///     type Metric = u64;
///     fn load(&self) -> u64 {
///         self.lag_ms
///     }
/// }
///
/// assert!(Replica { lag_ms: 5 }.load() < Replica { lag_ms: 50 }.load());
/// ```
pub trait Load {
    /// The measure; only its ordering matters.
    type Metric: PartialOrd;

    /// Measures the load now.
    fn load(&self) -> Self::Metric;
}
