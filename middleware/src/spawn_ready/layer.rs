use donjon_layer::Layer;

use super::SpawnReady;

/// A [`Layer`] that wraps services in a [`SpawnReady`].
#[derive(Clone, Debug, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct SpawnReadyLayer(());

impl SpawnReadyLayer {
    /// Creates the layer.
    pub fn new() -> Self {
        SpawnReadyLayer(())
    }
}

impl<S> Layer<S> for SpawnReadyLayer {
    type Service = SpawnReady<S>;

    fn layer(&self, service: S) -> Self::Service {
        SpawnReady::new(service)
    }
}
