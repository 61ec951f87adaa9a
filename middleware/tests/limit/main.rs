//! Integration tests of `donjon::limit`: `ConcurrencyLimit` and `RateLimit`,
//! their layers and their `ServiceBuilder` methods, driven by mock inner
//! services (and tokio's paused clock for the rate limit), and the adaptive
//! concurrency limit (`adaptive`).
#![cfg(feature = "limit")]

#[path = "../support/mod.rs"]
mod support;

mod adaptive;
mod concurrency;
mod discipline;
mod given_up;
mod props;
mod rate;
mod try_concurrency;

use donjon_test::mock;

/// The mock the limits wrap.
pub(crate) type Mock = mock::Mock<&'static str, &'static str>;
/// The handle of [`Mock`].
pub(crate) type Handle = mock::Handle<&'static str, &'static str>;
