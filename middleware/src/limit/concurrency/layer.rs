use std::sync::Arc;

use donjon_layer::Layer;
use tokio::sync::Semaphore;

use super::ConcurrencyLimit;
use super::permits::Permits;
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps each service in its own [`ConcurrencyLimit`].
///
/// Every service it wraps gets a separate limit of `max`; see
/// [`GlobalConcurrencyLimitLayer`] for one limit shared by all.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct ConcurrencyLimitLayer {
    max: usize,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
}

impl ConcurrencyLimitLayer {
    /// Creates a layer allowing `max` requests at once per service.
    pub const fn new(max: usize) -> Self {
        ConcurrencyLimitLayer {
            max,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::CONCURRENCY_LIMIT),
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)): `"concurrency_limit"`
    /// unless set. Every service it wraps records under that name, so
    /// their gauges add up.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::with_permits(
            service,
            Permits::new(
                self.max,
                #[cfg(feature = "metrics")]
                meter::concurrency(self.name.clone(), true),
            ),
        )
    }
}

/// A [`Layer`] that wraps services in [`ConcurrencyLimit`]s sharing one
/// limit.
///
/// All the services it wraps (and their clones) draw from one semaphore,
/// so together they handle at most `max` requests at once.
///
/// # Examples
///
/// ```
/// use donjon::{BoxError, Layer, ServiceExt, service_fn};
/// use donjon::limit::GlobalConcurrencyLimitLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), BoxError> {
/// let shared = GlobalConcurrencyLimitLayer::new(10);
/// let users = shared.layer(service_fn(|id: u32| async move { Ok::<_, BoxError>(id) }));
/// let orders = shared.layer(service_fn(|id: u32| async move { Ok::<_, BoxError>(id * 100) }));
/// assert_eq!(users.oneshot(1).await? + orders.oneshot(1).await?, 101);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct GlobalConcurrencyLimitLayer {
    permits: Permits,
}

impl GlobalConcurrencyLimitLayer {
    /// Creates a layer whose services share a limit of `max` requests at
    /// once.
    ///
    /// # Panics
    ///
    /// If `max` is more than [`Semaphore::MAX_PERMITS`].
    pub fn new(max: usize) -> Self {
        GlobalConcurrencyLimitLayer {
            permits: Permits::new(
                max,
                #[cfg(feature = "metrics")]
                meter::concurrency(meter::GLOBAL_CONCURRENCY_LIMIT.into(), true),
            ),
        }
    }

    /// Creates a layer whose services share the permits of `semaphore`.
    pub fn with_semaphore(semaphore: Arc<Semaphore>) -> Self {
        GlobalConcurrencyLimitLayer {
            permits: Permits::with_semaphore(
                semaphore,
                #[cfg(feature = "metrics")]
                meter::concurrency(meter::GLOBAL_CONCURRENCY_LIMIT.into(), true),
            ),
        }
    }

    /// Names the shared limit in its metrics (the `name` label; see
    /// [`metrics`](crate::metrics)): `"global_concurrency_limit"` unless
    /// set.
    ///
    /// The handles taken under the default name when the layer was made
    /// stay with the recorder, at zero.
    ///
    /// # Panics
    ///
    /// If the layer was cloned or has wrapped a service already: name the
    /// limit as it is made.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        assert!(
            self.permits
                .set_meter(meter::concurrency(name.into(), true)),
            "GlobalConcurrencyLimitLayer::with_name names the shared limit as it is made: call it \
             before the layer is cloned or wraps a service"
        );
        self
    }
}

impl<S> Layer<S> for GlobalConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::with_permits(service, self.permits.clone())
    }
}
