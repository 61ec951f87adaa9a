//! The `kind` label of a failed request: which of donjon's failures it is.

use std::any::Any;
use std::error::Error;

use crate::BoxError;

/// The kind of a failure, as the `kind` label of
/// `donjon_request_errors_total` shows it: `"timeout"` (a timeout, or a
/// request refused because its deadline had passed), `"overloaded"`,
/// `"circuit_open"`, `"rate_limited"`, `"throttled"` (refused by a
/// client-side [`Throttle`](crate::throttle::Throttle)), `"unavailable"` (a
/// buffer or a reconnecting service whose inner service failed or is gone)
/// or `"other"`.
///
/// The error is recognised whether it is one of donjon's error types itself
/// or a [`BoxError`] holding one, and through the chain of its
/// [`source`](Error::source)s.
///
/// ```
/// use donjon::BoxError;
/// use donjon::metrics::error_kind;
///
/// let refused: BoxError = donjon::load_shed::error::Overloaded::new().into();
/// assert_eq!(error_kind(&refused), "overloaded");
/// assert_eq!(error_kind(&BoxError::from("no such user")), "other");
/// assert_eq!(error_kind(&std::io::Error::other("reset")), "other");
/// ```
pub fn error_kind<E: 'static>(error: &E) -> &'static str {
    KINDS[kind_index(error)]
}

/// Every kind [`error_kind`] answers, `"other"` last.
pub(crate) const KINDS: [&str; 7] = [
    "timeout",
    "overloaded",
    "circuit_open",
    "rate_limited",
    "throttled",
    "unavailable",
    OTHER,
];
const OTHER: &str = "other";

/// The index in [`KINDS`] of `error`'s kind.
pub(crate) fn kind_index<E: 'static>(error: &E) -> usize {
    let any: &dyn Any = error;
    let kind = if let Some(boxed) = any.downcast_ref::<BoxError>() {
        kind_of_chain(&**boxed)
    } else if let Some(boxed) = any.downcast_ref::<Box<dyn Error + Send>>() {
        kind_of_chain(&**boxed)
    } else if let Some(boxed) = any.downcast_ref::<Box<dyn Error>>() {
        kind_of_chain(&**boxed)
    } else {
        known_kind(any).unwrap_or(OTHER)
    };
    KINDS
        .iter()
        .position(|known| *known == kind)
        .expect("every kind answered is in KINDS")
}

/// The kind of the first error of the chain that donjon knows.
fn kind_of_chain(error: &(dyn Error + 'static)) -> &'static str {
    let mut next = Some(error);
    while let Some(error) = next {
        // `dyn Error` is not `dyn Any`: each known type is tried in turn.
        if let Some(kind) = known_kind_of_error(error) {
            return kind;
        }
        next = error.source();
    }
    OTHER
}

/// Tries each of donjon's error types on `$value` with `$is`, answering the
/// kind of the first that matches.
macro_rules! kinds {
    ($value:expr, $is:ident) => {{
        let _ = &$value;
        #[cfg(feature = "timeout")]
        if $value.$is::<crate::timeout::error::Elapsed>() {
            return Some("timeout");
        }
        #[cfg(feature = "deadline")]
        if $value.$is::<crate::deadline::error::DeadlineExceeded>() {
            return Some("timeout");
        }
        #[cfg(any(feature = "limit", feature = "load-shed"))]
        if $value.$is::<crate::overloaded::Overloaded>() {
            return Some("overloaded");
        }
        #[cfg(feature = "circuit-breaker")]
        if $value.$is::<crate::circuit_breaker::error::CircuitOpen>() {
            return Some("circuit_open");
        }
        #[cfg(feature = "limit")]
        if $value.$is::<crate::limit::keyed::error::RateLimited>() {
            return Some("rate_limited");
        }
        #[cfg(feature = "throttle")]
        if $value.$is::<crate::throttle::error::Throttled>() {
            return Some("throttled");
        }
        #[cfg(feature = "buffer")]
        if $value.$is::<crate::buffer::error::Closed>()
            || $value.$is::<crate::buffer::error::ServiceError>()
        {
            return Some("unavailable");
        }
        #[cfg(feature = "reconnect")]
        if $value.$is::<crate::reconnect::error::Exhausted>() {
            return Some("unavailable");
        }
        None
    }};
}

fn known_kind(value: &dyn Any) -> Option<&'static str> {
    kinds!(value, is)
}

fn known_kind_of_error(value: &(dyn Error + 'static)) -> Option<&'static str> {
    kinds!(value, is)
}
