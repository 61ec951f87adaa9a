use donjon_layer::Layer;

use super::{Gcra, Quota};
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps each service in its own [`Gcra`] limit.
///
/// Each service it wraps gets its own limit; clones of one of those
/// services share that service's limit.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
/// use donjon::limit::gcra::{GcraLayer, Quota};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = ServiceBuilder::new()
///     .layer(GcraLayer::new(Quota::per_second(50)?.with_burst(5)?))
///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
/// assert_eq!(service.oneshot(1).await?, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct GcraLayer {
    quota: Quota,
    /// The `name` label of the limits' metrics: a `&'static str`, so that
    /// the layer stays `Copy` with the `metrics` feature.
    #[cfg(feature = "metrics")]
    name: &'static str,
}

impl GcraLayer {
    /// Creates a layer limiting each service it wraps to `quota`.
    pub const fn new(quota: Quota) -> Self {
        GcraLayer {
            quota,
            #[cfg(feature = "metrics")]
            name: meter::GCRA,
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)): `"gcra"` unless set.
    ///
    /// The layer is `Copy`, so the name is a `&'static str`; to give a name
    /// made at run time, name the service:
    /// [`Gcra::with_name`](super::Gcra::with_name).
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub const fn with_name(mut self, name: &'static str) -> Self {
        self.name = name;
        self
    }
}

impl<S> Layer<S> for GcraLayer {
    type Service = Gcra<S>;

    fn layer(&self, service: S) -> Self::Service {
        Gcra::with_parts(
            service,
            self.quota,
            #[cfg(feature = "metrics")]
            self.name.into(),
        )
    }
}
