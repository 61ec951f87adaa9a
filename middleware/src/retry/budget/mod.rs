//! Retry budgets: allow retries only up to a share of the requests, so that
//! retries cannot multiply the load on a service that is failing.
//!
//! A retry policy holding a budget calls [`Budget::deposit`] for each
//! request (or each success) and [`Budget::withdraw`] before each retry,
//! retrying only when the withdrawal succeeds. [`TpsBudget`] is a budget
//! over a sliding window of time.
//!
//! [`InFlightBudget`] bounds retries and hedges by the load now instead: at
//! most a share of the executions in flight (with a floor) may be retries
//! or hedges, one budget shared by every retry policy and
//! [`Hedge`](crate::hedge::Hedge) that holds it.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use donjon::retry::budget::{Budget, TpsBudget};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! // Retries may add 50% to the requests of the last 10 seconds, with no
//! // minimum allowance.
//! let budget = TpsBudget::new(Duration::from_secs(10), 0, 0.5);
//! assert!(!budget.withdraw(), "nothing deposited yet");
//! budget.deposit();
//! budget.deposit();
//! assert!(budget.withdraw(), "two requests pay for one retry");
//! assert!(!budget.withdraw());
//! # }
//! ```
//!
//! # Events
//!
//! With the `tracing` feature, [`TpsBudget`] emits a `warn` event
//! `retry budget exhausted: retries are refused until requests pay in` when
//! it refuses a withdrawal after having granted the last one (not at each
//! refusal), with `balance` (the retries it holds, a fraction below one),
//! `reserve` (the retries always allowed over the window), `per_request`
//! (the share of a retry each deposit pays) and `ttl`.

pub mod in_flight;
pub mod tps_budget;

pub use self::in_flight::InFlightBudget;
pub use self::tps_budget::TpsBudget;

/// A store of retries that requests pay into and retries draw from.
///
/// Implementations are shared (`&self`) between every request of a policy,
/// typically behind an `Arc`.
pub trait Budget {
    /// Pays in for one request.
    fn deposit(&self);

    /// Takes out the cost of one retry, returning whether there was enough;
    /// a policy should not retry when this returns `false`.
    fn withdraw(&self) -> bool;
}
