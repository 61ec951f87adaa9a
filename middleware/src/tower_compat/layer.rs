use super::{DonjonService, TowerService};

/// A donjon [`Layer`](donjon_layer::Layer) seen as a `tower_layer::Layer`,
/// for frameworks that take tower layers (axum's `.layer(..)`, say).
///
/// The tower service it is given is wrapped as a [`DonjonService`] for the
/// donjon layer, and what the donjon layer makes is handed back as a
/// [`TowerService`].
///
/// Made by [`TowerLayer::new`] or
/// [`ServiceBuilder::into_tower_layer`](crate::ServiceBuilder::into_tower_layer).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use donjon::tower_compat::TowerLayer;
/// use donjon::timeout::TimeoutLayer;
///
/// /// A framework function that takes any tower layer.
/// fn takes_a_tower_layer<L: tower_layer::Layer<S>, S>(layer: L, service: S) -> L::Service {
///     layer.layer(service)
/// }
///
/// let layer = TowerLayer::new(TimeoutLayer::new(Duration::from_secs(1)));
/// let _service = takes_a_tower_layer(layer, donjon::service_fn(|()| async { Ok::<_, donjon::BoxError>(()) }).into_tower());
/// # use donjon::tower_compat::IntoTower;
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct TowerLayer<L> {
    inner: L,
}

impl<L> TowerLayer<L> {
    /// Wraps the donjon layer `inner`.
    pub const fn new(inner: L) -> Self {
        TowerLayer { inner }
    }

    /// Returns the donjon layer.
    pub fn into_inner(self) -> L {
        self.inner
    }
}

impl<S, L> tower_layer::Layer<S> for TowerLayer<L>
where
    L: donjon_layer::Layer<DonjonService<S>>,
{
    type Service = TowerService<L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        TowerService::new(self.inner.layer(DonjonService::new(inner)))
    }
}

/// A `tower_layer::Layer` (tower-http's, say) seen as a donjon
/// [`Layer`](donjon_layer::Layer), for a
/// [`ServiceBuilder`](crate::ServiceBuilder).
///
/// The donjon service it is given is wrapped as a [`TowerService`] for the
/// tower layer, and what the tower layer makes is handed back as a
/// [`DonjonService`].
///
/// Made by [`DonjonLayer::new`] or
/// [`ServiceBuilder::tower_layer`](crate::ServiceBuilder::tower_layer).
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct DonjonLayer<L> {
    inner: L,
}

impl<L> DonjonLayer<L> {
    /// Wraps the tower layer `inner`.
    pub const fn new(inner: L) -> Self {
        DonjonLayer { inner }
    }

    /// Returns the tower layer.
    pub fn into_inner(self) -> L {
        self.inner
    }
}

impl<S, L> donjon_layer::Layer<S> for DonjonLayer<L>
where
    L: tower_layer::Layer<TowerService<S>>,
{
    type Service = DonjonService<L::Service>;

    fn layer(&self, inner: S) -> Self::Service {
        DonjonService::new(self.inner.layer(TowerService::new(inner)))
    }
}
