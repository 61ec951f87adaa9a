use std::fmt;

use donjon_layer::Layer;

use super::Retry;

/// A [`Layer`] that wraps services in a [`Retry`] with a clone of its
/// policy.
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct RetryLayer<P> {
    policy: P,
    /// The `name` label of its services' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl<P> RetryLayer<P> {
    /// Creates a layer retrying as `policy` decides.
    pub const fn new(policy: P) -> Self {
        RetryLayer {
            policy,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("retry"),
        }
    }

    /// Names its services in their metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"retry"` unless set. Each service
    /// takes its handle from the recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<P: Clone, S> Layer<S> for RetryLayer<P> {
    type Service = Retry<P, S>;

    fn layer(&self, service: S) -> Self::Service {
        let service = Retry::new(self.policy.clone(), service);
        #[cfg(feature = "metrics")]
        let service = service.with_name(self.name.clone());
        service
    }
}

impl<P: fmt::Debug> fmt::Debug for RetryLayer<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryLayer")
            .field("policy", &self.policy)
            .finish()
    }
}
