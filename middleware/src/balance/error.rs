//! The errors of the [`balance`](super) module.

use std::fmt;

use crate::BoxError;

/// The error of a balancer whose [`Discover`](crate::discover::Discover)
/// failed; its `source` is the discovery's error.
#[derive(Debug)]
pub struct Discover(pub(crate) BoxError);

impl fmt::Display for Discover {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "load balancer discovery error: {}", self.0)
    }
}

impl std::error::Error for Discover {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}
