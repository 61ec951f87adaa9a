use super::{DonjonService, TowerService};

/// Adds [`into_tower`](IntoTower::into_tower) to every type, to show a donjon
/// service as a tower one.
///
/// It carries no request type, so that it also works on services that take
/// several: what it makes is a `tower_service::Service<Req>` for every `Req`
/// the donjon service takes.
pub trait IntoTower: Sized {
    /// Shows this donjon service as a `tower_service::Service`.
    fn into_tower(self) -> TowerService<Self> {
        TowerService::new(self)
    }
}

impl<S> IntoTower for S {}

/// Adds [`into_donjon`](IntoDonjon::into_donjon) to every type, to show a
/// tower service as a donjon one.
///
/// It carries no request type, so that it also works on services that take
/// several: what it makes is a donjon `Service<Req>` for every `Req` the tower
/// service takes.
pub trait IntoDonjon: Sized {
    /// Shows this tower service as a donjon
    /// [`Service`](donjon_service::Service).
    fn into_donjon(self) -> DonjonService<Self> {
        DonjonService::new(self)
    }
}

impl<S> IntoDonjon for S {}
