//! The metrics of the fleet-wide concurrency limit (feature `metrics`).

use metrics::{Counter, Gauge, SharedString};

use crate::OnFailure;

/// Leases of the semaphore this process holds in Redis.
pub(crate) const LEASES: &str = "donjon_fleet_limit_leases";
/// Tries to take a lease that Redis refused: every permit was held.
pub(crate) const REFUSALS: &str = "donjon_fleet_limit_refusals_total";
/// Tries Redis could not decide, which the failure policy decided.
pub(crate) const FALLBACKS: &str = "donjon_fleet_limit_fallbacks_total";

/// The handles of one semaphore, taken when it is built.
pub(super) struct Meter {
    pub(super) leases: Gauge,
    pub(super) refusals: Counter,
    pub(super) fallbacks: Counter,
}

impl Meter {
    /// The handles under the `name` label `name`; fallbacks also under the
    /// `policy` label.
    pub(super) fn new(name: String, on_failure: OnFailure) -> Self {
        let name = SharedString::from(name);
        let policy = match on_failure {
            OnFailure::FailOpen => "fail_open",
            OnFailure::FailClosed => "fail_closed",
            OnFailure::Local { .. } => "local",
        };
        let labels = [("name", name.clone())];
        Meter {
            leases: metrics::gauge!(LEASES, &labels),
            refusals: metrics::counter!(REFUSALS, &labels),
            fallbacks: metrics::counter!(
                FALLBACKS,
                &[("name", name), ("policy", SharedString::const_str(policy))]
            ),
        }
    }
}
