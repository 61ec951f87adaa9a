//! The error of [`Throttle`](super::Throttle).

use std::fmt;

/// The error of a request the client refused itself, without sending it,
/// because the backend accepted too few of the recent ones.
///
/// A [`Throttle`](super::Throttle) returns it boxed in a
/// [`BoxError`](crate::BoxError): recognise it with
/// `error.is::<Throttled>()`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttled {
    probability: f64,
}

impl Throttled {
    pub(super) fn new(probability: f64) -> Self {
        Throttled { probability }
    }

    /// The probability of refusal the request was drawn against, between 0
    /// and 1.
    pub fn probability(&self) -> f64 {
        self.probability
    }
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "request throttled by the client: the backend accepted too few recent requests \
             (refused with probability {:.3})",
            self.probability
        )
    }
}

impl std::error::Error for Throttled {}
