use std::fmt;
use std::time::Duration;

use donjon_layer::Layer;

use super::LoadShed;

/// A [`Layer`] that wraps services in a [`LoadShed`].
#[derive(Clone, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct LoadShedLayer {
    max_wait: Option<Duration>,
}

impl LoadShedLayer {
    /// Creates the layer.
    pub const fn new() -> Self {
        LoadShedLayer { max_wait: None }
    }

    /// Creates a layer whose services wait up to `max_wait` for the inner
    /// service before shedding; see
    /// [`LoadShed::with_max_wait`](super::LoadShed::with_max_wait).
    pub const fn with_max_wait(max_wait: Duration) -> Self {
        LoadShedLayer {
            max_wait: Some(max_wait),
        }
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, service: S) -> Self::Service {
        match self.max_wait {
            Some(max_wait) => LoadShed::with_max_wait(service, max_wait),
            None => LoadShed::new(service),
        }
    }
}

impl fmt::Debug for LoadShedLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max_wait {
            Some(max_wait) => f
                .debug_struct("LoadShedLayer")
                .field("max_wait", &max_wait)
                .finish(),
            None => f.write_str("LoadShedLayer"),
        }
    }
}
