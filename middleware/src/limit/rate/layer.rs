use std::time::Duration;

use donjon_layer::Layer;

use super::{Rate, RateLimit};
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps each service in its own [`RateLimit`].
///
/// Each service it wraps gets its own budget; clones of one of those
/// services share that service's budget.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct RateLimitLayer {
    rate: Rate,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
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
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::RATE_LIMIT),
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)): `"rate_limit"`
    /// unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        RateLimit::with_parts(
            service,
            self.rate,
            #[cfg(feature = "metrics")]
            self.name.clone(),
        )
    }
}
