//! [`EjectableLayer`]: wraps services in [`Ejectable`]s of one detector.

use std::fmt;

use donjon_layer::Layer;

use super::{Detector, Ejectable};
use crate::classify::ErrorsAreFailures;

/// A [`Layer`] that wraps each service in an [`Ejectable`] registered with
/// one [`Detector`]: apply it to each endpoint of a set (all share the
/// detector, and the share of ejected endpoints is counted over them).
///
/// Made by [`OutlierDetection::layer`](super::OutlierDetection::layer) or
/// [`Detector::layer`]. For endpoints that come from a
/// [`Discover`](crate::discover::Discover), see
/// [`OutlierDiscover`](super::OutlierDiscover).
///
/// # Examples
///
/// ```
/// use donjon::balance::outlier::OutlierDetection;
/// use donjon::{BoxError, Layer, service_fn};
///
/// let layer = OutlierDetection::new().layer();
/// let endpoint = |()| async { Ok::<_, BoxError>("pong") };
/// let a = layer.layer(service_fn(endpoint));
/// let b = layer.layer(service_fn(endpoint));
/// assert_ne!(a.id(), b.id());
/// assert_eq!(layer.detector().len(), 2);
/// drop(a);
/// assert_eq!(layer.detector().len(), 1, "a dropped endpoint unregisters");
/// ```
#[derive(Clone)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct EjectableLayer<C = ErrorsAreFailures> {
    detector: Detector<C>,
}

impl<C> EjectableLayer<C> {
    /// A layer registering services with `detector`.
    pub const fn new(detector: Detector<C>) -> Self {
        EjectableLayer { detector }
    }

    /// The detector the services are registered with.
    pub fn detector(&self) -> &Detector<C> {
        &self.detector
    }
}

impl<S, C> Layer<S> for EjectableLayer<C> {
    type Service = Ejectable<S, C>;

    fn layer(&self, service: S) -> Ejectable<S, C> {
        Ejectable::new(service, &self.detector)
    }
}

impl<C> fmt::Debug for EjectableLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EjectableLayer")
            .field("detector", &self.detector)
            .finish()
    }
}
