//! Integration tests of `donjon::tower_compat`: `TowerService`,
//! `DonjonService`, `TowerLayer`, `DonjonLayer`, the `IntoTower` and
//! `IntoDonjon` extension traits and `ServiceBuilder::{tower_layer,
//! into_tower_layer}`, driven by donjon and tower mocks, by real tower
//! middleware (the `tower` crate itself) and by tokio's paused clock.
#![cfg(feature = "tower-compat")]

mod buffer;
mod layers;
mod round_trip;
#[path = "../support/mod.rs"]
mod support;
mod to_donjon;
mod to_tower;
mod traits;

use std::error::Error;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::BoxError;

use support::Boom;

/// The donjon mock the adapters wrap.
pub(crate) type Mock = donjon_test::mock::Mock<&'static str, &'static str>;
/// The handle of [`Mock`].
pub(crate) type Handle = donjon_test::mock::Handle<&'static str, &'static str>;
/// The tower mock (from `tower-test`) the adapters wrap.
pub(crate) type TowerMock = tower_test::mock::Mock<&'static str, &'static str>;
/// The handle of [`TowerMock`].
pub(crate) type TowerHandle = tower_test::mock::Handle<&'static str, &'static str>;

/// A donjon mock and its handle.
pub(crate) fn donjon_pair() -> (Mock, Handle) {
    donjon_test::mock::pair()
}

/// A tower mock and its handle.
pub(crate) fn tower_pair() -> (TowerMock, TowerHandle) {
    tower_test::mock::pair()
}

/// Waits for the next request the tower mock receives, checks it and
/// returns its responder (what `assert_request_eq!` does for donjon mocks).
pub(crate) async fn expect_tower_request(
    handle: &mut TowerHandle,
    expected: &'static str,
) -> tower_test::mock::SendResponse<&'static str> {
    let (request, send_response) = handle
        .next_request()
        .await
        .expect("expected a request but none was received");
    assert_eq!(request, expected);
    send_response
}

/// Finds a `T` in the chain of `error` and its sources.
pub(crate) fn find_in_chain<'a, T: Error + 'static>(
    error: &'a (dyn Error + 'static),
) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

/// `support::Broken`, written against `tower_service` instead, with errors
/// of its own (`Boom("tower readiness")`, `Boom("tower response")`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TowerBroken {
    pub(crate) ready: bool,
}

impl tower_service::Service<&'static str> for TowerBroken {
    type Response = &'static str;
    type Error = Boom;
    type Future = Ready<Result<&'static str, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        if self.ready {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(Boom("tower readiness")))
        }
    }

    fn call(&mut self, _: &'static str) -> Self::Future {
        ready(Err(Boom("tower response")))
    }
}

/// A donjon service with a state of its own: always ready, it answers
/// `request` with `prefix` + `request`. Lets the tests see which service
/// (and which state) a call reached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Prefix(pub(crate) String);

impl donjon::Service<&'static str> for Prefix {
    type Response = String;
    type Error = BoxError;
    type Future = Ready<Result<String, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: &'static str) -> Self::Future {
        ready(Ok(format!("{}{request}", self.0)))
    }
}

/// [`Prefix`], written against `tower_service` instead.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TowerPrefix(pub(crate) String);

impl tower_service::Service<&'static str> for TowerPrefix {
    type Response = String;
    type Error = BoxError;
    type Future = Ready<Result<String, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: &'static str) -> Self::Future {
        ready(Ok(format!("{}{request}", self.0)))
    }
}
