use donjon_layer::Layer;

use super::Retry;

/// A [`Layer`] that wraps services in a [`Retry`] with a clone of its
/// policy.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct RetryLayer<P> {
    policy: P,
}

impl<P> RetryLayer<P> {
    /// Creates a layer retrying as `policy` decides.
    pub const fn new(policy: P) -> Self {
        RetryLayer { policy }
    }
}

impl<P: Clone, S> Layer<S> for RetryLayer<P> {
    type Service = Retry<P, S>;

    fn layer(&self, service: S) -> Self::Service {
        Retry::new(self.policy.clone(), service)
    }
}
