use std::fmt;

use donjon_layer::Layer;

use super::LoadShed;

/// A [`Layer`] that wraps services in a [`LoadShed`].
#[derive(Clone, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct LoadShedLayer(());

impl LoadShedLayer {
    /// Creates the layer.
    pub const fn new() -> Self {
        LoadShedLayer(())
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, service: S) -> Self::Service {
        LoadShed::new(service)
    }
}

impl fmt::Debug for LoadShedLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoadShedLayer")
    }
}
