use std::marker::PhantomData;
use std::sync::Arc;

use donjon_layer::Layer;
use tokio::sync::Semaphore;

use super::permits::Permits;
use super::{ConcurrencyLimit, Disciplined, Fifo};
use crate::discipline::{QueueDelay, QueueDiscipline};
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps each service in its own [`ConcurrencyLimit`].
///
/// Every service it wraps gets a separate limit of `max`; see
/// [`GlobalConcurrencyLimitLayer`] for one limit shared by all.
/// [`with_queue`](Self::with_queue) serves each limit's waiters by a
/// [`QueueDiscipline`].
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct ConcurrencyLimitLayer<Q = Fifo> {
    max: usize,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
    discipline: QueueDiscipline,
    queue: PhantomData<fn() -> Q>,
}

impl ConcurrencyLimitLayer {
    /// Creates a layer allowing `max` requests at once per service.
    pub const fn new(max: usize) -> Self {
        ConcurrencyLimitLayer {
            max,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::CONCURRENCY_LIMIT),
            discipline: QueueDiscipline::fifo(),
            queue: PhantomData,
        }
    }

    /// Serves the waiters of each limit it makes by `discipline`: see
    /// [`ConcurrencyLimit::with_queue`].
    pub fn with_queue(self, discipline: QueueDiscipline) -> ConcurrencyLimitLayer<Disciplined> {
        ConcurrencyLimitLayer {
            max: self.max,
            #[cfg(feature = "metrics")]
            name: self.name,
            discipline,
            queue: PhantomData,
        }
    }
}

impl<Q> ConcurrencyLimitLayer<Q> {
    /// A new limit's permits.
    fn permits(&self) -> Permits {
        Permits::new(
            self.max,
            #[cfg(feature = "metrics")]
            meter::concurrency(self.name.clone(), true),
        )
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
        ConcurrencyLimit::with_permits(service, self.permits())
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer<Disciplined> {
    type Service = ConcurrencyLimit<S, Disciplined>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::with_permits(service, self.permits()).with_queue(self.discipline)
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
pub struct GlobalConcurrencyLimitLayer<Q = Fifo> {
    permits: Permits,
    queue: PhantomData<fn() -> Q>,
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
            queue: PhantomData,
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
            queue: PhantomData,
        }
    }

    /// Serves the waiters of the shared limit by `discipline`: see
    /// [`ConcurrencyLimit::with_queue`].
    ///
    /// # Panics
    ///
    /// If the layer was made with a user's semaphore, was cloned, or has
    /// wrapped a service already: set the discipline as the layer is made.
    pub fn with_queue(
        mut self,
        discipline: QueueDiscipline,
    ) -> GlobalConcurrencyLimitLayer<Disciplined> {
        assert!(
            self.permits.set_discipline(discipline),
            "GlobalConcurrencyLimitLayer::with_queue sets the discipline of the shared limit as \
             it is made: call it before the layer is cloned or wraps a service, and not for a \
             limit over a user's semaphore"
        );
        GlobalConcurrencyLimitLayer {
            permits: self.permits,
            queue: PhantomData,
        }
    }
}

impl GlobalConcurrencyLimitLayer<Disciplined> {
    /// How long the oldest caller waiting for a permit of the shared limit
    /// has waited so far.
    pub fn queue_delay(&self) -> QueueDelay {
        self.permits
            .queue_delay()
            .expect("a disciplined limit's gate has a discipline")
    }
}

impl<Q> GlobalConcurrencyLimitLayer<Q> {
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

impl<S> Layer<S> for GlobalConcurrencyLimitLayer<Disciplined> {
    type Service = ConcurrencyLimit<S, Disciplined>;

    fn layer(&self, service: S) -> Self::Service {
        ConcurrencyLimit::with_shared_permits(service, self.permits.clone())
    }
}
