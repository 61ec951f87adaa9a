use std::fmt;
use std::time::Duration;

use donjon_layer::Layer;

use super::LoadShed;

/// A [`Layer`] that wraps services in a [`LoadShed`].
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct LoadShedLayer {
    max_wait: Option<Duration>,
    /// The `name` label of its services' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl LoadShedLayer {
    /// Creates the layer.
    pub const fn new() -> Self {
        LoadShedLayer {
            max_wait: None,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("load_shed"),
        }
    }

    /// Creates a layer whose services wait up to `max_wait` for the inner
    /// service before shedding; see
    /// [`LoadShed::with_max_wait`](super::LoadShed::with_max_wait).
    pub const fn with_max_wait(max_wait: Duration) -> Self {
        LoadShedLayer {
            max_wait: Some(max_wait),
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed("load_shed"),
        }
    }

    /// Names its services in their metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"load_shed"` unless set. Each service
    /// takes its handle from the recorder installed when it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl Default for LoadShedLayer {
    fn default() -> Self {
        LoadShedLayer::new()
    }
}

impl<S> Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;

    fn layer(&self, service: S) -> Self::Service {
        let service = match self.max_wait {
            Some(max_wait) => LoadShed::with_max_wait(service, max_wait),
            None => LoadShed::new(service),
        };
        #[cfg(feature = "metrics")]
        let service = service.with_name(self.name.clone());
        service
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
