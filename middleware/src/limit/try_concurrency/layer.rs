use donjon_layer::Layer;

use super::TryConcurrencyLimit;
#[cfg(feature = "metrics")]
use crate::limit::meter;

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
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl TryConcurrencyLimitLayer {
    /// Creates a layer allowing `max` requests at once per service.
    pub const fn new(max: usize) -> Self {
        TryConcurrencyLimitLayer {
            max,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::TRY_CONCURRENCY_LIMIT),
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)):
    /// `"try_concurrency_limit"` unless set.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S> Layer<S> for TryConcurrencyLimitLayer {
    type Service = TryConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        TryConcurrencyLimit::with_parts(
            service,
            self.max,
            #[cfg(feature = "metrics")]
            self.name.clone(),
        )
    }
}
