use donjon_layer::Layer;

use super::{Gcra, Quota};

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
}

impl GcraLayer {
    /// Creates a layer limiting each service it wraps to `quota`.
    pub const fn new(quota: Quota) -> Self {
        GcraLayer { quota }
    }
}

impl<S> Layer<S> for GcraLayer {
    type Service = Gcra<S>;

    fn layer(&self, service: S) -> Self::Service {
        Gcra::new(service, self.quota)
    }
}
