use donjon_layer::Layer;

use super::TryConcurrencyLimit;

/// A [`Layer`] that wraps each service in its own [`TryConcurrencyLimit`]
/// of `max` requests at once.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, ServiceBuilder, ServiceExt};
/// use donjon::limit::TryConcurrencyLimitLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let service = ServiceBuilder::new()
///     .layer(TryConcurrencyLimitLayer::new(64))
///     .service_fn(|n: u32| async move { Ok::<_, BoxError>(n + 1) });
/// assert_eq!(service.oneshot(1).await?, 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TryConcurrencyLimitLayer {
    max: usize,
}

impl TryConcurrencyLimitLayer {
    /// Creates a layer allowing `max` requests at once per service.
    pub const fn new(max: usize) -> Self {
        TryConcurrencyLimitLayer { max }
    }
}

impl<S> Layer<S> for TryConcurrencyLimitLayer {
    type Service = TryConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        TryConcurrencyLimit::new(service, self.max)
    }
}
