//! Integration tests of `donjon::limit`: `ConcurrencyLimit` and `RateLimit`,
//! their layers and their `ServiceBuilder` methods, driven by mock inner
//! services (and tokio's paused clock for the rate limit), and the adaptive
//! concurrency limit (`adaptive`).
#![cfg(feature = "limit")]

#[path = "../support/mod.rs"]
mod support;

mod adaptive;
mod concurrency;
mod given_up;
mod props;
mod rate;
mod try_concurrency;

use std::error::Error;
use std::fmt;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use donjon::Service;
use donjon_test::mock;

/// The mock the limits wrap.
pub(crate) type Mock = mock::Mock<&'static str, &'static str>;
/// The handle of [`Mock`].
pub(crate) type Handle = mock::Handle<&'static str, &'static str>;

/// An error with a type of its own, to check that errors reach the caller
/// unchanged.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Boom(pub(crate) &'static str);

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "boom: {}", self.0)
    }
}

impl Error for Boom {}

/// Always ready; answers each request with itself, at once. Unlike the mock
/// it never panics, so a panic in `call` can only come from the middleware
/// under test.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Echo;

impl<T> Service<T> for Echo {
    type Response = T;
    type Error = Boom;
    type Future = Ready<Result<T, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: T) -> Self::Future {
        ready(Ok(request))
    }
}

/// Its readiness (when `ready` is false) or else its responses fail with
/// `Boom`, whose type is its error type (not boxed).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Broken {
    pub(crate) ready: bool,
}

impl<T> Service<T> for Broken {
    type Response = T;
    type Error = Boom;
    type Future = Ready<Result<T, Boom>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Boom>> {
        if self.ready {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(Boom("readiness")))
        }
    }

    fn call(&mut self, _: T) -> Self::Future {
        ready(Err(Boom("response")))
    }
}
