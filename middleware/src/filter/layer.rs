use donjon_layer::Layer;

use super::{AsyncFilter, Filter};

/// A [`Layer`] that wraps services in a [`Filter`] with a clone of its
/// predicate.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct FilterLayer<P> {
    predicate: P,
}

impl<P> FilterLayer<P> {
    /// Creates a layer checking requests with `predicate`.
    pub const fn new(predicate: P) -> Self {
        FilterLayer { predicate }
    }
}

impl<P: Clone, S> Layer<S> for FilterLayer<P> {
    type Service = Filter<S, P>;

    fn layer(&self, service: S) -> Self::Service {
        Filter::new(service, self.predicate.clone())
    }
}

/// A [`Layer`] that wraps services in an [`AsyncFilter`] with a clone of its
/// predicate.
///
/// Build it with [`AsyncFilterLayer::new`] (or
/// [`ServiceBuilder::filter_async`](crate::ServiceBuilder::filter_async)):
/// [`AsyncFilter::layer`] returns a [`FilterLayer`], as tower's does.
#[derive(Debug, Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct AsyncFilterLayer<P> {
    predicate: P,
}

impl<P> AsyncFilterLayer<P> {
    /// Creates a layer checking requests with the asynchronous `predicate`.
    pub const fn new(predicate: P) -> Self {
        AsyncFilterLayer { predicate }
    }
}

impl<P: Clone, S> Layer<S> for AsyncFilterLayer<P> {
    type Service = AsyncFilter<S, P>;

    fn layer(&self, service: S) -> Self::Service {
        AsyncFilter::new(service, self.predicate.clone())
    }
}
