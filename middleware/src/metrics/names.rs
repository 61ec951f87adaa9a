//! The names of donjon's metrics and of their labels: one list, which the
//! module's table documents.

/// The label naming the layer instance, given by the user.
pub(crate) const NAME: &str = "name";
/// The label giving a failure's kind ([`error_kind`](super::error_kind)).
pub(crate) const KIND: &str = "kind";
/// The label giving a state.
#[cfg(any(feature = "circuit-breaker", feature = "balance"))]
pub(crate) const STATE: &str = "state";
/// The label giving the state a transition led to.
#[cfg(feature = "circuit-breaker")]
pub(crate) const TO: &str = "to";

pub(crate) const REQUESTS: &str = "donjon_requests_total";
pub(crate) const REQUEST_ERRORS: &str = "donjon_request_errors_total";
pub(crate) const REQUESTS_CANCELLED: &str = "donjon_requests_cancelled_total";
pub(crate) const REQUEST_DURATION: &str = "donjon_request_duration_seconds";
pub(crate) const REQUESTS_IN_FLIGHT: &str = "donjon_requests_in_flight";

#[cfg(feature = "circuit-breaker")]
pub(crate) const BREAKER_STATE: &str = "donjon_circuit_breaker_state";
#[cfg(feature = "circuit-breaker")]
pub(crate) const BREAKER_TRANSITIONS: &str = "donjon_circuit_breaker_transitions_total";

#[cfg(feature = "load-shed")]
pub(crate) const LOAD_SHED: &str = "donjon_load_shed_total";
#[cfg(feature = "fallback")]
pub(crate) const FALLBACKS: &str = "donjon_fallbacks_total";
#[cfg(feature = "priority")]
pub(crate) const PRIORITY_REFUSALS: &str = "donjon_priority_refusals_total";
#[cfg(feature = "priority")]
pub(crate) const PRIORITY: &str = "priority";
#[cfg(feature = "throttle")]
pub(crate) const THROTTLED: &str = "donjon_throttled_total";
#[cfg(feature = "throttle")]
pub(crate) const THROTTLE_PROBABILITY: &str = "donjon_throttle_probability";
#[cfg(feature = "retry")]
pub(crate) const RETRIES: &str = "donjon_retries_total";
#[cfg(feature = "retry")]
pub(crate) const RETRY_BUDGET_BALANCE: &str = "donjon_retry_budget_balance";
#[cfg(feature = "hedge")]
pub(crate) const HEDGES: &str = "donjon_hedges_total";
#[cfg(feature = "hedge")]
pub(crate) const HEDGES_WON: &str = "donjon_hedges_won_total";
#[cfg(feature = "balance")]
pub(crate) const BALANCER_ENDPOINTS: &str = "donjon_balancer_endpoints";
#[cfg(feature = "balance")]
pub(crate) const OUTLIER_EJECTED: &str = "donjon_outlier_ejected";
#[cfg(feature = "balance")]
pub(crate) const OUTLIER_EJECTIONS: &str = "donjon_outlier_ejections_total";
/// The label giving why an endpoint was ejected: `consecutive_failures` or
/// `success_rate`.
#[cfg(feature = "balance")]
pub(crate) const REASON: &str = "reason";
#[cfg(feature = "buffer")]
pub(crate) const BUFFER_QUEUE_DEPTH: &str = "donjon_buffer_queue_depth";
/// The label giving the kind of rate limit: `rate_limit` or `gcra`.
/// The label giving the kind of rate limit: `rate_limit`, `gcra`,
/// `shared_rate_limit` or `keyed_rate_limit`.
#[cfg(feature = "limit")]
pub(crate) const LIMITER: &str = "limiter";

#[cfg(feature = "limit")]
pub(crate) const CONCURRENCY_WAITERS: &str = "donjon_concurrency_limit_waiters";
#[cfg(feature = "limit")]
pub(crate) const CONCURRENCY_IN_FLIGHT: &str = "donjon_concurrency_limit_in_flight";
#[cfg(feature = "limit")]
pub(crate) const CONCURRENCY_REFUSALS: &str = "donjon_concurrency_limit_refusals_total";
#[cfg(feature = "limit")]
pub(crate) const ADAPTIVE_LIMIT: &str = "donjon_adaptive_limit";
#[cfg(feature = "limit")]
pub(crate) const ADAPTIVE_IN_FLIGHT: &str = "donjon_adaptive_limit_in_flight";
#[cfg(feature = "limit")]
pub(crate) const RATE_LIMIT_WAITS: &str = "donjon_rate_limit_waits_total";
#[cfg(feature = "limit")]
pub(crate) const RATE_LIMIT_REFUSALS: &str = "donjon_rate_limit_refusals_total";
