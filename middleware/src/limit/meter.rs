//! The metrics of the limits (feature `metrics`): the handles each limit
//! takes from the recorder when it is made, under the `name` it is given,
//! and the default names.
//!
//! A limit keeps its handles with its shared state where it has one (a
//! concurrency limit's gate, a rate limit's budget), so that cloning it
//! costs no more with the feature than without; the others keep them in
//! each handle, whose clones then cost one more reference count.

use std::borrow::Cow;

use metrics::{Counter, Gauge, SharedString};

use crate::metrics::names;
use crate::sync::GateMeter;

/// The default name of a [`ConcurrencyLimit`](super::ConcurrencyLimit).
pub(super) const CONCURRENCY_LIMIT: &str = "concurrency_limit";
/// The default name of the limit a
/// [`GlobalConcurrencyLimitLayer`](super::GlobalConcurrencyLimitLayer)
/// shares.
pub(super) const GLOBAL_CONCURRENCY_LIMIT: &str = "global_concurrency_limit";
/// The default name of a [`TryConcurrencyLimit`](super::TryConcurrencyLimit).
pub(super) const TRY_CONCURRENCY_LIMIT: &str = "try_concurrency_limit";
/// The default name of an
/// [`AdaptiveConcurrencyLimit`](super::AdaptiveConcurrencyLimit).
pub(super) const ADAPTIVE_CONCURRENCY_LIMIT: &str = "adaptive_concurrency_limit";
/// The default name of a [`RateLimit`](super::RateLimit), and its `limiter`
/// label.
pub(super) const RATE_LIMIT: &str = "rate_limit";
/// The default name of a [`Gcra`](super::Gcra), and its `limiter` label.
pub(super) const GCRA: &str = "gcra";
/// The default name of a [`KeyedRateLimit`](super::KeyedRateLimit), and its
/// `limiter` label.
pub(super) const KEYED_RATE_LIMIT: &str = "keyed_rate_limit";
/// The default name of a [`SharedRateLimit`](super::SharedRateLimit), and
/// its `limiter` label.
pub(super) const SHARED_RATE_LIMIT: &str = "shared_rate_limit";

/// The `name` label's value: a static name is not copied.
fn label(name: Cow<'static, str>) -> SharedString {
    SharedString::from(name)
}

/// A concurrency limit's gate meter: the callers waiting for a permit
/// (`waiters`, for a limit whose callers queue) and the permits in use.
pub(super) fn concurrency(name: Cow<'static, str>, waiters: bool) -> GateMeter {
    let labels = [(names::NAME, label(name))];
    GateMeter {
        waiters: if waiters {
            metrics::gauge!(names::CONCURRENCY_WAITERS, &labels)
        } else {
            Gauge::noop()
        },
        in_flight: metrics::gauge!(names::CONCURRENCY_IN_FLIGHT, &labels),
        refused: if waiters {
            metrics::counter!(names::CONCURRENCY_REFUSALS, &labels)
        } else {
            Counter::noop()
        },
    }
}

/// The requests a [`TryConcurrencyLimit`](super::TryConcurrencyLimit)
/// refuses.
pub(super) fn concurrency_refusals(name: Cow<'static, str>) -> Counter {
    metrics::counter!(names::CONCURRENCY_REFUSALS, &[(names::NAME, label(name))])
}

/// An adaptive limit's gauge of its limit, and its gate meter (the
/// requests in flight; its waiters are not recorded).
pub(super) fn adaptive(name: Cow<'static, str>) -> (Gauge, GateMeter) {
    let labels = [(names::NAME, label(name))];
    let limit = metrics::gauge!(names::ADAPTIVE_LIMIT, &labels);
    let gate = GateMeter {
        waiters: Gauge::noop(),
        in_flight: metrics::gauge!(names::ADAPTIVE_IN_FLIGHT, &labels),
        refused: Counter::noop(),
    };
    (limit, gate)
}

/// The callers a rate limit of kind `limiter` makes wait.
pub(super) fn rate_limit_waits(name: Cow<'static, str>, limiter: &'static str) -> Counter {
    let labels = [
        (names::NAME, label(name)),
        (names::LIMITER, SharedString::const_str(limiter)),
    ];
    metrics::counter!(names::RATE_LIMIT_WAITS, &labels)
}

/// The requests a rate limit of kind `limiter` refuses.
pub(super) fn rate_limit_refusals(name: Cow<'static, str>, limiter: &'static str) -> Counter {
    let labels = [
        (names::NAME, label(name)),
        (names::LIMITER, SharedString::const_str(limiter)),
    ];
    metrics::counter!(names::RATE_LIMIT_REFUSALS, &labels)
}
