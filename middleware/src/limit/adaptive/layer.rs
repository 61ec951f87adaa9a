use std::fmt;
use std::marker::PhantomData;

use donjon_layer::Layer;

use super::AdaptiveConcurrencyLimit;
use super::algorithm::Algorithm;
use super::limiter::Limits;
use crate::classify::ErrorsAreFailures;
use crate::discipline::QueueDiscipline;
use crate::limit::concurrency::{Disciplined, Fifo};
#[cfg(feature = "metrics")]
use crate::limit::meter;

/// A [`Layer`] that wraps each service in its own
/// [`AdaptiveConcurrencyLimit`], and the configuration of that limit: the
/// algorithm, the minimum, initial and maximum limits, and the
/// classification of outcomes.
///
/// Every service it wraps gets a separate limiter, with a clone of the
/// algorithm as it is in the layer.
///
/// The limits default to a minimum of 1, a maximum of 1000, and an initial
/// limit of 20 (or the minimum or the maximum, if 20 is out of their
/// range).
///
/// # Panics
///
/// [`layer`](Layer::layer) panics if the minimum limit is above the
/// maximum, or if an initial limit was set outside them.
///
/// # Examples
///
/// ```
/// use donjon::Layer;
/// use donjon::classify::Outcome;
/// use donjon::limit::adaptive::{AdaptiveConcurrencyLimitLayer, Gradient2};
///
/// # #[derive(Clone)] struct Backend;
/// let layer = AdaptiveConcurrencyLimitLayer::new(Gradient2::new())
///     .with_min_limit(4)
///     .with_initial_limit(10)
///     .with_max_limit(200)
///     // A "busy" error is a failure; any other error says nothing.
///     .with_classify(|result: &Result<String, String>| match result {
///         Ok(_) => Outcome::Success,
///         Err(error) if error == "busy" => Outcome::Failure,
///         Err(_) => Outcome::Ignored,
///     });
/// // `Backend` is any service.
/// let service = layer.layer(Backend);
/// assert_eq!(service.handle().limit(), 10);
/// ```
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct AdaptiveConcurrencyLimitLayer<A, C = ErrorsAreFailures, Q = Fifo> {
    algorithm: A,
    classify: C,
    limits: Limits,
    /// The `name` label of the limits' metrics.
    #[cfg(feature = "metrics")]
    name: std::borrow::Cow<'static, str>,
    queue: PhantomData<fn() -> Q>,
}

impl<A> AdaptiveConcurrencyLimitLayer<A> {
    /// Creates a layer whose limits `algorithm` moves, with the default
    /// limits, counting errors as failures.
    pub const fn new(algorithm: A) -> Self {
        AdaptiveConcurrencyLimitLayer {
            algorithm,
            classify: ErrorsAreFailures,
            limits: Limits::DEFAULT,
            #[cfg(feature = "metrics")]
            name: std::borrow::Cow::Borrowed(meter::ADAPTIVE_CONCURRENCY_LIMIT),
            queue: PhantomData,
        }
    }
}

impl<A, C> AdaptiveConcurrencyLimitLayer<A, C> {
    /// Serves the waiters of each limit it makes by `discipline` (see
    /// [`ConcurrencyLimit::with_queue`](crate::limit::ConcurrencyLimit::with_queue)
    /// for what the services then do): their errors are boxed, and a caller
    /// the discipline refuses fails at once with
    /// [`Overloaded`](crate::limit::try_concurrency::error::Overloaded),
    /// without reaching the inner service or feeding the algorithm.
    pub fn with_queue(
        self,
        discipline: QueueDiscipline,
    ) -> AdaptiveConcurrencyLimitLayer<A, C, Disciplined> {
        AdaptiveConcurrencyLimitLayer {
            algorithm: self.algorithm,
            classify: self.classify,
            limits: Limits {
                discipline: Some(discipline),
                ..self.limits
            },
            #[cfg(feature = "metrics")]
            name: self.name,
            queue: PhantomData,
        }
    }
}

impl<A, C, Q> AdaptiveConcurrencyLimitLayer<A, C, Q> {
    /// Sets the lowest the limit can go.
    ///
    /// # Panics
    ///
    /// If `min` is 0: a limit of 0 lets no request through, so no call
    /// could ever raise it again.
    pub const fn with_min_limit(mut self, min: usize) -> Self {
        assert!(
            min > 0,
            "an adaptive concurrency limit's minimum limit must be at least 1"
        );
        self.limits.min = min;
        self
    }

    /// Sets the highest the limit can go.
    pub const fn with_max_limit(mut self, max: usize) -> Self {
        self.limits.max = max;
        self
    }

    /// Sets the limit that services start with, before any call finished.
    ///
    /// It must be between the minimum and the maximum when the layer wraps
    /// a service.
    pub const fn with_initial_limit(mut self, initial: usize) -> Self {
        self.limits.initial = Some(initial);
        self
    }

    /// Sets what a finished call counts as: a success, a failure (a signal
    /// to lower the limit), or neither (not reported to the algorithm).
    ///
    /// See [`Classify`](crate::classify::Classify); the default is
    /// [`ErrorsAreFailures`].
    pub fn with_classify<C2>(self, classify: C2) -> AdaptiveConcurrencyLimitLayer<A, C2, Q> {
        AdaptiveConcurrencyLimitLayer {
            algorithm: self.algorithm,
            classify,
            limits: self.limits,
            #[cfg(feature = "metrics")]
            name: self.name,
            queue: PhantomData,
        }
    }

    /// Names the limits of the services it wraps in their metrics (the
    /// `name` label; see [`metrics`](crate::metrics)):
    /// `"adaptive_concurrency_limit"` unless set. Each service it wraps has
    /// a limit of its own, so give the services of one layer names of
    /// their own (a layer each) when their limits should be told apart.
    #[cfg(feature = "metrics")]
    #[cfg_attr(docsrs, doc(cfg(feature = "metrics")))]
    pub fn with_name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = name.into();
        self
    }
}

impl<S, A: Algorithm + Clone, C: Clone, Q: Default> Layer<S>
    for AdaptiveConcurrencyLimitLayer<A, C, Q>
{
    type Service = AdaptiveConcurrencyLimit<S, A, C, Q>;

    fn layer(&self, service: S) -> Self::Service {
        AdaptiveConcurrencyLimit::with_parts(
            service,
            self.algorithm.clone(),
            self.classify.clone(),
            self.limits,
            #[cfg(feature = "metrics")]
            self.name.clone(),
        )
    }
}

impl<A: fmt::Debug, C, Q> fmt::Debug for AdaptiveConcurrencyLimitLayer<A, C, Q> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdaptiveConcurrencyLimitLayer")
            .field("algorithm", &self.algorithm)
            .field("classify", &format_args!("{}", std::any::type_name::<C>()))
            .field("limits", &self.limits)
            .finish()
    }
}
