//! Metrics through the [`metrics`](https://docs.rs/metrics) facade: what
//! happens to requests, and what state the middleware is in, recorded by
//! whichever recorder the application installs (Prometheus, OpenTelemetry,
//! StatsD...).
//!
//! Use [`MetricsLayer`] where a stack's requests should be counted and timed
//! (the RED metrics: rate, errors, duration), under a `name` label that tells
//! this stack from others. Every metric donjon records follows the naming
//! scheme below. Install the recorder before building the stacks: each
//! metric's handle is taken from the recorder when the service is made.
//!
//! # Examples
//!
//! ```
//! # #[cfg(feature = "util")]
//! # fn main() {
//! use donjon::{BoxError, ServiceBuilder, ServiceExt};
//! use metrics_util::debugging::{DebugValue, DebuggingRecorder};
//!
//! let recorder = DebuggingRecorder::new();
//! let snapshotter = recorder.snapshotter();
//! let service = metrics::with_local_recorder(&recorder, || {
//!     ServiceBuilder::new()
//!         .metrics("greeter")
//!         .service_fn(|name: &'static str| async move {
//!             if name.is_empty() {
//!                 return Err(BoxError::from("no name"));
//!             }
//!             Ok(format!("hello, {name}"))
//!         })
//! });
//!
//! # futures::executor::block_on(async {
//! service.clone().oneshot("donjon").await?;
//! assert!(service.clone().oneshot("").await.is_err());
//! # Ok::<(), BoxError>(())
//! # }).unwrap();
//!
//! // The count of `metric` for the greeter (and a kind, if given).
//! let snapshot = snapshotter.snapshot().into_vec();
//! let count = |metric: &str, kind: Option<&str>| {
//!     snapshot.iter().find_map(|(key, _, _, value)| {
//!         let key = key.key();
//!         let has = |label: &str, wanted: &str| {
//!             key.labels().any(|l| l.key() == label && l.value() == wanted)
//!         };
//!         let ours = has("name", "greeter") && kind.is_none_or(|kind| has("kind", kind));
//!         match value {
//!             DebugValue::Counter(count) if key.name() == metric && ours => Some(*count),
//!             _ => None,
//!         }
//!     })
//! };
//! assert_eq!(count("donjon_requests_total", None), Some(2));
//! assert_eq!(count("donjon_request_errors_total", Some("other")), Some(1));
//! assert_eq!(count("donjon_request_errors_total", Some("timeout")), Some(0));
//! # }
//! # #[cfg(not(feature = "util"))]
//! # fn main() {}
//! ```
//!
//! # Names
//!
//! Every metric starts with `donjon_`; counters end in `_total`, durations
//! are in seconds and end in `_seconds`. Each carries the `name` label,
//! chosen by the user for each layer instance, so that two stacks (or two
//! breakers) are told apart.
//!
//! | name | kind | unit | labels | what |
//! |---|---|---|---|---|
//! | `donjon_requests_total` | counter | requests | `name` | requests called through a [`Metrics`] |
//! | `donjon_request_errors_total` | counter | requests | `name`, `kind` | requests that failed, by [kind](error_kind) |
//! | `donjon_requests_cancelled_total` | counter | requests | `name` | response futures dropped before they finished |
//! | `donjon_request_duration_seconds` | histogram | seconds | `name` | from the call to the response or the error |
//! | `donjon_requests_in_flight` | gauge | requests | `name` | called and neither finished nor dropped |
//! | `donjon_circuit_breaker_state` | gauge | 1 or 0 | `name`, `state` | 1 for the [breaker](crate::circuit_breaker)'s state (`closed`, `open`, `half_open`, `forced_open`, `disabled`), 0 for the others |
//! | `donjon_circuit_breaker_transitions_total` | counter | transitions | `name`, `to` | changes of state, by the state entered |
//! | `donjon_load_shed_total` | counter | requests | `name` | requests a [`LoadShed`](crate::load_shed::LoadShed) shed (failed with `Overloaded` without reaching the inner service) |
//! | `donjon_fallbacks_total` | counter | requests | `name` | calls a [`Fallback`](crate::fallback::Fallback)'s fallback answered with a response |
//! | `donjon_priority_refusals_total` | counter | requests | `name`, `priority` | requests a [`PriorityShed`](crate::priority::PriorityShed) refused, by class (`SHEDDABLE`, `SHEDDABLE_PLUS`, `CRITICAL`, `CRITICAL_PLUS`) |
//! | `donjon_throttled_total` | counter | requests | `name` | requests a [`Throttle`](crate::throttle::Throttle) refused locally |
//! | `donjon_throttle_probability` | gauge | 0 to 1 | `name` | the probability with which a `Throttle` refuses a request, as of its last count |
//! | `donjon_retries_total` | counter | requests | `name` | retries a [`Retry`](crate::retry::Retry) sent (not counting first attempts) |
//! | `donjon_retry_budget_balance` | gauge | retries | `name` | retries a [`TpsBudget`](crate::retry::budget::TpsBudget) could pay for, as its last withdrawal left it |
//! | `donjon_hedges_total` | counter | requests | `name` | hedges a [`Hedge`](crate::hedge::Hedge) sent (copies of slow requests) |
//! | `donjon_hedges_won_total` | counter | requests | `name` | hedges that answered before the request they copied (their answer is the response) |
//! | `donjon_balancer_endpoints` | gauge | endpoints | `name`, `state` | endpoints a [`Balance`](crate::balance::p2c::Balance) holds, `ready` or `pending`; balancers of one name add up |
//! | `donjon_outlier_ejected` | gauge | endpoints | `name` | endpoints an outlier detection has ejected now |
//! | `donjon_outlier_ejections_total` | counter | ejections | `name`, `reason` | ejections, by `reason` (`consecutive_failures`, `success_rate`) |
//! | `donjon_buffer_queue_depth` | gauge | requests | `name` | requests queued in a [`Buffer`](crate::buffer::Buffer), not yet taken by its worker; buffers of one name add up |
//! | `donjon_concurrency_limit_waiters` | gauge | callers | `name` | callers of a `ConcurrencyLimit` (or of a `GlobalConcurrencyLimitLayer`'s shared limit) waiting for a permit |
//! | `donjon_concurrency_limit_in_flight` | gauge | permits | `name` | permits of a `ConcurrencyLimit` or a `TryConcurrencyLimit` in use, from the `poll_ready` that takes one until the response is ready |
//! | `donjon_concurrency_limit_refusals_total` | counter | requests | `name` | requests a `TryConcurrencyLimit` refused, and callers a `ConcurrencyLimit`'s queue discipline refused |
//! | `donjon_adaptive_limit` | gauge | requests | `name` | the limit of an `AdaptiveConcurrencyLimit`, set whenever its algorithm moves it |
//! | `donjon_adaptive_limit_in_flight` | gauge | requests | `name` | requests in flight under an `AdaptiveConcurrencyLimit`, slots reserved by `poll_ready` included |
//! | `donjon_rate_limit_waits_total` | counter | callers | `name`, `limiter` | callers a rate limit made wait, each wait once, by `limiter`: `rate_limit` (fixed windows), `gcra`, `shared_rate_limit` |
//! | `donjon_rate_limit_refusals_total` | counter | requests | `name`, `limiter` | requests a rate limit refused because their key was over its limit, by `limiter`: `keyed_rate_limit` |
//!
//! `donjon-redis`'s fleet-wide concurrency limit records
//! `donjon_fleet_limit_leases`, `donjon_fleet_limit_refusals_total` and
//! `donjon_fleet_limit_fallbacks_total` with its own `metrics` feature (see
//! its `RedisSemaphoreBuilder::with_name`).
//!
//! The `name` of a [`Metrics`] is given to [`MetricsLayer::new`]; each other
//! middleware takes it from a `with_name` method on its layer or service (a
//! circuit breaker's, on its `Config`), and defaults to the middleware's
//! name in snake case (`"circuit_breaker"`, `"load_shed"`, `"buffer"`...).
//! A `const` constructor (`LoadShed::new`, `Retry::new`, `Fallback::new`)
//! cannot take handles from the recorder: a service made by one records
//! nothing until `with_name` names it; made by its layer, it records under
//! the default name.
//!
//! # Costs
//!
//! Without the `metrics` feature, nothing: no type, field or call of this
//! module exists. With it, a [`Metrics`] layer costs what its docs say per
//! request. The other middleware record their state where it changes: a
//! breaker's transition, a request shed, retried or hedged, a buffer's queue
//! growing or shrinking (under the lock its queue already takes), a
//! balancer's endpoints moving between ready and pending. Each type's docs
//! say what it adds to a request.

mod future;
mod kind;
mod layer;
pub(crate) mod names;
mod service;

pub use self::future::ResponseFuture;
pub use self::kind::error_kind;
pub use self::layer::MetricsLayer;
pub use self::service::Metrics;
