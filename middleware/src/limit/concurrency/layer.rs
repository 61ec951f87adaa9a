use std::sync::Arc;

use donjon_layer::Layer;
use tokio::sync::Semaphore;

use super::ConcurrencyLimit;
use super::permits::Permits;

/// A [`Layer`] that wraps each service in its own [`ConcurrencyLimit`].
///
/// Every service it wraps gets a separate limit of `max`; see
/// [`GlobalConcurrencyLimitLayer`] for one limit shared by all.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct ConcurrencyLimitLayer {
    max: usize,
}

impl ConcurrencyLimitLayer {
    /// Creates a layer allowing `max` requests at once per service.
    pub const fn new(max: usize) -> Self {
        ConcurrencyLimitLayer { max }
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::new(service, self.max)
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
            permits: Permits::new(max),
        }
    }

    /// Creates a layer whose services share the permits of `semaphore`.
    pub fn with_semaphore(semaphore: Arc<Semaphore>) -> Self {
        GlobalConcurrencyLimitLayer {
            permits: Permits::with_semaphore(semaphore),
        }
    }
}

impl<S> Layer<S> for GlobalConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::with_permits(service, self.permits.clone())
    }
}
