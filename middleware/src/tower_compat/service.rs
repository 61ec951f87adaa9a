use std::task::{Context, Poll};

/// A donjon [`Service`](donjon_service::Service) seen as a
/// `tower_service::Service`, with everything forwarded unchanged.
///
/// Made by [`IntoTower::into_tower`](super::IntoTower::into_tower) or
/// [`TowerService::new`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TowerService<S> {
    inner: S,
}

impl<S> TowerService<S> {
    /// Wraps the donjon service `inner`.
    pub const fn new(inner: S) -> Self {
        TowerService { inner }
    }

    /// Returns a reference to the donjon service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the donjon service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the donjon service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> tower_service::Service<Req> for TowerService<S>
where
    S: donjon_service::Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call(request)
    }
}

/// A `tower_service::Service` seen as a donjon
/// [`Service`](donjon_service::Service), with everything forwarded
/// unchanged.
///
/// Made by [`IntoDonjon::into_donjon`](super::IntoDonjon::into_donjon) or
/// [`DonjonService::new`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DonjonService<S> {
    inner: S,
}

impl<S> DonjonService<S> {
    /// Wraps the tower service `inner`.
    pub const fn new(inner: S) -> Self {
        DonjonService { inner }
    }

    /// Returns a reference to the tower service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Returns a mutable reference to the tower service.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Returns the tower service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Req> donjon_service::Service<Req> for DonjonService<S>
where
    S: tower_service::Service<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, request: Req) -> S::Future {
        self.inner.call(request)
    }
}
