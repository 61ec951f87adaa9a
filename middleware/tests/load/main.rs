//! Integration tests of `donjon::load`: `Constant`, `PendingRequests` and
//! `PeakEwma` (on tokio's paused clock) around mock services, completion
//! tracking, the `Discover` wrappers, and `Load` forwarded by the limits.
#![cfg(feature = "load")]

#[path = "../support/mod.rs"]
mod support;

mod completion;
mod constant;
#[cfg(feature = "limit")]
mod limits_forward_load;
mod peak_ewma_load;
mod pending_requests_load;

use std::future::ready;
use std::sync::Arc;
use std::time::Duration;

use donjon::BoxError;
use donjon::load::completion::TrackCompletionFuture;
use donjon::load::peak_ewma::{self, Cost};
use donjon::load::pending_requests::{self, Count};
use donjon::load::{
    CompleteOnResponse, Constant, Load, PeakEwma, PendingRequests, TrackCompletion,
};
use donjon_test::assert_request_eq;
use donjon_test::mock::{self, Spawn};
use tokio::time::advance;
use tokio_test::{assert_pending, assert_ready_err, assert_ready_ok, task};

use support::{Echo, Tally, assert_readiness_follows_mock};

type Mock = mock::Mock<&'static str, &'static str>;
type Handle = mock::Handle<&'static str, &'static str>;

/// Reads a service's load through the trait, as a balancer would.
fn load_of<S: Load>(service: &S) -> S::Metric {
    service.load()
}

/// Keeps the load handle with the response, so that the request counts until
/// the response is dropped.
#[derive(Clone, Copy, Debug)]
struct KeepHandle;

impl<H, V> TrackCompletion<H, V> for KeepHandle {
    type Output = (V, H);

    fn track_completion(&self, handle: H, value: V) -> (V, H) {
        (value, handle)
    }
}
