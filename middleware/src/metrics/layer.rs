use std::borrow::Cow;

use donjon_layer::Layer;

use super::Metrics;

/// Wraps services in [`Metrics`], which records their requests, errors,
/// durations and requests in flight under the `name` label it is given.
///
/// The handles of the metrics are taken from the recorder installed when
/// [`layer`](Layer::layer) is called: install the recorder before building
/// the stack.
#[derive(Clone, Debug)]
#[must_use]
pub struct MetricsLayer {
    name: Cow<'static, str>,
}

impl MetricsLayer {
    /// Creates the layer; `name` tells this instance's metrics from those of
    /// other instances (the `name` label).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        MetricsLayer { name: name.into() }
    }
}

impl<S> Layer<S> for MetricsLayer {
    type Service = Metrics<S>;

    fn layer(&self, inner: S) -> Metrics<S> {
        Metrics::new(inner, self.name.clone())
    }
}
