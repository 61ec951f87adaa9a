use super::{DonjonService, TowerService};

/// Adds [`into_tower`](IntoTower::into_tower) to every donjon service.
pub trait IntoTower<Request>: donjon_service::Service<Request> {
    /// Shows this service as a `tower_service::Service`.
    fn into_tower(self) -> TowerService<Self>
    where
        Self: Sized,
    {
        TowerService::new(self)
    }
}

impl<S, Request> IntoTower<Request> for S where S: donjon_service::Service<Request> + ?Sized {}

/// Adds [`into_donjon`](IntoDonjon::into_donjon) to every tower service.
pub trait IntoDonjon<Request>: tower_service::Service<Request> {
    /// Shows this tower service as a donjon
    /// [`Service`](donjon_service::Service).
    fn into_donjon(self) -> DonjonService<Self>
    where
        Self: Sized,
    {
        DonjonService::new(self)
    }
}

impl<S, Request> IntoDonjon<Request> for S where S: tower_service::Service<Request> + ?Sized {}
