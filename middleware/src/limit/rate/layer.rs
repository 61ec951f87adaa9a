use std::time::Duration;

use donjon_layer::Layer;

use super::{Rate, RateLimit};

/// A [`Layer`] that wraps each service in its own [`RateLimit`].
///
/// Each service it wraps gets its own budget; clones of one of those
/// services share that service's budget.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct RateLimitLayer {
    rate: Rate,
}

impl RateLimitLayer {
    /// Creates a layer allowing `num` requests per `per` for each service.
    ///
    /// # Panics
    ///
    /// If `num` or `per` is zero, as [`Rate::new`] does.
    pub const fn new(num: u64, per: Duration) -> Self {
        RateLimitLayer {
            rate: Rate::new(num, per),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        RateLimit::new(service, self.rate)
    }
}
